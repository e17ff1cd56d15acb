// Measures the validation that selects the epoch during training: `validationNdcg`, which
// runs the inputs through `forwardLastBatch`, against one `forwardLast` call per user, on
// MovieLens-1M in the same process. Both routes score the same users with the same model, so
// the printed NDCG@10 values must agree and the ratio is the speed-up of batching.
//
// Usage: MALLOC_DATA_DIR=/path/to/data npx tsx --tsconfig bench/tsconfig.json bench/validation-speed.ts \
//          [--backend wasm] [--model sasrec|hstu] [--users 6040] [--batch 128] [--checkpoint DIR]
//
// Without `--checkpoint` the model has the paper preset's shape (max length 200, d = 50,
// 2 layers, 1 head) with seeded untrained weights. The weights change the scores, not the work.
import { cpus, loadavg } from 'node:os';
import { leaveOneOut, loadDataset } from '@malloc/data';
import { initBackend, loadCheckpoint, type BackendName } from '@malloc/models';
import { DEFAULT_CONFIG, type RunConfig } from '../src/config';
import { PRESETS } from '../src/presets';
import { seededSample } from '../src/sampling';
import { createModel, validationNdcg } from '../src/training';
import { perUserValidationNdcg } from '../src/validation-reference';

interface Args {
  backend: BackendName | 'auto';
  model: string;
  users: number | null;
  batch: number;
  checkpoint: string | null;
}

const USAGE = 'usage: validation-speed.ts [--backend auto|wasm|cpu|tensorflow] [--model sasrec|hstu] [--users N] [--batch N] [--checkpoint DIR]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { backend: 'wasm', model: 'sasrec', users: null, batch: 128, checkpoint: null };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) {
      throw new RangeError(`validation-speed: option ${argv[i]} is missing its value. ${USAGE}`);
    }
    switch (argv[i]) {
      case '--backend':
        args.backend = value as Args['backend'];
        break;
      case '--model':
        args.model = value;
        break;
      case '--users':
        args.users = Number(value);
        break;
      case '--batch':
        args.batch = Number(value);
        break;
      case '--checkpoint':
        args.checkpoint = value;
        break;
      default:
        throw new RangeError(`validation-speed: unknown option ${argv[i]}. ${USAGE}`);
    }
  }
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dataDir = process.env.MALLOC_DATA_DIR;
  if (dataDir === undefined) {
    throw new Error('validation-speed: set MALLOC_DATA_DIR to the folder that contains ml-1m/.');
  }

  // Data, model and the validation users.
  const backend = await initBackend(args.backend);
  const dataset = await loadDataset('ml-1m', { dataDir });
  const split = leaveOneOut(dataset);
  const config = { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, ...PRESETS.paper.model } } as RunConfig;
  const model = args.checkpoint === null ? createModel(args.model, config, dataset.itemCount, 1) : await loadCheckpoint(args.checkpoint);
  const users = seededSample(split.validation.users.length, args.users, 0);

  // Both routes in one process, the batched one first and last to show drift.
  const timed = (run: () => number): { ndcg: number; seconds: number } => {
    const started = performance.now();
    const ndcg = run();
    return { ndcg, seconds: (performance.now() - started) / 1000 };
  };
  const batchedFirst = timed(() => validationNdcg(model, dataset, split, users, args.batch));
  const perUser = timed(() => perUserValidationNdcg(model, dataset, split, users));
  const batchedLast = timed(() => validationNdcg(model, dataset, split, users, args.batch));
  const batchedSeconds = Math.min(batchedFirst.seconds, batchedLast.seconds);

  process.stdout.write(
    [
      `backend ${backend}, model ${model.kind}${args.checkpoint === null ? ' (untrained)' : ` (${args.checkpoint})`}, ${users.length} validation users, batch ${args.batch}`,
      `cores ${cpus().length}, load average ${loadavg()[0].toFixed(2)}`,
      `per user (forwardLast):       ${perUser.seconds.toFixed(2)} s, ndcg@10 ${perUser.ndcg.toFixed(6)}`,
      `batched (forwardLastBatch):   ${batchedFirst.seconds.toFixed(2)} s then ${batchedLast.seconds.toFixed(2)} s, ndcg@10 ${batchedFirst.ndcg.toFixed(6)}`,
      `speed-up: ${(perUser.seconds / batchedSeconds).toFixed(2)}x`,
      '',
    ].join('\n'),
  );
  model.dispose();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
