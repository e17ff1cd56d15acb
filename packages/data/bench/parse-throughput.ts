// Measures how fast loadDataset('ml-20m') reads a ratings.csv, against a plain line-splitting
// baseline that only splits lines and fields and converts them with Number(). Run from the
// repository root:
//   npx tsx packages/data/bench/parse-throughput.ts [rows]
// `rows` defaults to 20,000,000, the size of ML-20M (20,000,263 ratings). The file is
// generated under the system temporary folder with fixed pseudo-random content, and deleted
// at the end. Each phase runs in its own child process, so that each peak RSS is its own.

import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { loadDataset } from '../src/index';

/** Result of one phase, sent from the child process to the parent. */
interface PhaseResult {
  phase: string;
  rows: number;
  seconds: number;
  peakRssMiB: number;
}

const ML20M_USERS = 138_493;
const ML20M_ITEMS = 26_744;

/** Writes `rows` ratings in the ML-20M layout, grouped by user with increasing timestamps. */
async function writeRatings(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('userId,movieId,rating,timestamp\n');
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state;
  };
  const perUser = Math.max(1, Math.ceil(rows / ML20M_USERS));
  let written = 0;
  while (written < rows) {
    // One block of lines per write, so that the stream is not flooded.
    const lines: string[] = [];
    for (let k = 0; k < 100_000 && written < rows; k++, written++) {
      const user = 1 + Math.floor(written / perUser);
      const item = 1 + (next() % ML20M_ITEMS);
      const rating = (1 + (next() % 10)) / 2;
      const timestamp = 1_000_000_000 + written * 7 + (next() % 5);
      lines.push(`${user},${item},${rating.toFixed(1)},${timestamp}`);
    }
    if (!out.write(`${lines.join('\n')}\n`)) {
      await once(out, 'drain');
    }
  }
  out.end();
  await once(out, 'finish');
}

/** Baseline: split lines and fields, convert each field with Number(), count rows. */
async function baseline(path: string): Promise<number> {
  let rows = 0;
  let checksum = 0;
  let carry = '';
  let header = true;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (carry + (chunk as string)).split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (header) {
        header = false;
        continue;
      }
      const fields = line.split(',');
      checksum += Number(fields[0]) + Number(fields[1]) + Number(fields[2]) + Number(fields[3]);
      rows++;
    }
  }
  if (carry !== '') {
    rows++;
  }
  // The checksum keeps the conversions from being optimized away.
  return checksum === -1 ? -1 : rows;
}

/** Runs one phase in this (child) process and sends its result to the parent. */
async function runPhase(phase: string, dataDir: string): Promise<void> {
  const start = process.hrtime.bigint();
  let rows: number;
  if (phase === 'baseline') {
    rows = await baseline(join(dataDir, 'ml-20m', 'ratings.csv'));
  } else {
    const dataset = await loadDataset('ml-20m', { dataDir });
    rows = dataset.report.rowsRead;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  const result: PhaseResult = { phase, rows, seconds, peakRssMiB };
  process.send?.(result);
}

/** Forks this script for one phase and waits for its result. */
async function measure(phase: string, dataDir: string): Promise<PhaseResult> {
  const child = fork(__filename, ['--phase', phase, dataDir], { stdio: 'inherit' });
  const [message] = (await once(child, 'message')) as [PhaseResult];
  await once(child, 'exit');
  return message;
}

async function main(): Promise<void> {
  // A child process runs one phase.
  const phaseFlag = process.argv.indexOf('--phase');
  if (phaseFlag >= 0) {
    await runPhase(process.argv[phaseFlag + 1], process.argv[phaseFlag + 2]);
    return;
  }

  // Generate the file.
  const rows = Number(process.argv[2] ?? 20_000_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'malloc-parse-bench-'));
  try {
    const path = join(dataDir, 'ml-20m', 'ratings.csv');
    mkdirSync(join(dataDir, 'ml-20m'));
    const generateStart = process.hrtime.bigint();
    await writeRatings(path, rows);
    const megabytes = statSync(path).size / 2 ** 20;
    process.stdout.write(`generated ${rows} rows (${megabytes.toFixed(0)} MiB) in ${(Number(process.hrtime.bigint() - generateStart) / 1e9).toFixed(1)} s\n`);

    // Measure both phases, each in its own process.
    const plain = await measure('baseline', dataDir);
    const loaded = await measure('loadDataset', dataDir);
    for (const result of [plain, loaded]) {
      const rate = result.rows / result.seconds;
      process.stdout.write(
        `${result.phase}: ${result.rows} rows in ${result.seconds.toFixed(1)} s = ${(rate / 1e6).toFixed(2)} M rows/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB\n`,
      );
    }
    const ratio = (loaded.rows / loaded.seconds) / (plain.rows / plain.seconds);
    process.stdout.write(`loadDataset / baseline throughput ratio: ${ratio.toFixed(2)}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
