#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { datasetStats, formatStats, loadDataset } from '@malloc/data';
import { buildSite } from '@malloc/report';
import { runBench } from './bench';
import { allMethods } from './cells';
import { readConfigFile, resolveConfig, validateConfigInput, type RunConfigInput } from './config';
import { HELP, commandHelp } from './help';
import { createConsoleLogger, type Logger } from './logger';
import { invalidOption, unknownCommand } from './messages';
import { formatMethodsTable } from './methods-table';

/** Commands of `malloc`, in the order `--help` lists them. */
export const COMMANDS = ['bench', 'report', 'data stats', 'methods'] as const;

/** Exit status: 0 success, 1 some cells failed, 2 invalid usage or input. */
export async function main(argv: string[], stdout: (text: string) => void, logger: Logger): Promise<number> {
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
      return bench(rest, stdout, logger);
    case 'report':
      return report(rest, logger);
    case 'data':
      if (rest[0] !== 'stats') {
        throw new RangeError(unknownCommand(`data ${rest[0] ?? ''}`.trim(), COMMANDS));
      }
      return dataStats(rest.slice(1), stdout, logger);
    case 'methods':
      stdout(`${formatMethodsTable(allMethods())}\n`);
      return 0;
    default:
      throw new RangeError(unknownCommand(command, COMMANDS));
  }
}

async function bench(args: string[], stdout: (text: string) => void, logger: Logger): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      preset: { type: 'string' },
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
      users: { type: 'string' },
      'no-report': { type: 'boolean' },
    },
  });

  // Command-line values form the highest layer of the configuration.
  const cli: Record<string, unknown> = {};
  const training: Record<string, unknown> = {};
  const evaluation: Record<string, unknown> = {};
  if (values.preset !== undefined) cli.preset = values.preset;
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
  if (values.users !== undefined) evaluation.maxUsers = parseInteger('--users', values.users);
  if (values['no-report'] === true) cli.report = false;
  if (Object.keys(training).length > 0) cli.training = training;
  if (Object.keys(evaluation).length > 0) cli.evaluation = evaluation;

  const fileInput = values.config === undefined ? null : readConfigFile(values.config);
  const cliInput: RunConfigInput = validateConfigInput(cli, 'the command line');
  const config = resolveConfig(fileInput, cliInput);
  const outcome = await runBench(config, logger);
  stdout(`${outcome.summary}\n`);
  stdout(`\nResults: ${outcome.resultsPath}\n`);
  if (outcome.sitePath !== null) {
    stdout(`Site: ${outcome.sitePath}/index.html\n`);
  }
  return outcome.cellsFailed > 0 ? 1 : 0;
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
  const dataset = await loadDataset(values.dataset ?? 'synthetic', { dataDir: values['data-dir'], logger });
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

if (require.main === module) {
  const logger = createConsoleLogger(process.env.MALLOC_VERBOSE === '1');
  main(process.argv.slice(2), (text) => process.stdout.write(text), logger).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(`malloc: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
