// Profiles one SASRec training step (`trainStep`: forward, backward, AdamW update) with
// tf.profile. It prints the total kernel time by kernel name and by kernel and input shapes.
// It also prints the step time outside kernels, which is JavaScript work such as dropout
// masks, attention biases and tensor bookkeeping.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/train-profile.ts [backend] [batch] [len]
// Defaults: wasm, batch 128, length 200; d = 50, 2 layers, 1 head, sampled softmax with 128
// negatives over 3,706 items, the setup of bench/train-speed.ts.
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendName } from '../src/backend/backend';
import { SeededRandom } from '../src/random';
import { resolveSasRecConfig } from '../src/sasrec/config';
import { SasRec } from '../src/sasrec/sasrec';
import { AdamW } from '../src/training/optimizer';
import { trainStep } from '../src/training/step';

/** Time and calls of one group of kernels. */
interface KernelTotal {
  milliseconds: number;
  calls: number;
}

function addTo(totals: Map<string, KernelTotal>, key: string, milliseconds: number): void {
  const total = totals.get(key) ?? { milliseconds: 0, calls: 0 };
  total.milliseconds += milliseconds;
  total.calls += 1;
  totals.set(key, total);
}

function printTop(title: string, totals: Map<string, KernelTotal>, stepMilliseconds: number, count: number): void {
  process.stdout.write(`${title}\n`);
  const sorted = [...totals.entries()].sort((a, b) => b[1].milliseconds - a[1].milliseconds);
  for (const [key, total] of sorted.slice(0, count)) {
    const share = ((100 * total.milliseconds) / stepMilliseconds).toFixed(1);
    process.stdout.write(`  ${total.milliseconds.toFixed(1).padStart(8)} ms  ${share.padStart(5)} %  ${String(total.calls).padStart(5)} calls  ${key}\n`);
  }
}

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendName;
  const batch = Number(process.argv[3] ?? 128);
  const len = Number(process.argv[4] ?? 200);
  const itemCount = 3706;
  const used = await initBackend(backend);

  // With this flag on (it follows DEBUG), the profiler reads every kernel output to look for NaN, which adds time outside the kernels.
  tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);

  // Model, optimizer and one random full-length batch, as bench/train-speed.ts builds them.
  const model = new SasRec(resolveSasRecConfig({ itemCount, maxLength: Math.max(200, len) }), 1);
  const optimizer = new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0 });
  const random = new SeededRandom(7);
  const size = batch * len;
  const items = new Int32Array(size); // [batch, len]
  const positions = new Int32Array(size); // [batch, len]
  const targets = new Int32Array(size); // [batch, len]
  for (let i = 0; i < size; i++) {
    items[i] = 1 + random.nextInt(itemCount);
    targets[i] = 1 + random.nextInt(itemCount);
    positions[i] = i % len;
  }
  const rows = Int32Array.from({ length: size }, (_, i) => i);
  const trainingBatch = { encoder: { batch, len, items, positions, timestamps: null }, targets, rows };
  const settings = { loss: 'sampled-softmax' as const, negatives: 128, temperature: 0.05 };

  // Two warm-up steps, then one step under the profiler.
  for (let i = 0; i < 2; i++) {
    trainStep(model, optimizer, trainingBatch, settings, random);
  }
  const start = performance.now();
  const profile = await tf.profile(() => {
    trainStep(model, optimizer, trainingBatch, settings, random);
  });
  const stepMilliseconds = performance.now() - start;

  // Group the kernel times by name and by name with input shapes. The forward pass of a
  // tf.customGrad function is recorded as one entry named 'forward' whose time includes the
  // kernels it calls, which are recorded too, so those entries are kept apart.
  const byName = new Map<string, KernelTotal>();
  const byShape = new Map<string, KernelTotal>();
  const wrappers = new Map<string, KernelTotal>();
  let kernelMilliseconds = 0;
  for (const kernel of profile.kernels) {
    const milliseconds = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    if (kernel.name === 'forward') {
      addTo(wrappers, `forward ${JSON.stringify(kernel.inputShapes)}`, milliseconds);
      continue;
    }
    kernelMilliseconds += milliseconds;
    addTo(byName, kernel.name, milliseconds);
    addTo(byShape, `${kernel.name} ${JSON.stringify(kernel.inputShapes)}`, milliseconds);
  }
  process.stdout.write(
    `SASRec, backend ${used}, batch ${batch}, length ${len}: profiled step ${stepMilliseconds.toFixed(0)} ms, ` +
      `${profile.kernels.length} kernels taking ${kernelMilliseconds.toFixed(0)} ms, ${(stepMilliseconds - kernelMilliseconds).toFixed(0)} ms outside kernels\n`,
  );
  printTop('By kernel:', byName, stepMilliseconds, 12);
  printTop('By kernel and input shapes:', byShape, stepMilliseconds, 12);
  printTop('Custom-gradient forward passes (time included in the kernels above):', wrappers, stepMilliseconds, 6);
}

void main();
