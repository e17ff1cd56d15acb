// Measures how many test users per second the runner's evaluation serves on MovieLens-1M, in
// total and per phase (prefill, compress, append, score, rank). It calls `evaluateCells`, the
// function `malloc bench` runs, so the measured code is the runner's own.
//
// Usage: MALLOC_DATA_DIR=/path/to/data npx tsx --tsconfig bench/tsconfig.json bench/eval-speed.ts \
//          [--backend wasm] [--strategies full] [--ratios 0.5] [--users 6040] [--checkpoint DIR] [--seed 1] \
//          [--prefill-window 1]
//
// `--prefill-window N` prefills the histories of N consecutive users in one call, the
// `prefillWindow` option of `evaluateCells` (default 1, each user alone).
//
// Without `--checkpoint` the model is a SASRec of the quick preset's shape (max length 200,
// d = 50, 2 layers, 1 head) with seeded untrained weights. Speed does not depend on the
// weights, but the printed metrics are only meaningful for a trained checkpoint.
import { cpus, loadavg } from 'node:os';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { leaveOneOut, loadDataset } from '@malloc/data';
import { initBackend, loadCheckpoint, type BackendName, type SequentialModel } from '@malloc/models';
import { needsAttentionStats, planCells } from '../src/cells';
import { DEFAULT_CONFIG, type RunConfig } from '../src/config';
import { evaluateCells, type PhaseSamples } from '../src/evaluate';
import { PRESETS } from '../src/presets';
import { seededSample } from '../src/sampling';
import { createModel } from '../src/training';

interface Args {
  backend: BackendName | 'auto';
  strategies: string[];
  ratios: number[];
  users: number | null;
  checkpoint: string | null;
  seed: number;
  prefillWindow: number;
}

const USAGE = 'usage: eval-speed.ts [--backend auto|wasm|cpu|tensorflow] [--strategies full,window] [--ratios 0.5,0.75] [--users N] [--checkpoint DIR] [--seed N] [--prefill-window N]';

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { backend: 'wasm', strategies: ['full'], ratios: [0.5], users: null, checkpoint: null, seed: 1, prefillWindow: 1 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) {
      throw new RangeError(`eval-speed: option ${argv[i]} is missing its value. ${USAGE}`);
    }
    switch (argv[i]) {
      case '--backend':
        args.backend = value as Args['backend'];
        break;
      case '--strategies':
        args.strategies = value.split(',');
        break;
      case '--ratios':
        args.ratios = value.split(',').map(Number);
        break;
      case '--users':
        args.users = Number(value);
        break;
      case '--checkpoint':
        args.checkpoint = value;
        break;
      case '--seed':
        args.seed = Number(value);
        break;
      case '--prefill-window':
        args.prefillWindow = Number(value);
        break;
      default:
        throw new RangeError(`eval-speed: unknown option ${argv[i]}. ${USAGE}`);
    }
  }
  return args;
}

/**
 * Sums one phase's per-user samples in seconds over all cells. Prefill runs once per user and
 * every cache cell records the same sample, so it is counted from one cell only.
 */
function phaseSeconds(samples: readonly PhaseSamples[], phase: keyof PhaseSamples): number {
  const perCell = samples.map((cell) => cell[phase].reduce((sum, ms) => sum + ms, 0) / 1000);
  if (phase === 'prefill') {
    return Math.max(0, ...perCell);
  }
  return perCell.reduce((total, seconds) => total + seconds, 0);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const loadBefore = loadavg()[0];
  const dataDir = process.env['MALLOC_DATA_DIR'];
  if (dataDir === undefined || dataDir === '') {
    throw new Error('eval-speed: MALLOC_DATA_DIR is not set. Set it to the folder that contains ml-1m/.');
  }

  // The runner's data path: ML-1M, leave-one-out, the test users (a seeded sample with --users).
  const backend = await initBackend(args.backend);
  const dataset = await loadDataset('ml-1m', { dataDir });
  const split = leaveOneOut(dataset);
  const userIndices = seededSample(split.test.users.length, args.users, DEFAULT_CONFIG.evaluation.sampleSeed);

  // A trained checkpoint, or a fresh model of the quick preset's shape.
  const config: RunConfig = { ...DEFAULT_CONFIG, model: { ...DEFAULT_CONFIG.model, ...PRESETS['quick'].model } };
  const model: SequentialModel = args.checkpoint === null ? createModel('sasrec', config, dataset.itemCount, args.seed) : await loadCheckpoint(args.checkpoint);

  // The cells and settings `malloc bench` would use.
  const cells = planCells(args.strategies, args.ratios);
  // CPU time of this process is reported too, because other jobs on the machine stretch the wall time.
  const cpuBefore = process.cpuUsage();
  const result = evaluateCells({ model, dataset, split: split.test, userIndices, cells, settings: config.evaluation, recordStats: needsAttentionStats(cells), prefillWindow: args.prefillWindow });
  const cpuUsed = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6;

  // Report the rate overall and per phase.
  const users = result.usersEvaluated;
  const samples = result.measurements.map((measurement) => measurement.samples);
  const threads = backend === 'wasm' ? getThreadsCount() : 1;
  const lines = [
    `command: ${process.argv.map((part) => (part.includes(' ') ? JSON.stringify(part) : part)).join(' ')}`,
    `backend: ${backend}, threads: ${threads}, cpus: ${cpus().length}, load average before: ${loadBefore.toFixed(2)}`,
    `model: ${model.kind} ${args.checkpoint ?? `untrained (seed ${args.seed})`}, maxLength ${model.config.maxLength}, d ${model.config.hiddenSize}, layers ${model.config.layers}, heads ${model.config.heads}`,
    `prefill window: ${args.prefillWindow} users`,
    `cells: ${cells.map((cell) => `${cell.strategy}${cell.setting === '' ? '' : `(${cell.setting})`}`).join(', ')}`,
    `users: ${users} evaluated, ${result.usersSkipped} skipped, ${result.seconds.toFixed(2)} s, ${(users / result.seconds).toFixed(1)} users/s overall`,
    `process CPU time: ${cpuSeconds.toFixed(2)} s, ${(users / cpuSeconds).toFixed(1)} users per CPU second`,
  ];
  for (const phase of ['prefill', 'compress', 'append', 'score', 'rank'] as const) {
    const seconds = phaseSeconds(samples, phase);
    const rate = seconds > 0 ? `${(users / seconds).toFixed(0)} users/s` : 'not run';
    lines.push(`  ${phase.padEnd(8)} ${seconds.toFixed(2)} s, ${((seconds * 1000) / users).toFixed(3)} ms/user, ${rate}`);
  }
  for (const measurement of result.measurements) {
    const means = measurement.ranking.count > 0 ? measurement.ranking.means() : {};
    const metrics = ['hit@10', 'ndcg@10', 'mrr'].map((key) => `${key} ${(means[key] ?? Number.NaN).toFixed(4)}`).join(', ');
    lines.push(`${measurement.cell.strategy}${measurement.cell.setting === '' ? '' : ` ${measurement.cell.setting}`}: ${metrics}${measurement.error === null ? '' : `, failed: ${measurement.error}`}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  model.dispose();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
