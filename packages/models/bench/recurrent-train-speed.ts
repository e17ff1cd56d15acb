// Measures the training throughput of SASRec, GRU4Rec and RWKV in one run: tokens per second
// of `trainStep` (forward, backward, AdamW update) on MovieLens-1M batches, and each model's
// ratio against SASRec.
//
// Usage: MALLOC_DATA_DIR=/path/to/data npx tsx --tsconfig bench/tsconfig.json bench/recurrent-train-speed.ts \
//          [--batches 8] [--warmup 2] [--batch 32] [--max-length 200] [--layers 2] [--backend wasm] [--models sasrec,gru4rec,rwkv]
//
// Setup: d = 50, `layers` layers for every model (SASRec with 1 head), dropout 0.2, sampled
// softmax with 128 negatives, AdamW. The batches are the first `warmup + batches` of one
// seeded training epoch over ML-1M, so every model trains on the same batches. Items are
// renumbered 1..3706, the last two items of each user are held out, windows keep the newest
// `max-length` inputs, and batches are bucketed by length as `trainModel` does. Rounds are interleaved:
// each round runs the same batch through every model, so a change in machine load during the
// run affects all models alike. A token is a position with a target; padding is not counted.
// Tokens/s is reported twice: by wall-clock time, and by the CPU time of this process
// (user + system), which a busy machine disturbs less.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { initBackend, type BackendName } from '../src/backend/backend';
import type { TrainableModel } from '../src/model/types';
import { SeededRandom } from '../src/random';
import { GRU4REC_DEFAULTS, RWKV_DEFAULTS, resolveRecurrentConfig } from '../src/recurrent/config';
import { Gru4Rec } from '../src/recurrent/gru4rec';
import { Rwkv } from '../src/recurrent/rwkv';
import { resolveSasRecConfig } from '../src/sasrec/config';
import { SasRec } from '../src/sasrec/sasrec';
import { buildTrainingBatch, planEpoch, trainableUsers, type TrainingBatch, type TrainingData } from '../src/training/data';
import { AdamW } from '../src/training/optimizer';
import { trainStep } from '../src/training/step';

interface Args {
  batches: number;
  warmup: number;
  batch: number;
  maxLength: number;
  layers: number;
  backend: BackendName;
  models: string;
}

/** Totals of one model over the timed batches. */
interface Timing {
  tokens: number;
  wallSeconds: number;
  cpuSeconds: number;
}

function parseArgs(): Args {
  const args: Args = { batches: 8, warmup: 2, batch: 32, maxLength: 200, layers: 2, backend: 'wasm', models: 'sasrec,gru4rec,rwkv' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Args;
    if (!(key in args)) {
      throw new Error(`Unknown option ${argv[i]}; the options are --batches, --warmup, --batch, --max-length, --layers, --backend and --models.`);
    }
    (args as unknown as Record<string, unknown>)[key] = key === 'backend' || key === 'models' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return args;
}

/** Reads ml-1m/sequences.txt into training data with items renumbered 1..nItems and the last two items of each user held out. */
function readMovieLens(dataDir: string): TrainingData {
  const lines = readFileSync(path.join(dataDir, 'ml-1m', 'sequences.txt'), 'utf8').trim().split('\n');
  const sequences = lines.map((line) => line.split(' ').slice(1).map(Number));
  const distinct = [...new Set(sequences.flat())].sort((a, b) => a - b);
  const remap = new Map(distinct.map((id, index) => [id, index + 1]));
  const offsets = new Int32Array(sequences.length + 1);
  sequences.forEach((sequence, user) => (offsets[user + 1] = offsets[user] + sequence.length));
  const items = new Int32Array(offsets[sequences.length]);
  sequences.forEach((sequence, user) => sequence.forEach((id, i) => (items[offsets[user] + i] = remap.get(id) as number)));
  const trainEnd = Int32Array.from(sequences, (sequence) => sequence.length - 2);
  return { itemCount: distinct.length, offsets, items, trainEnd };
}

function createModel(kind: string, itemCount: number, args: Args): TrainableModel {
  const shared = { itemCount, maxLength: args.maxLength, hiddenSize: 50, layers: args.layers, dropout: 0.2 };
  switch (kind) {
    case 'sasrec':
      return new SasRec(resolveSasRecConfig({ ...shared, heads: 1 }), 1);
    case 'gru4rec':
      return new Gru4Rec(resolveRecurrentConfig('recurrent-train-speed', shared, GRU4REC_DEFAULTS), 1);
    case 'rwkv':
      return new Rwkv(resolveRecurrentConfig('recurrent-train-speed', shared, RWKV_DEFAULTS), 1);
    default:
      throw new Error(`Unknown model '${kind}'; expected sasrec, gru4rec or rwkv.`);
  }
}

/** Runs one training step and returns its wall-clock and CPU seconds. */
function timedStep(model: TrainableModel, optimizer: AdamW, batch: TrainingBatch, random: SeededRandom): { wall: number; cpu: number } {
  const settings = { loss: 'sampled-softmax' as const, negatives: 128, temperature: 0.05 };
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  trainStep(model, optimizer, batch, settings, random);
  const wall = (performance.now() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  return { wall, cpu: (cpu.user + cpu.system) / 1e6 };
}

async function main(): Promise<void> {
  const args = parseArgs();
  const dataDir = process.env['MALLOC_DATA_DIR'];
  if (dataDir === undefined) {
    throw new Error('Set MALLOC_DATA_DIR to the folder that contains ml-1m/sequences.txt.');
  }
  const backend = await initBackend(args.backend);
  const data = readMovieLens(dataDir);

  // The same seeded batches for every model.
  const plan = planEpoch(data, trainableUsers(data), args.maxLength, args.batch, 16, new SeededRandom(1));
  const batches = plan.slice(0, args.warmup + args.batches).map((users) => buildTrainingBatch(data, users, args.maxLength));
  const kinds = args.models.split(',');
  const models = kinds.map((kind) => createModel(kind, data.itemCount, args));
  const optimizers = models.map((model) => new AdamW(model.variables, { learningRate: 1e-3, weightDecay: 0 }));
  const randoms = kinds.map(() => new SeededRandom(7));
  const timings: Timing[] = kinds.map(() => ({ tokens: 0, wallSeconds: 0, cpuSeconds: 0 }));
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  log(`backend ${backend}; d 50, ${args.layers} layers, batch ${args.batch}, max length ${args.maxLength}; ${args.warmup} warm-up and ${args.batches} timed batches`);

  // Interleaved rounds: batch r through every model.
  batches.forEach((batch, round) => {
    models.forEach((model, index) => {
      const step = timedStep(model, optimizers[index], batch, randoms[index]);
      if (round >= args.warmup) {
        timings[index].tokens += batch.rows.length;
        timings[index].wallSeconds += step.wall;
        timings[index].cpuSeconds += step.cpu;
      }
    });
  });
  const timedTokens = timings[0].tokens;
  const padded = batches.slice(args.warmup).reduce((total, batch) => total + batch.encoder.batch * batch.encoder.len, 0);
  log(`timed batches: ${timedTokens} tokens, ${padded} positions with padding`);

  // Throughput and ratio against the first model (SASRec by default).
  log('| model | wall s/batch | tokens/s (wall) | tokens/s (CPU) | ratio to first (wall) | ratio to first (CPU) |');
  log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const baseWall = timings[0].tokens / timings[0].wallSeconds;
  const baseCpu = timings[0].tokens / timings[0].cpuSeconds;
  kinds.forEach((kind, index) => {
    const timing = timings[index];
    const wall = timing.tokens / timing.wallSeconds;
    const cpu = timing.tokens / timing.cpuSeconds;
    log(`| ${kind} | ${(timing.wallSeconds / args.batches).toFixed(3)} | ${Math.round(wall)} | ${Math.round(cpu)} | ${(wall / baseWall).toFixed(2)} | ${(cpu / baseCpu).toFixed(2)} |`);
  });
  models.forEach((model) => model.dispose());
}

void main();
