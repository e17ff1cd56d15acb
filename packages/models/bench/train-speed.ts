// Measures the training throughput of SASRec: tokens per second of one optimisation step
// (forward, backward, AdamW update) on random data.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/train-speed.ts [backend] [batch] [len] [steps] [model] [sampling]
// Defaults: wasm, batch 128, length 200, 5 timed steps after 2 warm-up steps, sasrec; d = 50,
// 2 layers, 1 head, sampled softmax with 128 negatives over 3,706 items (ML-1M's catalogue),
// drawn per position (`sampling` per-position, the default) or once per batch (shared).
// `model` is sasrec, hstu (dqk = dv = 50, random timestamps), gru4rec (1 layer) or rwkv (2 layers).
import { initBackend, type BackendName } from '../src/backend/backend';
import { SeededRandom } from '../src/random';
import { resolveHstuConfig } from '../src/hstu/config';
import { Hstu } from '../src/hstu/hstu';
import { resolveSasRecConfig } from '../src/sasrec/config';
import { SasRec } from '../src/sasrec/sasrec';
import { GRU4REC_DEFAULTS, RWKV_DEFAULTS, resolveRecurrentConfig } from '../src/recurrent/config';
import { Gru4Rec } from '../src/recurrent/gru4rec';
import { Rwkv } from '../src/recurrent/rwkv';
import type { NegativeSampling } from '../src/training/losses';
import { AdamW } from '../src/training/optimizer';
import { trainStep } from '../src/training/step';

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendName;
  const batch = Number(process.argv[3] ?? 128);
  const len = Number(process.argv[4] ?? 200);
  const steps = Number(process.argv[5] ?? 5);
  const kind = process.argv[6] ?? 'sasrec';
  const sampling = process.argv[7] ?? 'per-position';
  if (!isNegativeSampling(sampling)) {
    throw new RangeError(`train-speed: sampling must be 'per-position' or 'shared', received '${sampling}'.`);
  }
  const itemCount = 3706;
  const used = await initBackend(backend);

  // Model, optimizer and one random full-length batch.
  const maxLength = Math.max(200, len);
  const model =
    kind === 'hstu'
      ? new Hstu(resolveHstuConfig({ itemCount, maxLength }), 1)
      : kind === 'gru4rec'
        ? new Gru4Rec(resolveRecurrentConfig('train-speed', { itemCount, maxLength }, GRU4REC_DEFAULTS), 1)
        : kind === 'rwkv'
          ? new Rwkv(resolveRecurrentConfig('train-speed', { itemCount, maxLength }, RWKV_DEFAULTS), 1)
          : new SasRec(resolveSasRecConfig({ itemCount, maxLength }), 1);
  const optimizer = new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0 });
  const random = new SeededRandom(7);
  const size = batch * len;
  const items = new Int32Array(size);
  const positions = new Int32Array(size);
  const targets = new Int32Array(size);
  const timestamps = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    timestamps[i] = (i % len) * 86400 * random.next();
    items[i] = 1 + random.nextInt(itemCount);
    targets[i] = 1 + random.nextInt(itemCount);
    positions[i] = i % len;
  }
  const rows = Int32Array.from({ length: size }, (_, i) => i);
  const trainingBatch = { encoder: { batch, len, items, positions, timestamps: kind === 'hstu' ? timestamps : null }, targets, rows };
  const settings = { loss: 'sampled-softmax' as const, negatives: 128, temperature: 0.05, negativeSampling: sampling };

  // Warm up, then time each step to the loss value (which waits for the whole step).
  for (let i = 0; i < 2; i++) {
    trainStep(model, optimizer, trainingBatch, settings, random);
  }
  const seconds: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    trainStep(model, optimizer, trainingBatch, settings, random);
    seconds.push((performance.now() - start) / 1000);
  }
  seconds.sort((a, b) => a - b);
  const median = seconds[Math.floor(seconds.length / 2)];
  process.stdout.write(
    `${kind}, backend ${used}, batch ${batch}, length ${len}, d 50, ${sampling} negatives: median step ${median.toFixed(3)} s ` +
      `(min ${seconds[0].toFixed(3)}, max ${seconds[seconds.length - 1].toFixed(3)}), ${Math.round(size / median)} tokens/s\n`,
  );
}

function isNegativeSampling(value: string): value is NegativeSampling {
  return value === 'per-position' || value === 'shared';
}

void main();
