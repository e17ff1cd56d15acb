// Checks that the synthetic generator's long-term structure matters to a trained model. It
// generates two datasets, one with strong long-term structure and one without, trains SASRec
// on each through `runBench` (the function behind `malloc bench`), and prints how much
// `ndcg@10` the `window` strategy at compression ratio 0.875 loses against `full`, the paired
// test's p-value of that difference, and the `ndcg@10` of a popularity ranking.
//
// Usage: nice -n 10 npx tsx --tsconfig packages/runner/bench/tsconfig.json packages/runner/bench/generator-diagnostic.ts \
//          [--users 1000] [--length 200] [--epochs 20] [--hidden 32] [--layers 2] [--seed 1] [--out DIR] [--datasets strong,without]
//          [--protocol one-shot]
//
// The target: the strong dataset loses at least 20 % of `ndcg@10` with p < 0.05, the other
// under 5 %. Exit status: 0 when every target is met, 1 when one is missed, 2 for invalid
// options or a failed run.
// Results and checkpoints go to `--out` (default: a new folder in the temporary directory),
// so a rerun with the same `--out` reuses the trained models.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { RankingAccumulator, rankOfTarget } from '@malloc/metrics';
import { resolveConfig, type RunConfig, type SyntheticSettings } from '../src/config';
import { runBench } from '../src/bench';
import { readResults } from '../src/results-store';
import { createConsoleLogger } from '../src/logger';

interface Args {
  users: number;
  /** Maximum history length, also SASRec's `maxLength`; histories have 0.75 · length to length items. */
  length: number;
  epochs: number;
  hidden: number;
  layers: number;
  seed: number;
  out: string | null;
  datasets: Array<'strong' | 'without'>;
  /** Serving protocol of the evaluation: compress the prefilled history once, or after every chunk of 16 items. */
  protocol: 'one-shot' | 'streaming';
}

const USAGE = 'usage: generator-diagnostic.ts [--help] [--users N] [--length N] [--epochs N] [--hidden N] [--layers N] [--seed N] [--out DIR] [--datasets strong,without] [--protocol one-shot|streaming]';

/** Compression ratio of the `window` cell: the window keeps the newest 12.5 % of the history. */
const WINDOW_RATIO = 0.875;

/**
 * Period of the scheduled returns in the strong dataset. They count from each history's last
 * item (`returnAnchor: 'end'`), so the test target is one and the previous one lies 40 steps
 * earlier: more than the at most ⌊198 · 0.125⌋ = 24 history items that the window keeps. The
 * session that the previous return starts reaches them only if it goes on for 15 more steps
 * (a chance of 0.75^15 ≈ 1.3 %).
 */
const RETURN_PERIOD = 40;

/** Steps of the cue session before each return in the strong dataset: the validation item is its second item. */
const RETURN_CUE = 2;

/** Smallest `--length`: its shortest histories, 0.75 · length items, contain 2 return periods. */
const MIN_LENGTH = 110;

/** Topics kept for long-term interests in the strong dataset, out of 40; one more is kept for cues. */
const INTEREST_TOPICS = 10;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { users: 1000, length: 200, epochs: 20, hidden: 32, layers: 2, seed: 1, out: null, datasets: ['strong', 'without'], protocol: 'one-shot' };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) {
      throw new RangeError(`generator-diagnostic: option ${argv[i]} is missing its value; ${USAGE}`);
    }
    const key = argv[i].replace(/^--/, '');
    if (key === 'out') {
      args.out = value;
    } else if (key === 'protocol') {
      if (value !== 'one-shot' && value !== 'streaming') {
        throw new RangeError(`generator-diagnostic: option --protocol must be one-shot or streaming, received '${value}'; ${USAGE}`);
      }
      args.protocol = value;
    } else if (key === 'datasets') {
      const names = value.split(',');
      if (names.some((name) => name !== 'strong' && name !== 'without') || new Set(names).size !== names.length) {
        throw new RangeError(`generator-diagnostic: option --datasets must list strong and/or without, each once, received '${value}'; ${USAGE}`);
      }
      args.datasets = names as Args['datasets'];
    } else if (key === 'users' || key === 'length' || key === 'epochs' || key === 'hidden' || key === 'layers' || key === 'seed') {
      const number = Number(value);
      let minimum = 1;
      if (key === 'seed') {
        minimum = 0;
      } else if (key === 'length') {
        minimum = MIN_LENGTH;
      }
      if (!Number.isInteger(number) || number < minimum) {
        const reason = key === 'length' ? ', so that the shortest history (0.75 · length) contains 2 return periods of the strong dataset' : '';
        throw new RangeError(`generator-diagnostic: option --${key} must be an integer >= ${minimum}${reason}, received '${value}'; ${USAGE}`);
      }
      args[key] = number;
    } else {
      throw new RangeError(`generator-diagnostic: unknown option ${argv[i]}; ${USAGE}`);
    }
  }
  return args;
}

/**
 * Generator settings of the two datasets. Both share sessions along topic orders (each next
 * item continues the session with chance 0.75), popularity skew and history lengths of 150 to
 * 200 items, so every position that a test input uses is also trained. Only the long-term
 * structure differs. Topics have 50 items.
 *
 * Strong: each user has 1 interest topic, drawn from 10 topics that no ordinary session
 * uses (`interestTopics`). Every 40th step counted back from the last (`returnPeriod`,
 * `returnAnchor: 'end'`) starts a session on it, at its most popular item that the user has
 * not consumed (`returnStart: 'popular'`). The 2 steps before each return are a cue session
 * on a topic kept for cues (`returnCue`, `returnCueTopic: 'reserved'`), which signals that a
 * return comes but not which topic. A model can learn that after a cue comes the interest
 * topic, and find that topic among the history's items. The test target is such a return.
 * The window keeps its cue but no item of its topic, and the cue is the same for every user,
 * so only a model that reads the older history can find the topic. Without: no interest topics, so every session starts
 * on a popularity-drawn topic and nothing early predicts the target better than the recent
 * items.
 */
function datasetSettings(args: Args): { strong: SyntheticSettings; without: SyntheticSettings } {
  const shared: SyntheticSettings = {
    users: args.users,
    items: 2000,
    topics: 40,
    meanLength: Math.round(0.875 * args.length),
    minLength: Math.round(0.75 * args.length),
    maxLength: args.length,
    seed: args.seed,
    popularitySkew: 0.5,
    sessionProbability: 0.75,
    repeatProbability: 0,
  };
  return {
    strong: {
      ...shared,
      interestsPerUser: 1,
      longTermStrength: 0,
      returnPeriod: RETURN_PERIOD,
      returnAnchor: 'end',
      returnCue: RETURN_CUE,
      returnCueTopic: 'reserved',
      returnStart: 'popular',
      interestTopics: INTEREST_TOPICS,
    },
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
    model: { maxLength: args.length, hiddenSize: args.hidden, layers: args.layers, heads: 1, dropout: 0.2 },
    training: { epochs: args.epochs, batchSize: 32, negatives: 128, validationUsers: Math.min(args.users, 300) },
    evaluation: { bootstrapResamples: 200, ...(args.protocol === 'streaming' ? { protocol: 'streaming' as const } : {}) },
    synthetic,
  });
}

interface Outcome {
  full: number;
  window: number;
  loss: number;
  /** Two-sided p-value of the paired test of `window` against `full` on `ndcg@10`, as `runBench` recorded it. */
  pValue: number;
  /** `ndcg@10` of ranking by training popularity, on the same test targets. */
  popularity: number;
  seconds: number;
}

/**
 * `ndcg@10` of ranking every item by its count in the training part of all sequences, on the
 * leave-one-out test targets with the user's input excluded, as the runner ranks.
 */
function popularityNdcg(synthetic: SyntheticSettings): number {
  // Item counts over the training part of every sequence.
  const dataset = generateSynthetic(synthetic);
  const split = leaveOneOut(dataset);
  const counts = new Float64Array(dataset.itemCount + 1); // [items + 1]
  for (let user = 0; user < dataset.userCount; user++) {
    const start = dataset.offsets[user];
    for (let k = start; k < start + split.trainEnd[user]; k++) {
      counts[dataset.items[k]]++;
    }
  }

  // Rank each test target among the items outside the user's input.
  const accumulator = new RankingAccumulator([10]);
  const { users, inputEnd, targets } = split.test;
  for (let j = 0; j < users.length; j++) {
    const start = dataset.offsets[users[j]];
    accumulator.add(rankOfTarget(counts, targets[j], { exclude: dataset.items.subarray(start, start + inputEnd[j]) }));
  }
  return accumulator.means()['ndcg@10'];
}

async function measure(name: string, args: Args, synthetic: SyntheticSettings, out: string): Promise<Outcome> {
  const started = Date.now();
  const logger = createConsoleLogger(false);
  const outcome = await runBench(benchConfig(args, synthetic, out), logger);

  // The newest ok row of each strategy, so that a rerun whose cells were skipped still reports.
  const rows = readResults(outcome.resultsPath).rows;
  const rowOf = (strategy: string): ReturnType<typeof readResults>['rows'][number] => {
    const row = rows.filter((candidate) => candidate.strategy === strategy && candidate.status === 'ok' && candidate.metrics?.['ndcg@10'] !== undefined).at(-1);
    if (row === undefined) {
      throw new Error(`generator-diagnostic: the ${name} run wrote no ok row with ndcg@10 for strategy '${strategy}'; results are in ${outcome.resultsPath}`);
    }
    return row;
  };
  const full = rowOf('full').metrics?.['ndcg@10'] ?? 0;
  const windowRow = rowOf('window');
  const window = windowRow.metrics?.['ndcg@10'] ?? 0;
  const pValue = windowRow.pairedVsFull?.['ndcg@10']?.pValue ?? Number.NaN;
  return { full, window, loss: full > 0 ? (full - window) / full : 0, pValue, popularity: popularityNdcg(synthetic), seconds: (Date.now() - started) / 1000 };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const root = args.out ?? mkdtempSync(join(tmpdir(), 'malloc-generator-diagnostic-'));
  const settings = datasetSettings(args);

  // Strong long-term structure first, then the dataset without it. Two processes with
  // `--datasets strong` and `--datasets without` and the same `--out` can train in parallel.
  const percent = (value: number): string => `${(100 * value).toFixed(1)} %`;
  const lines = [
    `SASRec d=${args.hidden}, ${args.layers} layers, 1 head, max length ${args.length}, ${args.epochs} epochs, seed ${args.seed}; window at compression ratio ${WINDOW_RATIO}, ${args.protocol} protocol`,
    `dataset   ndcg@10 full   ndcg@10 window   loss     paired p   target           ndcg@10 popularity   seconds`,
  ];
  let passed = true;
  for (const name of args.datasets) {
    const outcome = await measure(name, args, settings[name], join(root, name));
    const target = name === 'strong' ? '>= 20 %, p < 0.05' : '< 5 %';
    passed &&= name === 'strong' ? outcome.loss >= 0.2 && outcome.pValue < 0.05 : outcome.loss < 0.05;
    lines.push(
      `${name.padEnd(9)} ${outcome.full.toFixed(4).padEnd(14)} ${outcome.window.toFixed(4).padEnd(16)} ${percent(outcome.loss).padEnd(8)} ${outcome.pValue.toPrecision(2).padEnd(10)} ${target.padEnd(16)} ${outcome.popularity.toFixed(4).padEnd(20)} ${outcome.seconds.toFixed(0)}`,
    );
  }

  // Generator settings of each dataset.
  for (const name of args.datasets) {
    lines.push(`${name} settings: ${JSON.stringify(settings[name])}`);
  }
  lines.push(`results: ${root}`);
  lines.push(
    passed
      ? 'result: every target met'
      : 'result: target missed (exit status 1); a model that has not learned the returns loses little, so train longer (--epochs) or on more users (--users)',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = passed ? 0 : 1;
}

main().catch((error: unknown) => {
  // A usage error prints its message only; anything else prints its stack.
  const usage = error instanceof RangeError && error.message.startsWith('generator-diagnostic:');
  process.stderr.write(`${error instanceof Error ? (usage ? error.message : (error.stack ?? error.message)) : String(error)}\n`);
  process.exitCode = 2;
});
