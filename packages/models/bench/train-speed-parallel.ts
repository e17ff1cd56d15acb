// Measures the data-parallel training throughput of SASRec, in tokens per second of one step
// of `trainModel`'s `workers` path, on random data of the shape that bench/train-speed.ts
// times. In that step the main thread and N − 1 worker threads compute shards, the main thread
// sums the gradients, applies AdamW and shares the weights back. It also splits the step's time into the main
// thread's own shard, the wait for the workers after it, and the serial rest (summing the
// gradients, the AdamW update and publishing the weights). It also prints the CPU seconds of
// the whole process (all threads) per step. Unlike wall time, CPU time depends little on what
// else runs on the machine. On 2 idle cores, 2 workers can be at most 2 × (CPU s of 1 worker /
// CPU s of 2 workers) times faster than 1.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/train-speed-parallel.ts [workers] [batch] [len] [steps] [sampling]
// Defaults: 2 workers, batch 128, length 200, 5 timed steps after 2 warm-up steps; wasm, d = 50,
// 2 layers, 1 head, dropout 0.2, sampled softmax with 128 negatives over 3,706 items (ML-1M's catalogue),
// drawn per position (`sampling` per-position) or once per batch (shared).
import { initBackend } from '../src/backend/backend';
import { parallelTrainStep, type StepTimings } from '../src/parallel/parallel-step';
import { ReplicaPool } from '../src/parallel/pool';
import { planShards } from '../src/parallel/shards';
import { deriveSeed, SeededRandom } from '../src/random';
import { resolveSasRecConfig } from '../src/sasrec/config';
import { SasRec } from '../src/sasrec/sasrec';
import { buildTrainingBatch, type TrainingData } from '../src/training/data';
import { AdamW } from '../src/training/optimizer';
import { trainStep, type StepSettings } from '../src/training/step';

/** Random data of `users` users with `len + 2` items each, so that every user has `len` inputs with a target. */
function randomData(users: number, len: number, itemCount: number): TrainingData {
  const random = new SeededRandom(7);
  const perUser = len + 2;
  const items = Int32Array.from({ length: users * perUser }, () => 1 + random.nextInt(itemCount));
  return {
    itemCount,
    offsets: Int32Array.from({ length: users + 1 }, (_, user) => user * perUser),
    items,
    trainEnd: new Int32Array(users).fill(len + 1),
  };
}

async function main(): Promise<void> {
  const workers = Number(process.argv[2] ?? 2);
  const batch = Number(process.argv[3] ?? 128);
  const len = Number(process.argv[4] ?? 200);
  const steps = Number(process.argv[5] ?? 5);
  const sampling = process.argv[6] ?? 'per-position';
  if (sampling !== 'per-position' && sampling !== 'shared') {
    throw new RangeError(`train-speed-parallel: sampling must be 'per-position' or 'shared', received '${sampling}'.`);
  }
  const itemCount = 3706;
  const used = await initBackend('wasm');

  // Model, optimizer, data and (for more than one worker) the worker threads.
  const model = new SasRec(resolveSasRecConfig({ itemCount, maxLength: Math.max(200, len) }), 1);
  const optimizer = new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0 });
  const data = randomData(batch, len, itemCount);
  const users = Int32Array.from({ length: batch }, (_, user) => user);
  const settings: StepSettings = { loss: 'sampled-softmax', negatives: 128, temperature: 0.05, negativeSampling: sampling };
  const pool = workers > 1 ? await ReplicaPool.start(model, { threads: workers - 1, backend: used }) : null;

  // One step, timed to its loss value. It returns the seconds of the whole step.
  const timings: StepTimings = { localSeconds: 0, waitSeconds: 0, updateSeconds: 0 };
  const runStep = async (step: number, timed: boolean): Promise<number> => {
    const seed = deriveSeed(1, 1, step);
    const started = performance.now();
    if (pool === null) {
      trainStep(model, optimizer, buildTrainingBatch(data, users, len), settings, new SeededRandom(seed));
    } else {
      await parallelTrainStep(model, optimizer, pool, planShards(data, users, len, workers, settings, seed), settings, timed ? timings : undefined);
    }
    return (performance.now() - started) / 1000;
  };

  try {
    // Warm up, then time each step.
    for (let step = 1; step <= 2; step++) {
      await runStep(step, false);
    }
    const seconds: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (let step = 3; step < 3 + steps; step++) {
      seconds.push(await runStep(step, true));
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerStep = (cpu.user + cpu.system) / 1e6 / steps;
    seconds.sort((a, b) => a - b);
    const median = seconds[Math.floor(seconds.length / 2)];
    const tokens = batch * len;
    process.stdout.write(
      `sasrec, backend ${used}, workers ${workers}, batch ${batch}, length ${len}, d 50, ${sampling} negatives: median step ${median.toFixed(3)} s ` +
        `(min ${seconds[0].toFixed(3)}, max ${seconds[seconds.length - 1].toFixed(3)}), ${Math.round(tokens / median)} tokens/s\n`,
    );
    process.stdout.write(`CPU time of all threads: ${cpuPerStep.toFixed(3)} s per step\n`);
    if (pool !== null) {
      const perStep = (value: number): string => `${((value / steps) * 1000).toFixed(0)} ms`;
      process.stdout.write(
        `mean per step: main thread's shard ${perStep(timings.localSeconds)}, wait for workers ${perStep(timings.waitSeconds)}, ` +
          `sum + AdamW + publish ${perStep(timings.updateSeconds)}\n`,
      );
    }
  } finally {
    await pool?.close();
    optimizer.dispose();
    model.dispose();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
