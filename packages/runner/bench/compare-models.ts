// Compares two trained models on the same test users. It computes per-user NDCG@10 and HR@10
// with full ranking and the input's items excluded, as the runner's `full` strategy ranks
// them. It prints the mean difference A − B with a bootstrap 95 % interval and the p-value of
// a paired sign-flip permutation test. Leaderboard intervals are per model, so they overlap
// even when one model beats the other on most of the same users. The paired test accounts for
// that pairing.
//
// Usage: MALLOC_DATA_DIR=/path/to/data npx tsx --tsconfig bench/tsconfig.json bench/compare-models.ts \
//          --a DIR --b DIR [--dataset ml-1m] [--backend wasm] [--users N] [--resamples 10000]
//
// DIR is a `final` checkpoint folder written by `malloc bench` (`<out>/checkpoints/*/final`).
import { leaveOneOut, loadDataset } from '@malloc/data';
import { bootstrapMeanCI, metricsFromRank, pairedTest } from '@malloc/metrics';
import { initBackend, loadCheckpoint, type BackendName } from '@malloc/models';
import { heldOutRanks } from '../src/held-out-ranks';
import { seededSample } from '../src/sampling';

interface Args {
  a: string | null;
  b: string | null;
  dataset: string;
  backend: BackendName | 'auto';
  users: number | null;
  resamples: number;
}

const USAGE = 'usage: compare-models.ts --a DIR --b DIR [--dataset ml-1m] [--backend auto|wasm|cpu|tensorflow] [--users N] [--resamples N]';

/** Metrics that the comparison reports, as `metricsFromRank` names them. */
const METRICS = ['ndcg@10', 'hit@10'] as const;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { a: null, b: null, dataset: 'ml-1m', backend: 'wasm', users: null, resamples: 10000 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) {
      throw new RangeError(`compare-models: option ${argv[i]} is missing its value. ${USAGE}`);
    }
    switch (argv[i]) {
      case '--a':
        args.a = value;
        break;
      case '--b':
        args.b = value;
        break;
      case '--dataset':
        args.dataset = value;
        break;
      case '--backend':
        args.backend = value as Args['backend'];
        break;
      case '--users':
        args.users = Number(value);
        break;
      case '--resamples':
        args.resamples = Number(value);
        break;
      default:
        throw new RangeError(`compare-models: unknown option ${argv[i]}. ${USAGE}`);
    }
  }
  if (args.a === null || args.b === null) {
    throw new RangeError(`compare-models: --a and --b are required. ${USAGE}`);
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dataDir = process.env.MALLOC_DATA_DIR;
  if (dataDir === undefined && args.dataset !== 'synthetic') {
    throw new Error(`compare-models: set MALLOC_DATA_DIR to the folder that contains ${args.dataset}/.`);
  }

  // Data, both models and the test users.
  const backend = await initBackend(args.backend);
  const dataset = await loadDataset(args.dataset, { dataDir });
  const split = leaveOneOut(dataset);
  const users = seededSample(split.test.users.length, args.users, 0);
  const folders = [args.a as string, args.b as string];

  // Per-user metrics of each model, `[users]` per metric.
  const perUser: Float64Array[][] = [];
  for (const folder of folders) {
    const model = await loadCheckpoint(folder);
    const ranks = heldOutRanks(model, dataset, split.test, users);
    perUser.push(METRICS.map((metric) => Float64Array.from(ranks, (rank) => metricsFromRank(rank, [10])[metric])));
    model.dispose();
  }

  // Means, the paired difference with its interval, and the paired test.
  const lines = [`backend ${backend}, dataset ${dataset.name}, ${users.length} test users`, `A: ${folders[0]}`, `B: ${folders[1]}`];
  METRICS.forEach((metric, index) => {
    const a = perUser[0][index];
    const b = perUser[1][index];
    const difference = Float64Array.from(a, (value, user) => value - b[user]);
    const interval = bootstrapMeanCI(difference, { resamples: 1000, seed: 1 });
    const test = pairedTest(a, b, { resamples: args.resamples, seed: 1 });
    const mean = (values: Float64Array): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const better = difference.filter((value) => value > 0).length;
    const worse = difference.filter((value) => value < 0).length;
    lines.push(
      `${metric}: A ${mean(a).toFixed(4)}, B ${mean(b).toFixed(4)}, A − B ${interval.mean.toFixed(4)} [${interval.low.toFixed(4)}, ${interval.high.toFixed(4)}], ` +
        `A higher for ${better} users, lower for ${worse}, p = ${test.pValue.toPrecision(3)} (${test.method})`,
    );
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
