// Measures SASRec training throughput side by side with a PyTorch peer of the same
// configuration (bench/torch_sasrec_step.py) on the same machine, and prints a Markdown table.
//
// Each round runs these one after the other:
// - our step with 1 worker: `trainStep` on the wasm backend, through bench/train-speed.ts. It
//   is single-threaded because TensorFlow.js 4.22 disables wasm threads under Node;
// - our data-parallel step with 2..N workers, through bench/train-speed-parallel.ts: N
//   replicas, the main thread and N − 1 worker threads, each with its own wasm backend;
// - PyTorch at 1 thread, then PyTorch at 2 threads. Alternating the
// sides gives all of them a similar share of whatever else runs on the machine. The load
// averages are recorded before each measurement.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/train-vs-torch.ts [--rounds 2] [--steps 5]
//          [--batch 128] [--length 200] [--workers 2] [--python /usr/bin/python3]
//          [--sampling per-position|shared]
// --workers N measures ours with every worker count from 1 to N (default 2). --sampling sets
// how both sides' sampled softmax draws its 128 negatives (default per-position, the default
// of trainModel).
// With MALLOC_DATA_DIR set, the ML-1M epoch size is counted from ml-1m/sequences.txt.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

/** Tokens per second that make one ML-1M epoch take 60 s. */
const TARGET_TOKENS_PER_SECOND = 20_000;

/**
 * Training positions of one ML-1M epoch, used when MALLOC_DATA_DIR is unset: the counts of
 * {@link countEpochPositions} for the ml-1m/sequences.txt of 6,040 users and 1,000,209
 * interactions described in the data README.
 */
const ML1M_EPOCH_POSITIONS = { truncated: 647_619, untruncated: 988_129 };

/** One throughput measurement of either side. */
interface Measurement {
  round: number;
  side: 'ours' | 'pytorch';
  /** PyTorch's intra-op threads, or our workers (replicas of the model, one thread each). */
  threads: number;
  /** 1-, 5- and 15-minute load averages just before the measurement started. */
  load: number[];
  medianStepSeconds: number;
  tokensPerSecond: number;
}

/** Command-line settings of the comparison. */
interface Settings {
  rounds: number;
  steps: number;
  batch: number;
  length: number;
  workers: number;
  python: string;
  /** Negative sampling of both sides' sampled softmax. */
  sampling: 'per-position' | 'shared';
}

const PACKAGE_DIR = path.resolve(__dirname, '..');

function parseSettings(): Settings {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '2' },
      steps: { type: 'string', default: '5' },
      batch: { type: 'string', default: '128' },
      length: { type: 'string', default: '200' },
      workers: { type: 'string', default: '2' },
      python: { type: 'string', default: '/usr/bin/python3' },
      sampling: { type: 'string', default: 'per-position' },
    },
  });
  if (values.sampling !== 'per-position' && values.sampling !== 'shared') {
    throw new RangeError(`train-vs-torch: --sampling must be 'per-position' or 'shared', received '${values.sampling}'.`);
  }
  const positive = (name: 'rounds' | 'steps' | 'batch' | 'length' | 'workers'): number => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`train-vs-torch: --${name} must be an integer ≥ 1, received '${values[name]}'.`);
    }
    return value;
  };
  return {
    rounds: positive('rounds'),
    steps: positive('steps'),
    batch: positive('batch'),
    length: positive('length'),
    workers: positive('workers'),
    python: values.python,
    sampling: values.sampling,
  };
}

/** Runs a command in the package folder and returns its standard output. Throws with the end of its error output when it fails. */
function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd: PACKAGE_DIR, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error !== undefined) {
    throw new Error(`train-vs-torch: failed to start '${command}': ${result.error.message}`);
  }
  if (result.status !== 0) {
    throw new Error(`train-vs-torch: '${command} ${args.join(' ')}' exited with status ${result.status}:\n${result.stderr.slice(-2000)}`);
  }
  return result.stdout;
}

/**
 * Runs bench/train-speed.ts (the real `trainStep` on wasm) for 1 worker, or
 * bench/train-speed-parallel.ts (the real data-parallel step) for more, and reads the median step.
 */
function measureOurs(settings: Settings, round: number, workers: number): Measurement {
  const load = loadavg();
  const sizes = [String(settings.batch), String(settings.length), String(settings.steps)];
  const script = workers === 1 ? ['bench/train-speed.ts', 'wasm', ...sizes, 'sasrec', settings.sampling] : ['bench/train-speed-parallel.ts', String(workers), ...sizes, settings.sampling];
  const output = run('npx', ['tsx', '--tsconfig', 'bench/tsconfig.json', ...script]);
  const match = /backend wasm,.*median step ([\d.]+) s .*?, (\d+) tokens\/s/.exec(output);
  if (match === null) {
    throw new Error(`train-vs-torch: no wasm median step in the output of train-speed.ts: '${output.trim()}'`);
  }
  return { round, side: 'ours', threads: workers, load, medianStepSeconds: Number(match[1]), tokensPerSecond: Number(match[2]) };
}

/** Runs bench/torch_sasrec_step.py at `threads` intra-op threads and reads its JSON line. */
function measureTorch(settings: Settings, round: number, threads: number): Measurement {
  const load = loadavg();
  const args = ['bench/torch_sasrec_step.py', '--threads', String(threads), '--batch', String(settings.batch), '--length', String(settings.length), '--steps', String(settings.steps), '--sampling', settings.sampling];
  const output = run(settings.python, args);
  const result = JSON.parse(output.trim().split('\n').pop() ?? '') as { threads: number; median_step_s: number; tokens_per_s: number };
  if (result.threads !== threads) {
    throw new Error(`train-vs-torch: PyTorch ran with ${result.threads} threads, expected ${threads}.`);
  }
  return { round, side: 'pytorch', threads, load, medianStepSeconds: result.median_step_s, tokensPerSecond: result.tokens_per_s };
}

/**
 * Counts the training positions of one ML-1M epoch as bench/ml1m.ts builds it: each user of
 * n items trains on s[0..n−2), so it has min(n − 3, maxLength) input positions with a target.
 * Also returns n − 2 summed over users, the count when every position before the test item is
 * a target and no input is cut to maxLength.
 */
function countEpochPositions(dataDir: string, maxLength: number): { truncated: number; untruncated: number } {
  const file = path.join(dataDir, 'ml-1m', 'sequences.txt');
  if (!existsSync(file)) {
    throw new Error(`train-vs-torch: ${file} not found; set MALLOC_DATA_DIR to the folder that contains ml-1m/sequences.txt.`);
  }
  let truncated = 0;
  let untruncated = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') {
      continue;
    }
    const n = line.trim().split(' ').length - 1;
    const trainEnd = n - 2;
    if (trainEnd >= 2) {
      truncated += Math.min(trainEnd - 1, maxLength);
    }
    untruncated += Math.max(0, n - 2);
  }
  return { truncated, untruncated };
}

function formatNumber(value: number, digits = 0): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const settings = parseSettings();

  // Epoch size: counted from the data when it is available, else the stored counts.
  const dataDir = process.env['MALLOC_DATA_DIR'];
  const epoch = dataDir === undefined ? ML1M_EPOCH_POSITIONS : countEpochPositions(dataDir, 200);
  const epochSource = dataDir === undefined ? 'stored counts, MALLOC_DATA_DIR is unset' : `counted from ${dataDir}`;
  const epochSeconds = (tokensPerSecond: number): string =>
    `${formatNumber(epoch.truncated / tokensPerSecond, 1)} / ${formatNumber(epoch.untruncated / tokensPerSecond, 1)}`;

  // Alternate the sides so that both run under the same machine load.
  const measurements: Measurement[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const ours = Array.from({ length: settings.workers }, (_, index) => () => measureOurs(settings, round, index + 1));
    for (const measure of [...ours, () => measureTorch(settings, round, 1), () => measureTorch(settings, round, 2)]) {
      const measurement = measure();
      measurements.push(measurement);
      process.stderr.write(`round ${round}: ${measurement.side} at ${measurement.threads} thread(s), ${formatNumber(measurement.tokensPerSecond)} tokens/s, load ${measurement.load[0].toFixed(2)}\n`);
    }
  }

  // One row per measurement; each of our rows is compared with PyTorch's rows of the same round.
  const lines: string[] = [];
  lines.push(`SASRec training step, batch ${settings.batch} × length ${settings.length}, d = 50, median of ${settings.steps} steps after 2 warm-up steps.`);
  lines.push(
    `ML-1M epoch (${epochSource}): ${formatNumber(epoch.truncated)} training positions as bench/ml1m.ts trains (s[0..n−2) per user, newest 200 inputs), ` +
      `${formatNumber(epoch.untruncated)} with every position before the test item and no cut to 200 inputs.`,
  );
  lines.push('');
  lines.push(
    `| round | side | workers / threads | load avg 1/5/15 min before | median step | tokens/s | s per ML-1M epoch (${formatNumber(epoch.truncated)} / ${formatNumber(epoch.untruncated)} positions) | ` +
      'ours / PyTorch 1 thread | ours / PyTorch 2 threads | ratio to 20,000 tokens/s |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const entry of measurements) {
    const versus = (threads: number): string => {
      const torch = measurements.find((other) => other.round === entry.round && other.side === 'pytorch' && other.threads === threads);
      return entry.side === 'ours' && torch !== undefined ? (entry.tokensPerSecond / torch.tokensPerSecond).toFixed(2) : '—';
    };
    const label = entry.side === 'ours' ? 'ours (TensorFlow.js wasm)' : 'PyTorch';
    lines.push(
      `| ${entry.round} | ${label} | ${entry.threads} | ${entry.load.map((value) => value.toFixed(2)).join(' / ')} | ${entry.medianStepSeconds.toFixed(3)} s | ` +
        `${formatNumber(entry.tokensPerSecond)} | ${epochSeconds(entry.tokensPerSecond)} | ${versus(1)} | ${versus(2)} | ${(entry.tokensPerSecond / TARGET_TOKENS_PER_SECOND).toFixed(2)} |`,
    );
  }

  // Medians over the rounds.
  const medianOf = (side: Measurement['side'], threads: number): number =>
    median(measurements.filter((entry) => entry.side === side && entry.threads === threads).map((entry) => entry.tokensPerSecond));
  const torch1 = medianOf('pytorch', 1);
  const torch2 = medianOf('pytorch', 2);
  lines.push('');
  lines.push(`Medians over ${settings.rounds} round(s): PyTorch 1 thread ${formatNumber(torch1)} tokens/s, PyTorch 2 threads ${formatNumber(torch2)} tokens/s.`);
  for (let workers = 1; workers <= settings.workers; workers++) {
    const ours = medianOf('ours', workers);
    lines.push(
      `Ours with ${workers} worker(s): ${formatNumber(ours)} tokens/s (${epochSeconds(ours)} s per epoch); ours / PyTorch 1 thread ${(ours / torch1).toFixed(2)}, ` +
        `ours / PyTorch 2 threads ${(ours / torch2).toFixed(2)}, ours / 20,000 target ${(ours / TARGET_TOKENS_PER_SECOND).toFixed(2)}.`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
