import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PUBLISHED_PACKAGES, WORKSPACE_ROOT, describeRun, readManifest, runCommand } from './workspace-packages';

// Packs every published package and installs the tarballs into a fresh project outside the
// workspace. There each package is used through its public API only. The consumer scripts in
// tools/fixtures/installed-consumer are compiled under `strict` against the published
// declarations and run, and the installed `malloc` command runs the smoke benchmark.
//
// Slow: `npm install` takes about 20 s with a warm npm cache. Dependencies come from the npm
// cache when it has them and from the registry otherwise; without either, the tests are
// skipped with a message.

const consumerSources = join(WORKSPACE_ROOT, 'tools', 'fixtures', 'installed-consumer');

/** Versions installed next to the tarballs, the same as the workspace's, so the npm cache has them. */
const typescriptVersion = (require('typescript/package.json') as { version: string }).version;
const nodeTypesVersion = (require('@types/node/package.json') as { version: string }).version;

/** npm errors that mean the registry and the cache could not supply a package. */
const registryUnavailable = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTCACHED|ENETUNREACH)\b/;

/**
 * ML-100K `u.data` lines: user, item, rating and Unix time, tab-separated, in no order.
 * User 2 rates item 7 at t = 50 and item 3 at t = 60. User 5 rates item 9 at t = 10. User 10
 * rates item 7 at t = 100, item 9 at t = 200 and item 5 at t = 300.
 */
const ML100K_FIXTURE = ['10\t5\t4\t300', '2\t7\t3\t50', '10\t7\t5\t100', '5\t9\t1\t10', '2\t3\t4\t60', '10\t9\t2\t200', ''].join('\n');

/** Environment of the commands run in the temporary project: the outer npm run's settings are left out. */
function childEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && key !== 'INIT_CWD') {
      env[key] = value;
    }
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', NX_DAEMON: 'false' };
}

describe('packages installed from tarballs', () => {
  jest.setTimeout(120_000);

  let project = '';
  let skipReason: string | null = null;
  let compile: ReturnType<typeof runCommand> | null = null;

  /** Runs a compiled consumer script with node and parses the JSON it prints. */
  function runConsumer(script: string, args: readonly string[] = []): Record<string, unknown> {
    const run = runCommand(process.execPath, [join('out', `${script}.js`), ...args], project, childEnvironment(), 60_000);
    if (run.status !== 0) {
      throw new Error(describeRun(`node out/${script}.js`, run));
    }
    return JSON.parse(run.stdout) as Record<string, unknown>;
  }

  /** Logs why a test did nothing and returns true when the tarballs could not be installed. */
  function skipped(test: string): boolean {
    if (skipReason !== null) {
      console.warn(`Skipped '${test}': ${skipReason}`);
    }
    return skipReason !== null;
  }

  beforeAll(() => {
    const env = childEnvironment();

    // npm must run here; the build must exist, because `npm test` builds before jest.
    const npmVersion = runCommand('npm', ['--version'], WORKSPACE_ROOT, env, 30_000);
    if (npmVersion.status !== 0) {
      skipReason = `npm cannot run here (${npmVersion.error?.message ?? npmVersion.stderr.trim()})`;
      return;
    }
    for (const pkg of PUBLISHED_PACKAGES) {
      if (!existsSync(join(WORKSPACE_ROOT, pkg.dir, 'dist', 'index.js'))) {
        throw new Error(`${pkg.dir}/dist/index.js is missing: run 'npm run build' in ${WORKSPACE_ROOT} before this test.`);
      }
    }

    // A project folder outside the workspace, so that nothing resolves through its node_modules.
    project = mkdtempSync(join(tmpdir(), 'malloc-consumer-'));
    if (!relative(WORKSPACE_ROOT, project).startsWith('..')) {
      throw new Error(`The temporary project ${project} lies inside the workspace ${WORKSPACE_ROOT}; set TMPDIR to a folder outside it.`);
    }
    const tarballs = join(project, 'tarballs');
    mkdirSync(tarballs);

    // Pack each package as `npm publish` would.
    for (const pkg of PUBLISHED_PACKAGES) {
      const pack = runCommand('npm', ['pack', '--pack-destination', tarballs, '--silent'], join(WORKSPACE_ROOT, pkg.dir), env, 60_000);
      if (pack.status !== 0) {
        skipReason = `'npm pack' failed in ${pkg.dir}:\n${pack.stderr}`;
        return;
      }
    }
    const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
    expect(packed).toHaveLength(PUBLISHED_PACKAGES.length);

    // Install the tarballs, TypeScript and Node's types into the new project.
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'malloc-consumer', version: '1.0.0', private: true }, null, 2)}\n`);
    const install = runCommand(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed, `typescript@${typescriptVersion}`, `@types/node@${nodeTypesVersion}`],
      project,
      env,
      240_000,
    );
    if (install.status !== 0) {
      if (registryUnavailable.test(install.stderr)) {
        skipReason = `the npm registry and the npm cache could not supply the dependencies:\n${install.stderr}`;
        return;
      }
      throw new Error(describeRun('npm install', install));
    }

    // Copy the consumer scripts and the data fixture, then compile under strict.
    for (const file of readdirSync(consumerSources)) {
      copyFileSync(join(consumerSources, file), join(project, file));
    }
    mkdirSync(join(project, 'data', 'ml-100k'), { recursive: true });
    writeFileSync(join(project, 'data', 'ml-100k', 'u.data'), ML100K_FIXTURE);
    compile = runCommand(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project, env, 120_000);
  }, 420_000);

  afterAll(() => {
    if (project !== '') {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it('installs every package at the workspace version', () => {
    if (skipped('installs every package')) {
      return;
    }
    for (const pkg of PUBLISHED_PACKAGES) {
      const installed = JSON.parse(readFileSync(join(project, 'node_modules', ...pkg.name.split('/'), 'package.json'), 'utf8')) as { version: string };

      expect({ name: pkg.name, version: installed.version }).toEqual({ name: pkg.name, version: readManifest(pkg.dir).version });
      expect(existsSync(join(project, 'node_modules', ...pkg.name.split('/'), 'LICENSE'))).toBe(true);
    }

    // The native TensorFlow bindings and gpu.js are optional peers, so npm leaves them out.
    expect(existsSync(join(project, 'node_modules', '@tensorflow', 'tfjs-node'))).toBe(false);
    expect(existsSync(join(project, 'node_modules', 'gpu.js'))).toBe(false);
  });

  it('type-checks consumers under strict', () => {
    if (skipped('type-checks consumers')) {
      return;
    }

    expect(compile === null ? 'tsc did not run' : describeRun('tsc -p tsconfig.json', compile)).toContain('exited with 0');

    // Without skipLibCheck, the declarations of the packages that do not pull in TensorFlow.js
    // are checked too. TensorFlow.js 4.22's own declarations fail that check under tsc 5.9.
    const strictCheck = runCommand(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.declarations.json'], project, childEnvironment(), 120_000);

    expect(describeRun('tsc -p tsconfig.declarations.json', strictCheck)).toContain('exited with 0');
  });

  it('loads ML-100K sequences from a path', () => {
    if (skipped('loads ML-100K sequences')) {
      return;
    }
    const loaded = runConsumer('data', [join(project, 'data')]);

    // Users 2, 5, 10 become 0, 1, 2 and items 3, 5, 7, 9 become 1, 2, 3, 4 (ascending raw ids).
    // User 2: items 7, 3 → [3, 1]. User 5: item 9 → [4]. User 10: items 7, 9, 5 → [3, 4, 2].
    expect(loaded.userCount).toBe(3);
    expect(loaded.itemCount).toBe(4);
    expect(loaded.interactions).toBe(6);
    expect(loaded.offsets).toEqual([0, 2, 3, 6]);
    expect(loaded.items).toEqual([3, 1, 4, 3, 4, 2]);
    expect(loaded.rawUserIds).toEqual(['2', '5', '10']);
    expect(loaded.rawItemIds).toEqual(['', '3', '5', '7', '9']);
  });

  it('loads the real ML-100K copy', () => {
    const dataDir = process.env.MALLOC_DATA_DIR;
    if (dataDir === undefined || !existsSync(join(dataDir, 'ml-100k', 'u.data'))) {
      console.warn('Skipped the real ML-100K load: MALLOC_DATA_DIR is unset or has no ml-100k/u.data.');
      return;
    }
    if (skipped('loads the real ML-100K copy')) {
      return;
    }
    const loaded = runConsumer('data', [dataDir]);

    // GroupLens' README of ML-100K: 100,000 ratings by 943 users of 1,682 movies.
    expect(loaded.userCount).toBe(943);
    expect(loaded.itemCount).toBe(1682);
    expect(loaded.interactions).toBe(100_000);
  });

  it('compresses a cache with SnapKV and KIVI', () => {
    if (skipped('compresses a cache')) {
      return;
    }
    const result = runConsumer('compression') as {
      fullBytes: number;
      snapkv: { bytes: number; positions: number[]; keys: number[] };
      kivi: { bytes: number; rows: number; keys: number[]; values: number[] };
    };

    // Full cache: 8 tokens × (2 key + 2 value numbers) × 4 B = 128 B.
    expect(result.fullBytes).toBe(128);

    // SnapKV at ratio 0.5 keeps ⌊8 · 0.5⌋ = 4 tokens: the window (6, 7) and the two tokens the
    // window voted for (1, 4). 4 × 4 numbers × 4 B + 4 int32 positions × 4 B = 64 + 16 = 80 B.
    expect(result.snapkv.positions).toEqual([1, 4, 6, 7]);
    expect(result.snapkv.keys).toEqual([1, -1, 4, -4, 6, -6, 7, -7]);
    expect(result.snapkv.bytes).toBe(80);

    // KIVI, 8 bits, groups of 4, no residual. Keys: 16 codes × 1 B + ⌈8 / 4⌉ · 2 = 4 groups ×
    // 4 B (float16 scale and zero point) = 32 B. Values: 16 codes + 8 × ⌈2 / 4⌉ = 8 groups ×
    // 4 B = 48 B. Total 80 B.
    expect(result.kivi.rows).toBe(8);
    expect(result.kivi.bytes).toBe(80);

    // An 8-bit group spans at most 7 / 255 per code, so each number is back within 0.02.
    const keys = Array.from({ length: 8 }, (_, i) => [i, -i]).flat();
    const values = Array.from({ length: 8 }, (_, i) => [i / 2, 1]).flat();
    result.kivi.keys.forEach((decoded, index) => expect(Math.abs(decoded - keys[index])).toBeLessThanOrEqual(0.02));
    result.kivi.values.forEach((decoded, index) => expect(Math.abs(decoded - values[index])).toBeLessThanOrEqual(0.02));
  });

  it('computes NDCG@10 and GAUC', () => {
    if (skipped('computes NDCG@10 and GAUC')) {
      return;
    }
    const result = runConsumer('metrics') as Record<string, number> & { gauc: { gauc: number; usersUsed: number; usersSkipped: number } };

    // Items 1..5 scored 0.9, 0.8, 0.7, 0.6, 0.5: target 3 has rank 3, NDCG@10 = 1 / log2(4) = 0.5.
    expect(result.rank).toBe(3);
    expect(result.ndcg10).toBeCloseTo(0.5, 12);

    // Excluding item 1 leaves rank 2: 1 / log2(3) = 0.63093.
    expect(result.rankExcluding).toBe(2);
    expect(result.ndcg10Excluding).toBeCloseTo(1 / Math.log2(3), 12);

    // Item 2 ties with the target at 0.7: rank = 1 + 1 + 1/2 = 2.5, NDCG@10 = 1 / log2(3.5).
    expect(result.rankTied).toBe(2.5);
    expect(result.ndcg10Tied).toBeCloseTo(1 / Math.log2(3.5), 12);

    // User 1: the positive (0.8) beats one of two negatives (0.9, 0.1), AUC 0.5 over 3
    // impressions. User 2: 0.3 > 0.2, AUC 1 over 2. User 3 has one class and is skipped.
    // GAUC = (3 · 0.5 + 2 · 1) / 5 = 0.7.
    expect(result.gauc.gauc).toBeCloseTo(0.7, 12);
    expect(result.gauc.usersUsed).toBe(2);
    expect(result.gauc.usersSkipped).toBe(1);
  });

  it('runs SASRec on the WebAssembly backend', () => {
    if (skipped('runs SASRec')) {
      return;
    }
    const result = runConsumer('models');

    // No native binding is installed, so 'auto' falls back to WebAssembly.
    expect(result.backend).toBe('wasm');

    // 2 layers × 2 heads × 3 tokens × (4 key + 4 value numbers, 8 / 2 heads) × 4 B = 384 B.
    expect(result.layers).toBe(2);
    expect(result.heads).toBe(2);
    expect(result.tokens).toBe(3);
    expect(result.bytes).toBe(384);

    // Scores cover ids 0..4, with the padding id 0 masked.
    expect(result.scoreCount).toBe(5);
    expect(result.paddingScore).toBe('-Infinity');
  });

  it('runs malloc bench --preset smoke', () => {
    if (skipped('runs malloc bench')) {
      return;
    }
    const bench = runCommand('npx', ['--no-install', 'malloc', 'bench', '--preset', 'smoke', '--out', 'results'], project, childEnvironment(), 110_000);

    expect(describeRun('npx malloc bench --preset smoke', bench)).toContain('exited with 0');

    // One valid row per grid cell, each written once, with the installed versions recorded.
    const lines = readFileSync(join(project, 'results', 'results.jsonl'), 'utf8').trimEnd().split('\n');
    const rows = lines.map((line) => JSON.parse(line) as { schemaVersion: number; cellKey: string; status: string; dataset: string; strategy: string; provenance: { packages: Record<string, string> } });
    const written = /(\d+) rows written/.exec(bench.stdout + bench.stderr);

    expect(written).not.toBeNull();
    expect(rows).toHaveLength(Number(written?.[1]));
    expect(new Set(rows.map((row) => row.cellKey)).size).toBe(rows.length);
    for (const row of rows) {
      expect({ cell: row.cellKey, schemaVersion: row.schemaVersion, status: row.status, dataset: row.dataset }).toEqual({ cell: row.cellKey, schemaVersion: 1, status: 'ok', dataset: 'synthetic' });
      expect(row.provenance.packages['@malloc/runner']).toBe(readManifest('packages/runner').version);
    }
    expect(rows.map((row) => row.strategy)).toContain('full');

    // The schemas of the configuration and of the rows are exported for validators.
    const schemas = runCommand(process.execPath, ['-e', "for (const name of ['config', 'results']) console.log(require(`@malloc/runner/${name}-schema.json`).$schema)"], project, childEnvironment(), 30_000);

    expect(describeRun('require the runner schemas', schemas)).toContain('exited with 0');
    expect(schemas.stdout.trim().split('\n')).toHaveLength(2);

    // The site is built from the installed report package with its vendored vega builds.
    expect(existsSync(join(project, 'results', 'site', 'index.html'))).toBe(true);
    expect(existsSync(join(project, 'results', 'site', 'vendor', 'vega', 'vega.min.js'))).toBe(true);
  });
});
