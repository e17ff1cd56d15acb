#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { datasetStats, formatStats, loadDataset } from '@malloc/data';
import { buildSite } from '@malloc/report';
import { runBench, type BenchOutcome } from './bench';
import { allMethods } from './cells';
import { readConfigFile, resolveConfig, validateConfigInput, type RunConfigInput } from './config';
import { HELP, commandHelp } from './help';
import { createConsoleLogger, type Logger } from './logger';
import { INTERRUPTED_EXIT_STATUS, RunInterruptedError, installStopHandlers, type StopRequest } from './interrupt';
import { dataDownloadCommand } from './data-download';
import { mergeResults } from './merge';
import { planCommand } from './plan';
import { enqueueShards, runWorker } from './queue';
import { invalidOption, unknownCommand } from './messages';
import { formatMethodsTable } from './methods-table';
import { createLineProgress, createTerminalProgress, type ProgressReporter } from './progress';
import { parseShard } from './shard';

/** Commands of `malloc`, in the order `--help` lists them. */
export const COMMANDS = ['bench', 'merge', 'enqueue', 'worker', 'report', 'data stats', 'data download', 'methods', 'plan'] as const;

/** Services of the process around {@link main}, besides output and logger. */
export interface CliContext {
  /** Progress of `bench`; default: none (the logger's lines only). */
  progress?: ProgressReporter;
  /** Stop request of `bench`; default: SIGINT and SIGTERM handlers installed for the run. */
  stop?: StopRequest;
}

/** Exit status: 0 success, 1 some cells failed, 2 invalid usage or input, 130 interrupted. */
export async function main(argv: string[], stdout: (text: string) => void, logger: Logger, context: CliContext = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    stdout(HELP);
    return 0;
  }
  if (command === '--version') {
    stdout(`${(require('../package.json') as { version: string }).version}\n`);
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const name = command === 'data' ? `data ${rest[0] ?? 'stats'}` : command;
    stdout(commandHelp(name));
    return 0;
  }
  switch (command) {
    case 'bench':
      return bench(rest, stdout, logger, context);
    case 'merge':
      return merge(rest, logger);
    case 'enqueue':
      return enqueue(rest, logger);
    case 'worker':
      return worker(rest, logger, context);
    case 'report':
      return report(rest, logger);
    case 'data':
      if (rest[0] === 'download') {
        return dataDownloadCommand(rest.slice(1), stdout, logger);
      }
      if (rest[0] !== 'stats') {
        throw new RangeError(unknownCommand(`data ${rest[0] ?? ''}`.trim(), COMMANDS));
      }
      return dataStats(rest.slice(1), stdout, logger);
    case 'plan':
      return planCommand(rest, stdout);
    case 'methods':
      stdout(`${formatMethodsTable(allMethods())}\n`);
      return 0;
    default:
      throw new RangeError(unknownCommand(command, COMMANDS));
  }
}

async function bench(args: string[], stdout: (text: string) => void, logger: Logger, context: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      preset: { type: 'string' },
      task: { type: 'string' },
      impressions: { type: 'string' },
      config: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      models: { type: 'string' },
      strategies: { type: 'string' },
      ratios: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      seeds: { type: 'string' },
      epochs: { type: 'string' },
      'train-workers': { type: 'string' },
      users: { type: 'string' },
      'no-report': { type: 'boolean' },
      shard: { type: 'string' },
    },
  });
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);

  // Command-line values form the highest layer of the configuration.
  const cli: Record<string, unknown> = {};
  const training: Record<string, unknown> = {};
  const evaluation: Record<string, unknown> = {};
  if (values.preset !== undefined) cli.preset = values.preset;
  if (values.task !== undefined) cli.task = values.task;
  if (values.impressions !== undefined) evaluation.impressions = parseInteger('--impressions', values.impressions);
  if (values.dataset !== undefined) cli.dataset = values.dataset;
  if (values['data-dir'] !== undefined) cli.dataDir = values['data-dir'];
  if (values.models !== undefined) cli.models = splitList(values.models);
  if (values.strategies !== undefined) cli.strategies = splitList(values.strategies);
  if (values.ratios !== undefined) cli.compressionRatios = splitList(values.ratios).map((text) => parseNumber('--ratios', text));
  if (values.out !== undefined) cli.out = values.out;
  if (values.backend !== undefined) cli.backend = values.backend;
  if (values.seed !== undefined) cli.seeds = [parseInteger('--seed', values.seed)];
  if (values.seeds !== undefined) cli.seeds = splitList(values.seeds).map((text) => parseInteger('--seeds', text));
  if (values.epochs !== undefined) training.epochs = parseInteger('--epochs', values.epochs);
  if (values['train-workers'] !== undefined) training.workers = parseInteger('--train-workers', values['train-workers']);
  if (values.users !== undefined) evaluation.maxUsers = parseInteger('--users', values.users);
  if (values['no-report'] === true) cli.report = false;
  if (Object.keys(training).length > 0) cli.training = training;
  if (Object.keys(evaluation).length > 0) cli.evaluation = evaluation;

  const fileInput = values.config === undefined ? null : readConfigFile(values.config);
  const cliInput: RunConfigInput = validateConfigInput(cli, 'the command line');
  const config = resolveConfig(fileInput, cliInput);

  // Ctrl-C stops between users, training steps or groups; finished rows stay.
  const handlers = context.stop === undefined ? installStopHandlers(logger) : null;
  const stop = context.stop ?? handlers?.request;
  let outcome: BenchOutcome;
  try {
    outcome = await runBench(config, logger, { shard, stop, progress: context.progress });
  } catch (error) {
    if (error instanceof RunInterruptedError) {
      logger.warn(error.message);
      return INTERRUPTED_EXIT_STATUS;
    }
    throw error;
  } finally {
    handlers?.remove();
  }
  stdout(`${outcome.summary}\n`);
  stdout(`\nResults: ${outcome.resultsPath}\n`);
  if (outcome.sitePath !== null) {
    stdout(`Site: ${outcome.sitePath}/index.html\n`);
  }
  return outcome.cellsFailed > 0 ? 1 : 0;
}

async function merge(args: string[], logger: Logger): Promise<number> {
  const { values, positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: { into: { type: 'string' } } });
  if (values.into === undefined) {
    throw new RangeError(invalidOption('--into', '', 'the new folder that receives the merged results.jsonl'));
  }
  mergeResults(values.into, positionals, logger);
  return 0;
}

async function enqueue(args: string[], logger: Logger): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { redis: { type: 'string' }, queue: { type: 'string' }, shards: { type: 'string' }, config: { type: 'string' }, preset: { type: 'string' } } });
  const redis = requireOption('--redis', values.redis, 'a redis:// URL');
  const queue = requireOption('--queue', values.queue, 'a queue name');
  const shards = parseInteger('--shards', requireOption('--shards', values.shards, 'the number of shards'));
  if (shards < 1) {
    throw new RangeError(invalidOption('--shards', String(shards), 'an integer ≥ 1'));
  }
  const fileInput = values.config === undefined ? null : readConfigFile(values.config);
  const cliInput: RunConfigInput = validateConfigInput(values.preset === undefined ? {} : { preset: values.preset }, 'the command line');
  await enqueueShards({ redis, queue, shards, config: resolveConfig(fileInput, cliInput), logger });
  return 0;
}

async function worker(args: string[], logger: Logger, context: CliContext): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { redis: { type: 'string' }, queue: { type: 'string' }, out: { type: 'string' }, 'until-drained': { type: 'boolean' } } });
  const redis = requireOption('--redis', values.redis, 'a redis:// URL');
  const queue = requireOption('--queue', values.queue, 'a queue name');
  const handlers = context.stop === undefined ? installStopHandlers(logger) : null;
  try {
    await runWorker({ redis, queue, logger, out: values.out, stop: context.stop ?? handlers?.request, untilDrained: values['until-drained'] === true, progress: context.progress });
  } finally {
    handlers?.remove();
  }
  return (context.stop ?? handlers?.request)?.stopped === true ? INTERRUPTED_EXIT_STATUS : 0;
}

function requireOption(option: string, value: string | undefined, expected: string): string {
  if (value === undefined || value === '') {
    throw new RangeError(invalidOption(option, '', expected));
  }
  return value;
}

async function report(args: string[], logger: Logger): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { results: { type: 'string', multiple: true }, site: { type: 'string' } } });
  if (values.results === undefined || values.results.length === 0) {
    throw new RangeError(invalidOption('--results', '', 'one or more results folders or results.jsonl files'));
  }
  if (values.site === undefined) {
    throw new RangeError(invalidOption('--site', '', 'the output folder of the site'));
  }
  const results = values.results.flatMap(splitList);
  const site = await buildSite({ results, site: values.site, logger });
  logger.info(`Built ${site.pages.length} pages from ${site.rows} rows into ${values.site}`);
  return 0;
}

async function dataStats(args: string[], stdout: (text: string) => void, logger: Logger): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { dataset: { type: 'string' }, 'data-dir': { type: 'string' } } });
  // The preprocessing steps are printed on stdout below, so only warnings go to the log.
  const quiet: Logger = { warn: (message) => logger.warn(message), info: () => undefined, debug: (message) => logger.debug(message) };
  const dataset = await loadDataset(values.dataset ?? 'synthetic', { dataDir: values['data-dir'], logger: quiet });
  stdout(`${formatStats(datasetStats(dataset))}\n`);
  for (const step of dataset.report.steps) {
    stdout(`${step}\n`);
  }
  return 0;
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function parseNumber(option: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new RangeError(invalidOption(option, text, 'a number'));
  }
  return value;
}

function parseInteger(option: string, text: string): number {
  const value = parseNumber(option, text);
  if (!Number.isInteger(value)) {
    throw new RangeError(invalidOption(option, text, 'an integer'));
  }
  return value;
}

/** Runs the `malloc` process: arguments from argv, output to stdout, logs to stderr. */
export function runCli(): void {
  // Bars with rate and time left on a terminal; plain log lines otherwise.
  const verbose = process.env.MALLOC_VERBOSE === '1';
  const terminal = process.stderr.isTTY ? createTerminalProgress(process.stderr, verbose) : null;
  const logger = terminal?.logger ?? createConsoleLogger(verbose);
  const progress = terminal?.progress ?? createLineProgress(logger);

  // bench and worker stop cleanly on a signal. The handlers stay for the life of the process,
  // so a signal that arrives after the run has finished is harmless.
  const command = process.argv[2];
  const stop = command === 'bench' || command === 'worker' ? installStopHandlers(logger).request : undefined;
  main(process.argv.slice(2), (text) => process.stdout.write(text), logger, { progress, stop }).then(
    (status) => {
      terminal?.close();
      process.exitCode = status;
    },
    (error: unknown) => {
      terminal?.close();
      process.stderr.write(`malloc: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}

if (require.main === module) {
  runCli();
}
