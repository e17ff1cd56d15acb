// Checks that the PyTorch peer of bench/train-vs-torch.ts computes the same training step as
// our SASRec: both sides take the same weights, a small padded batch and the same negatives,
// with dropout 0, and their losses and gradients are compared. It checks both negative
// samplings: per position (the default) and shared by the batch.
//
// Our side is `lossAndGradients` (the first half of `trainStep`) on the cpu backend. The
// PyTorch side is bench/torch_sasrec_parity.py, which loads the weights into the model of
// bench/torch_sasrec_step.py. Exits with status 1 when they differ.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/torch-parity.ts [--python /usr/bin/python3]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend';
import { SeededRandom } from '../src/random';
import { resolveSasRecConfig } from '../src/sasrec/config';
import { SasRec } from '../src/sasrec/sasrec';
import type { NegativeSampling } from '../src/training/losses';
import { lossAndGradients } from '../src/training/step';

/** Small catalogue, so that many of the 128 negatives equal a target and the collision bias is exercised. */
const ITEM_COUNT = 60;
const NEGATIVES = 128;
const TEMPERATURE = 0.05;
/** Input lengths of the batch rows. Shorter rows are right-padded with item 0. */
const LENGTHS = [12, 7, 10];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { python: { type: 'string', default: '/usr/bin/python3' } } });
  await initBackend('cpu');

  // Model without dropout, so that both sides are deterministic.
  const model = new SasRec(resolveSasRecConfig({ itemCount: ITEM_COUNT, maxLength: 200, dropout: 0 }), 3);

  // A right-padded batch with a target at every real position.
  const batch = LENGTHS.length;
  const len = Math.max(...LENGTHS);
  const data = new SeededRandom(11);
  const items = new Int32Array(batch * len); // [batch, len]
  const positions = new Int32Array(batch * len); // [batch, len]
  const targets = new Int32Array(batch * len); // [batch, len]
  const rows: number[] = [];
  LENGTHS.forEach((length, row) => {
    for (let i = 0; i < length; i++) {
      const flat = row * len + i;
      items[flat] = 1 + data.nextInt(ITEM_COUNT);
      targets[flat] = 1 + data.nextInt(ITEM_COUNT);
      positions[flat] = i;
      rows.push(flat);
    }
  });

  const trainingBatch = { encoder: { batch, len, items, positions, timestamps: null }, targets, rows: Int32Array.from(rows) };
  let failed = false;
  for (const sampling of ['per-position', 'shared'] as const) {
    const result = compareWithPeer(model, trainingBatch, sampling, values.python);
    process.stdout.write(`${sampling} negatives: in ${result.collisions} of ${result.pairs} (position, negative) pairs the negative is the target.\n${result.stdout}`);
    process.stderr.write(result.stderr);
    failed ||= result.status !== 0;
  }
  process.exitCode = failed ? 1 : 0;
}

/** Runs one step of both sides with the given negative sampling and returns the PyTorch side's verdict. */
function compareWithPeer(
  model: SasRec,
  trainingBatch: { encoder: { batch: number; len: number; items: Int32Array; positions: Int32Array; timestamps: null }; targets: Int32Array; rows: Int32Array },
  sampling: NegativeSampling,
  python: string,
): { collisions: number; pairs: number; stdout: string; stderr: string; status: number | null } {
  const { encoder, targets, rows } = trainingBatch;
  const tokenTargets = Array.from(rows, (flat) => targets[flat]); // [tokens]

  // The loss draws its negatives first from the generator it is given (dropout 0 draws
  // nothing), so a second generator with the same seed yields the same ids.
  const seed = 5;
  const copy = new SeededRandom(seed);
  const perPosition = sampling === 'per-position';
  const flat = Array.from({ length: perPosition ? tokenTargets.length * NEGATIVES : NEGATIVES }, () => 1 + copy.nextInt(ITEM_COUNT));
  const negatives = perPosition ? tokenTargets.map((_, t) => flat.slice(t * NEGATIVES, (t + 1) * NEGATIVES)) : flat; // [tokens, negatives] or [negatives]
  const collisions = perPosition ? flat.filter((id, i) => id === tokenTargets[Math.floor(i / NEGATIVES)]).length : tokenTargets.reduce((sum, target) => sum + flat.filter((id) => id === target).length, 0);
  const { loss, gradients } = lossAndGradients(model, trainingBatch, { loss: 'sampled-softmax', negatives: NEGATIVES, temperature: TEMPERATURE, negativeSampling: sampling }, new SeededRandom(seed));

  // Hand everything to the PyTorch side.
  const folder = mkdtempSync(path.join(tmpdir(), 'torch-parity-'));
  const file = path.join(folder, 'step.json');
  writeFileSync(
    file,
    JSON.stringify({
      batch: encoder.batch,
      len: encoder.len,
      itemCount: ITEM_COUNT,
      temperature: TEMPERATURE,
      items: Array.from(encoder.items),
      positions: Array.from(encoder.positions),
      targets: Array.from(targets),
      rows: Array.from(rows),
      negatives,
      loss: loss.dataSync()[0],
      weights: Object.fromEntries(model.variables.map((entry) => [entry.name, { shape: entry.variable.shape, values: Array.from(entry.variable.dataSync()) }])),
      gradients: Object.fromEntries(model.variables.map((entry, index) => [entry.name, Array.from(gradients[index].dataSync())])),
    }),
  );
  tf.dispose([loss, ...gradients]);
  const result = spawnSync(python, [path.join(__dirname, 'torch_sasrec_parity.py'), file], { encoding: 'utf8' });
  rmSync(folder, { recursive: true, force: true });
  if (result.error !== undefined) {
    throw new Error(`torch-parity: failed to start '${python}': ${result.error.message}`);
  }
  return { collisions, pairs: tokenTargets.length * NEGATIVES, stdout: result.stdout, stderr: result.stderr, status: result.status };
}
void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
