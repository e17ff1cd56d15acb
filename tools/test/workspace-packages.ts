import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/** Root folder of the workspace. */
export const WORKSPACE_ROOT = join(__dirname, '..', '..');

/** A package of the workspace that is published to the npm registry. */
export interface PublishedPackage {
  name: string;
  /** Folder relative to the workspace root, with `/` between folders. */
  dir: string;
}

/** Every published package, each listed after the packages it depends on. */
export const PUBLISHED_PACKAGES: readonly PublishedPackage[] = [
  { name: '@malloc/data', dir: 'packages/data' },
  { name: '@malloc/compression', dir: 'packages/compression' },
  { name: '@malloc/metrics', dir: 'packages/metrics' },
  { name: '@malloc/models', dir: 'packages/models' },
  { name: '@malloc/report', dir: 'apps/report' },
  { name: '@malloc/runner', dir: 'packages/runner' },
];

/** The fields of package.json that the packaging tests read. */
export interface PackageManifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  files?: string[];
  engines?: Record<string, string>;
  exports?: Record<string, string | Record<string, string>>;
  publishConfig?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Reads `<dir>/package.json`, where `dir` is absolute or relative to the workspace root. */
export function readManifest(dir: string): PackageManifest {
  return JSON.parse(readFileSync(resolve(WORKSPACE_ROOT, dir, 'package.json'), 'utf8')) as PackageManifest;
}

/**
 * Lists the files of a folder recursively, as paths relative to `root` with `/` between
 * folders. `skip` receives each relative path and leaves out the files and folders it accepts.
 */
export function listFiles(root: string, skip: (path: string) => boolean = () => false): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder)) {
      const absolute = join(folder, entry);
      const path = relative(root, absolute).split(sep).join('/');
      if (skip(path)) {
        continue;
      }
      if (statSync(absolute).isDirectory()) {
        walk(absolute);
      } else {
        found.push(path);
      }
    }
  };
  walk(root);
  return found.sort();
}

/** Runs a command without a shell and returns its output as text. */
export function runCommand(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 300_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

/** Formats a finished command for an assertion message: exit status, stdout and stderr. */
export function describeRun(label: string, run: SpawnSyncReturns<string>): string {
  const error = run.error === undefined ? '' : `\nerror: ${run.error.message}`;
  return `${label} exited with ${run.status} (signal ${run.signal})${error}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/**
 * Lists the files that `npm pack` would put into a package's tarball, as paths inside the
 * package. Returns `null` when npm cannot run here.
 */
export function packedFiles(dir: string): string[] | null {
  const run = runCommand('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', '--offline'], join(WORKSPACE_ROOT, dir), process.env, 60_000);
  if (run.status !== 0) {
    return null;
  }
  const [report] = JSON.parse(run.stdout) as { files: { path: string }[] }[];
  return report.files.map((file) => file.path).sort();
}
