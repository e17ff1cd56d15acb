// Trains SASRec or HSTU on MovieLens-1M and reports full-ranking HR@10 / NDCG@10 under leave-one-out.
//
// Usage: MALLOC_DATA_DIR=/path/to/data npx tsx --tsconfig bench/tsconfig.json bench/ml1m.ts \
//          [--epochs 20] [--lr 1e-3] [--max-length 200] [--batch 32] [--dropout 0.2] \
//          [--negatives 128] [--temperature 0.05] [--eval-every 5] [--backend wasm] [--seed 1] \
//          [--loss sampled-softmax] [--l2 1] [--model sasrec] [--workers 1] [--sampling per-position]
//
// `--workers N` trains with N replicas in N threads (`TrainOptions.workers`). `--sampling shared`
// draws one set of negatives per batch instead of per position (`TrainOptions.negativeSampling`).
//
// `--model hstu` trains HSTU without timestamps (sequences.txt has none), so its time bias is constant.
//
// Protocol: items are renumbered 1..3706 in ascending MovieID order. For a user sequence s of
// length n, training uses s[0 .. n-2), validation predicts s[n-2] from s[0 .. n-2) and the test
// predicts s[n-1] from s[0 .. n-1). Ranking is over all items; items of the input other than
// the target are excluded; rank = 1 + #higher + #ties / 2; NDCG@10 = 1 / log2(rank + 1) when
// rank ≤ 10. Means are taken over all 6,040 users in float64.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createHstu, createSasRec, initBackend, trainModel, type BackendName, type SequentialModel, type TrainingData } from '../src/index';

interface Args {
  epochs: number;
  lr: number;
  maxLength: number;
  batch: number;
  dropout: number;
  negatives: number;
  temperature: number;
  evalEvery: number;
  backend: BackendName;
  seed: number;
  loss: string;
  l2: number;
  model: string;
  workers: number;
  sampling: string;
}

function parseArgs(): Args {
  const args: Args = { epochs: 20, lr: 1e-3, maxLength: 200, batch: 32, dropout: 0.2, negatives: 128, temperature: 0.05, evalEvery: 5, backend: 'wasm', seed: 1, loss: 'sampled-softmax', l2: 1, model: 'sasrec', workers: 1, sampling: 'per-position' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Args;
    (args as unknown as Record<string, unknown>)[key] = key === 'backend' || key === 'loss' || key === 'model' || key === 'sampling' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return args;
}

/** Reads ml-1m/sequences.txt into CSR arrays with items renumbered 1..nItems. */
function readMovieLens(dataDir: string): { offsets: Int32Array; items: Int32Array; itemCount: number } {
  const lines = readFileSync(path.join(dataDir, 'ml-1m', 'sequences.txt'), 'utf8').trim().split('\n');
  const sequences = lines.map((line) => line.split(' ').slice(1).map(Number));
  const distinct = [...new Set(sequences.flat())].sort((a, b) => a - b);
  const remap = new Map(distinct.map((id, index) => [id, index + 1]));
  const offsets = new Int32Array(sequences.length + 1);
  sequences.forEach((sequence, user) => (offsets[user + 1] = offsets[user] + sequence.length));
  const items = new Int32Array(offsets[sequences.length]);
  sequences.forEach((sequence, user) => sequence.forEach((id, i) => (items[offsets[user] + i] = remap.get(id) as number)));
  return { offsets, items, itemCount: distinct.length };
}

/** Mean HR@10 and NDCG@10 of predicting items[offsets[u] + cut[u]] from the items before it. */
function evaluate(model: SequentialModel, offsets: Int32Array, items: Int32Array, cut: (user: number) => number): { hr10: number; ndcg10: number; seconds: number } {
  const started = performance.now();
  const users = offsets.length - 1;
  const inputs = Array.from({ length: users }, (_, u) => items.subarray(offsets[u], offsets[u] + cut(u)));
  const hidden = model.forwardLastBatch(inputs);
  const d = model.config.hiddenSize;
  let hr = 0;
  let ndcg = 0;
  for (let u = 0; u < users; u++) {
    const scores = model.scoreAll(hidden.subarray(u * d, (u + 1) * d));
    const target = items[offsets[u] + cut(u)];
    for (const item of inputs[u]) {
      if (item !== target) {
        scores[item] = -Infinity;
      }
    }
    const targetScore = scores[target];
    let higher = 0;
    let ties = 0;
    for (let item = 1; item < scores.length; item++) {
      if (item === target) continue;
      if (scores[item] > targetScore) higher++;
      else if (scores[item] === targetScore) ties++;
    }
    const rank = 1 + higher + ties / 2;
    if (rank <= 10) {
      hr += 1;
      ndcg += 1 / Math.log2(rank + 1);
    }
  }
  return { hr10: hr / users, ndcg10: ndcg / users, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const dataDir = process.env['MALLOC_DATA_DIR'];
  if (dataDir === undefined) {
    throw new Error('Set MALLOC_DATA_DIR to the folder that contains ml-1m/sequences.txt.');
  }
  const backend = await initBackend(args.backend);
  const { offsets, items, itemCount } = readMovieLens(dataDir);
  const users = offsets.length - 1;
  const trainEnd = new Int32Array(users);
  for (let u = 0; u < users; u++) {
    trainEnd[u] = offsets[u + 1] - offsets[u] - 2;
  }
  const data: TrainingData = { itemCount, offsets, items, trainEnd };
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`backend ${backend}; ${users} users, ${itemCount} items, ${items.length} interactions; ${JSON.stringify(args)}`);

  const settings = { itemCount, maxLength: args.maxLength, dropout: args.dropout, l2NormalizeEmbeddings: args.l2 !== 0 };
  const model = args.model === 'hstu' ? createHstu(settings, args.seed) : createSasRec(settings, args.seed);
  const validationCut = (u: number): number => offsets[u + 1] - offsets[u] - 2;
  const testCut = (u: number): number => offsets[u + 1] - offsets[u] - 1;
  const started = performance.now();
  const result = await trainModel(model, data, {
    epochs: args.epochs,
    batchSize: args.batch,
    learningRate: args.lr,
    loss: args.loss as 'sampled-softmax',
    negatives: args.negatives,
    negativeSampling: args.sampling as 'shared' | 'per-position',
    temperature: args.temperature,
    weightDecay: 0,
    seed: args.seed,
    workers: args.workers,
    validate: (trained, epoch) => {
      // Epochs without an evaluation score -1, so they never count as the best epoch.
      if (epoch % args.evalEvery !== 0 && epoch !== args.epochs) {
        return -1;
      }
      const validation = evaluate(trained, offsets, items, validationCut);
      const test = evaluate(trained, offsets, items, testCut);
      const elapsed = (performance.now() - started) / 1000;
      log(`  epoch ${epoch}: validation ndcg@10 ${validation.ndcg10.toFixed(4)} hr@10 ${validation.hr10.toFixed(4)} | test ndcg@10 ${test.ndcg10.toFixed(4)} hr@10 ${test.hr10.toFixed(4)} | eval ${(validation.seconds + test.seconds).toFixed(1)} s | elapsed ${elapsed.toFixed(0)} s`);
      return validation.ndcg10;
    },
    logger: { info: log, warn: log, debug: () => undefined },
  });
  log(`best epoch ${result.bestEpoch}, validation ndcg@10 ${result.bestValidation}, total ${result.seconds.toFixed(0)} s`);
}

void main();
