import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { PUBLISHED_PACKAGES, WORKSPACE_ROOT, describeRun, readManifest, runCommand, type PackageManifest } from './workspace-packages';

// Runs the release flow of RELEASING.md on copies of the working tree, never on the workspace
// itself. A sample changeset goes through the root `version-packages` script. The script must
// bump the versions, write the changelogs and keep package-lock.json in step, so that `npm ci`
// still installs the copy.
//
// Slow: the final `npm ci` installs about 930 packages (about 30–60 s on 2 cores with a warm
// npm cache). Without the registry or the cache, that step is skipped with a message.

const changesetBin = join(WORKSPACE_ROOT, 'node_modules', '.bin', 'changeset');

/** npm errors that mean the registry and the cache could not supply a package. */
const registryUnavailable = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTCACHED|ENETUNREACH)\b/;

/** Sample changeset: a patch of @malloc/metrics, which @malloc/runner depends on. */
const SAMPLE_CHANGESET = ['---', '"@malloc/metrics": patch', '---', '', 'Fixes a sample bug for the release test.', ''].join('\n');

/** Environment of commands in a copy: the workspace's binaries on PATH, the outer npm run's settings left out. */
function copyEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith('npm_') && key !== 'INIT_CWD') {
      env[key] = value;
    }
  }
  return { ...env, PATH: `${dirname(changesetBin)}:${process.env.PATH ?? ''}`, NO_UPDATE_NOTIFIER: '1' };
}

/**
 * Copies the files git would see (tracked and untracked, minus ignored ones, so no
 * node_modules or dist) into a new temporary folder outside the workspace. Replaces the
 * pending changesets with the sample one.
 */
function copyWorkingTree(): string {
  const listed = runCommand('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], WORKSPACE_ROOT, process.env, 60_000);
  if (listed.status !== 0) {
    throw new Error(describeRun('git ls-files', listed));
  }
  const copy = mkdtempSync(join(tmpdir(), 'malloc-release-'));
  for (const file of listed.stdout.split('\0').filter((path) => path !== '')) {
    const source = join(WORKSPACE_ROOT, file);
    // A file deleted in the working tree is still listed until the deletion is committed.
    if (existsSync(source)) {
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      copyFileSync(source, join(copy, file));
    }
  }
  const changesets = join(copy, '.changeset');
  for (const file of readdirSync(changesets).filter((name) => name.endsWith('.md') && name !== 'README.md')) {
    rmSync(join(changesets, file));
  }
  writeFileSync(join(changesets, 'sample-metrics-fix.md'), SAMPLE_CHANGESET);
  return copy;
}

/** Serialises a dependency map with its keys sorted, because npm sorts them in package-lock.json. */
function sortedEntries(ranges: Record<string, string> | undefined): string {
  return JSON.stringify(Object.entries(ranges ?? {}).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Lists where package-lock.json disagrees with the workspace package.json files: the version
 * and the dependency ranges that npm records for each workspace.
 */
function lockfileMismatches(copy: string): string[] {
  const lock = JSON.parse(readFileSync(join(copy, 'package-lock.json'), 'utf8')) as { packages: Record<string, PackageManifest> };
  const mismatches: string[] = [];
  for (const { dir } of PUBLISHED_PACKAGES) {
    const manifest = readManifest(join(copy, dir));
    const locked = lock.packages[dir];
    if (locked === undefined) {
      mismatches.push(`${dir}: missing from package-lock.json`);
      continue;
    }
    if (locked.version !== manifest.version) {
      mismatches.push(`${dir}: version ${locked.version} in package-lock.json, ${manifest.version} in package.json`);
    }
    for (const field of ['dependencies', 'peerDependencies'] as const) {
      const lockedRanges = sortedEntries(locked[field]);
      const declaredRanges = sortedEntries(manifest[field]);
      if (lockedRanges !== declaredRanges) {
        mismatches.push(`${dir}: ${field} ${lockedRanges} in package-lock.json, ${declaredRanges} in package.json`);
      }
    }
  }
  return mismatches;
}

describe('release flow', () => {
  jest.setTimeout(240_000);

  const copies: string[] = [];
  let copy = '';
  let version: ReturnType<typeof runCommand> | null = null;

  beforeAll(() => {
    copy = copyWorkingTree();
    copies.push(copy);
    if (!relative(WORKSPACE_ROOT, copy).startsWith('..')) {
      throw new Error(`The copy ${copy} lies inside the workspace ${WORKSPACE_ROOT}; set TMPDIR to a folder outside it.`);
    }
    // The registry points at a closed local port, so the run proves that the step needs no network.
    version = runCommand('npm', ['run', 'version-packages'], copy, { ...copyEnvironment(), npm_config_registry: 'http://127.0.0.1:9/' }, 180_000);
  }, 240_000);

  afterAll(() => {
    for (const folder of copies) {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('starts from a consistent lockfile', () => {
    // The workspace itself must be in step, or every later check would start from a stale file.
    expect(lockfileMismatches(WORKSPACE_ROOT)).toEqual([]);
  });

  it('runs version-packages offline', () => {
    expect(version === null ? 'not run' : describeRun('npm run version-packages', version)).toContain('exited with 0');
  });

  it('bumps the changed package and its dependents', () => {
    // metrics 0.0.0 → 0.0.1 (patch). ^0.0.0 excludes 0.0.1, so the runner's range moves to
    // ^0.0.1 and the runner gets a patch release. Packages that do not depend on metrics stay.
    const before = new Map(PUBLISHED_PACKAGES.map((pkg) => [pkg.name, readManifest(pkg.dir).version]));
    const bumped = (current: string | undefined): string => {
      const [major, minor, patch] = (current ?? '').split('.').map(Number);
      return `${major}.${minor}.${patch + 1}`;
    };
    for (const pkg of PUBLISHED_PACKAGES) {
      const expected = ['@malloc/metrics', '@malloc/runner'].includes(pkg.name) ? bumped(before.get(pkg.name)) : before.get(pkg.name);

      expect({ name: pkg.name, version: readManifest(join(copy, pkg.dir)).version }).toEqual({ name: pkg.name, version: expected });
    }
    expect(readManifest(join(copy, 'packages/runner')).dependencies?.['@malloc/metrics']).toBe(`^${bumped(before.get('@malloc/metrics'))}`);
    expect(existsSync(join(copy, '.changeset', 'sample-metrics-fix.md'))).toBe(false);
  });

  it('writes the changelog entries', () => {
    const metricsVersion = readManifest(join(copy, 'packages/metrics')).version;
    const metricsLog = readFileSync(join(copy, 'packages', 'metrics', 'CHANGELOG.md'), 'utf8');
    const runnerLog = readFileSync(join(copy, 'packages', 'runner', 'CHANGELOG.md'), 'utf8');

    expect(metricsLog).toContain(`## ${metricsVersion}\n\n### Patch Changes\n\n- Fixes a sample bug for the release test.`);
    expect(runnerLog).toContain(`- Updated dependencies\n  - @malloc/metrics@${metricsVersion}`);
    expect(existsSync(join(copy, 'packages', 'data', 'CHANGELOG.md'))).toBe(false);
  });

  it('keeps package-lock.json in step', () => {
    expect(lockfileMismatches(copy)).toEqual([]);
  });

  it('detects a lockfile left behind by changeset alone', () => {
    // `changeset version` on its own does not touch package-lock.json, and the check must notice.
    const bare = copyWorkingTree();
    copies.push(bare);
    const run = runCommand(changesetBin, ['version'], bare, copyEnvironment(), 120_000);

    expect(describeRun('changeset version', run)).toContain('exited with 0');
    expect(lockfileMismatches(bare)).toEqual(expect.arrayContaining([expect.stringContaining('packages/metrics: version')]));
  });

  it('installs the bumped copy with npm ci', () => {
    const install = runCommand('npm', ['ci', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'], copy, copyEnvironment(), 220_000);
    if (install.status !== 0 && registryUnavailable.test(install.stderr)) {
      console.warn(`Skipped 'npm ci' on the bumped copy: the npm registry and the npm cache could not supply the dependencies:\n${install.stderr}`);
      return;
    }

    expect(describeRun('npm ci', install)).toContain('exited with 0');
    expect(existsSync(join(copy, 'node_modules', '@malloc', 'metrics', 'package.json'))).toBe(true);
  });
});
