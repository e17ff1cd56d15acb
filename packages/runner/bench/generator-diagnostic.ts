// Checks that the synthetic generator's long-term structure matters to a trained model. It
// generates two datasets, one with strong long-term structure and one without, trains SASRec
// on each through `runBench` (the function behind `malloc bench`), and prints how much
// `ndcg@10` the `window` strategy at compression ratio 0.875 loses against `full`.
//
// Usage: nice -n 10 npx tsx --tsconfig packages/runner/bench/tsconfig.json packages/runner/bench/generator-diagnostic.ts \
//          [--users 1000] [--length 200] [--epochs 20] [--hidden 32] [--seed 1] [--out DIR] [--datasets strong,without]
//
// The target: the strong dataset loses at least 20 % of `ndcg@10`, the other under 5 %.
// Results and checkpoints go to `--out` (default: a new folder in the temporary directory),
// so a rerun with the same `--out` reuses the trained models.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type RunConfig, type SyntheticSettings } from '../src/config';
import { runBench } from '../src/bench';
import { readResults } from '../src/results-store';
import { createConsoleLogger } from '../src/logger';

interface Args {
  users: number;
  length: number;
  epochs: number;
  hidden: number;
  seed: number;
  out: string | null;
  datasets: Array<'strong' | 'without'>;
}

const USAGE = 'usage: generator-diagnostic.ts [--users N] [--length N] [--epochs N] [--hidden N] [--seed N] [--out DIR] [--datasets strong,without]';

/** Compression ratio of the `window` cell: the window keeps the newest 12.5 % of the history. */
const WINDOW_RATIO = 0.875;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { users: 1000, length: 200, epochs: 20, hidden: 32, seed: 1, out: null, datasets: ['strong', 'without'] };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) {
      throw new RangeError(`generator-diagnostic: option ${argv[i]} is missing its value; ${USAGE}`);
    }
    const key = argv[i].replace(/^--/, '');
    if (key === 'out') {
      args.out = value;
    } else if (key === 'datasets') {
      const names = value.split(',');
      if (names.length === 0 || names.some((name) => name !== 'strong' && name !== 'without')) {
        throw new RangeError(`generator-diagnostic: option --datasets must list strong and/or without, received '${value}'; ${USAGE}`);
      }
      args.datasets = names as Args['datasets'];
    } else if (key === 'users' || key === 'length' || key === 'epochs' || key === 'hidden' || key === 'seed') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < (key === 'seed' ? 0 : 1)) {
        throw new RangeError(`generator-diagnostic: option --${key} must be a positive integer, received '${value}'; ${USAGE}`);
      }
      args[key] = number;
    } else {
      throw new RangeError(`generator-diagnostic: unknown option ${argv[i]}; ${USAGE}`);
    }
  }
  return args;
}

/**
 * Generator settings of the two datasets. Both share sessions along topic orders, popularity
 * skew and lengths; only the long-term structure differs. Topics of 100 items keep a user's
 * walks through a topic from wrapping around to items already in the history.
 *
 * Strong: each user's 8 interest topics fill the first 25 % of the history, and every later
 * session returns to one of them, starting on the most popular item the user has not consumed.
 * The final item returns to the interest visited longest ago, which for most users lies
 * before the newest 12.5 % of the history, so only a model that reads the whole history
 * can tell that topic. Without: no interest topics, so every session starts on a
 * popularity-drawn topic and nothing early predicts the target better than the recent items.
 */
function datasetSettings(args: Args): { strong: SyntheticSettings; without: SyntheticSettings } {
  const shared: SyntheticSettings = {
    users: args.users,
    items: 2000,
    topics: 20,
    meanLength: args.length,
    minLength: args.length,
    maxLength: args.length,
    seed: args.seed,
    popularitySkew: 0.5,
    sessionProbability: 0.5,
    repeatProbability: 0,
  };
  return {
    strong: { ...shared, interestsPerUser: 8, interestPhase: 0.25, longTermStrength: 1, finalReturns: 1, returnStart: 'popular' },
    without: { ...shared, interestsPerUser: 0, longTermStrength: 0 },
  };
}

function benchConfig(args: Args, synthetic: SyntheticSettings, out: string): RunConfig {
  return resolveConfig(null, {
    preset: 'quick',
    dataset: 'synthetic',
    out,
    models: ['sasrec'],
    strategies: ['full', 'window'],
    compressionRatios: [WINDOW_RATIO],
    seeds: [args.seed],
    backend: 'auto',
    report: false,
    model: { maxLength: args.length, hiddenSize: args.hidden, layers: 2, heads: 1, dropout: 0.2 },
    training: { epochs: args.epochs, batchSize: 32, negatives: 128, validationUsers: Math.min(args.users, 300) },
    evaluation: { bootstrapResamples: 200 },
    synthetic,
  });
}

interface Outcome {
  full: number;
  window: number;
  loss: number;
  seconds: number;
}

async function measure(name: string, args: Args, synthetic: SyntheticSettings, out: string): Promise<Outcome> {
  const started = Date.now();
  const logger = createConsoleLogger(false);
  const outcome = await runBench(benchConfig(args, synthetic, out), logger);

  // The newest ok row of each strategy, so that a rerun whose cells were skipped still reports.
  const rows = readResults(outcome.resultsPath).rows;
  const ndcgOf = (strategy: string): number => {
    const row = rows.filter((candidate) => candidate.strategy === strategy && candidate.status === 'ok').at(-1);
    const ndcg = row?.metrics?.['ndcg@10'];
    if (ndcg === undefined) {
      throw new Error(`generator-diagnostic: the ${name} run wrote no ok row with ndcg@10 for strategy '${strategy}'; results are in ${outcome.resultsPath}`);
    }
    return ndcg;
  };
  const full = ndcgOf('full');
  const window = ndcgOf('window');
  return { full, window, loss: full > 0 ? (full - window) / full : 0, seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = args.out ?? mkdtempSync(join(tmpdir(), 'malloc-generator-diagnostic-'));
  const settings = datasetSettings(args);

  // Strong long-term structure first, then the dataset without it. Two processes with
  // `--datasets strong` and `--datasets without` and the same `--out` can train in parallel.
  const percent = (value: number): string => `${(100 * value).toFixed(1)} %`;
  const lines = [
    `SASRec d=${args.hidden}, 2 layers, 1 head, max length ${args.length}, ${args.epochs} epochs, seed ${args.seed}; window at compression ratio ${WINDOW_RATIO}`,
    `dataset   ndcg@10 full   ndcg@10 window   loss     target   seconds`,
  ];
  let passed = true;
  for (const name of args.datasets) {
    const outcome = await measure(name, args, settings[name], join(root, name));
    const target = name === 'strong' ? '>= 20 %' : '< 5 %';
    passed &&= name === 'strong' ? outcome.loss >= 0.2 : outcome.loss < 0.05;
    lines.push(`${name.padEnd(9)} ${outcome.full.toFixed(4).padEnd(14)} ${outcome.window.toFixed(4).padEnd(16)} ${percent(outcome.loss).padEnd(8)} ${target.padEnd(8)} ${outcome.seconds.toFixed(0)}`);
  }

  // Configuration and losses.
  for (const name of args.datasets) {
    lines.push(`${name} settings: ${JSON.stringify(settings[name])}`);
  }
  lines.push(`results: ${root}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = passed ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
