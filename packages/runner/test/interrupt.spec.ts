import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INTERRUPTED_EXIT_STATUS } from '../src/interrupt';
import { readResults, type ResultRow } from '../src/results-store';

// The child runs the command from its TypeScript sources through tsx, with the workspace
// packages mapped to their sources as in jest, so the test needs no build.
const PACKAGE_ROOT = join(__dirname, '..');
const CLI = join(PACKAGE_ROOT, 'src', 'cli.ts');
const SOURCES_TSCONFIG = join(__dirname, 'fixtures', 'tsconfig.sources.json');

/** Two seeds, two epochs and three cells on a 60-user synthetic dataset: about 3 s a run. */
const CONFIG = {
  preset: 'smoke',
  backend: 'cpu',
  seeds: [1, 2],
  strategies: ['full', 'window'],
  compressionRatios: [0.5, 0.875],
  report: false,
  training: { epochs: 2 },
  evaluation: { maxUsers: 40 },
  synthetic: { users: 60, items: 40, meanLength: 20, maxLength: 40, seed: 7 },
};

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs `malloc bench` in a child process. With `kill`, the child gets `kill.signal`
 * `kill.afterMs` milliseconds after it logs the start of its run, when its stop handlers are
 * already installed.
 */
function runChild(configPath: string, out: string, kill: { afterMs: number; signal: NodeJS.Signals } | null): Promise<ChildExit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'bench', '--config', configPath, '--out', out], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: SOURCES_TSCONFIG },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let timer: NodeJS.Timeout | null = null;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (kill !== null && timer === null && stderr.includes('\nRun ')) {
        timer = setTimeout(() => child.kill(kill.signal), kill.afterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== null) {
        clearTimeout(timer);
      }
      resolvePromise({ code, signal, stderr });
    });
  });
}

/** Mulberry32: a small seeded generator for the kill moments. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function comparable(rows: ResultRow[]): unknown[] {
  return rows
    .map((row) => ({ cellKey: row.cellKey, status: row.status, metrics: row.metrics, confidence: row.confidence, bytesPerUser: row.bytesPerUser, fullBytesPerUser: row.fullBytesPerUser, usersEvaluated: row.usersEvaluated }))
    .sort((a, b) => (a.cellKey < b.cellKey ? -1 : 1));
}

describe('malloc bench interrupted by signals', () => {
  jest.setTimeout(90_000);
  const root = mkdtempSync(join(tmpdir(), 'malloc-interrupt-'));
  const configPath = join(root, 'config.json');
  writeFileSync(configPath, JSON.stringify(CONFIG));

  it('resumes to the rows of an uninterrupted run', async () => {
    const reference = await runChild(configPath, join(root, 'reference'), null);
    expect(reference.code).toBe(0);
    const out = join(root, 'interrupted');
    const random = seededRandom(20261204);
    const statuses: (number | null)[] = [];

    // Five runs, each stopped at a seeded moment within 2.5 s of its start.
    for (let attempt = 0; attempt < 5; attempt++) {
      const afterMs = Math.floor(random() * 2500);
      const signal: NodeJS.Signals = attempt % 2 === 0 ? 'SIGINT' : 'SIGTERM';
      const exit = await runChild(configPath, out, { afterMs, signal });
      statuses.push(exit.code);

      // Stopped cleanly (130), or finished before the signal (0); never killed mid-write.
      expect([INTERRUPTED_EXIT_STATUS, 0]).toContain(exit.code);
      const { rows, truncatedLastLine } = readResults(join(out, 'results.jsonl'));
      expect(truncatedLastLine).toBe(false);
      expect(new Set(rows.map((row) => row.cellKey)).size).toBe(rows.length);
    }
    expect(statuses).toContain(INTERRUPTED_EXIT_STATUS);

    const last = await runChild(configPath, out, null);

    expect(last.code).toBe(0);
    const rows = readResults(join(out, 'results.jsonl')).rows;
    expect(rows).toHaveLength(6);
    expect(comparable(rows)).toEqual(comparable(readResults(join(root, 'reference', 'results.jsonl')).rows));
  });
});
