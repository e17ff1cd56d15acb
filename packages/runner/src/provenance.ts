import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform, arch, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** Names of the packages whose versions every row records. */
const RECORDED_PACKAGES = ['@malloc/runner', '@malloc/data', '@malloc/models', '@malloc/compression', '@malloc/metrics', '@malloc/report', '@tensorflow/tfjs'];

/**
 * Reads the commit of the git checkout that contains `start` (walking up to `.git`), without
 * running git. Returns null outside a checkout or when HEAD cannot be resolved.
 */
export function readGitCommit(start: string = process.cwd()): string | null {
  let folder = resolve(start);
  for (;;) {
    const gitDir = join(folder, '.git');
    if (existsSync(gitDir)) {
      return resolveHead(gitDir);
    }
    const parent = dirname(folder);
    if (parent === folder) {
      return null;
    }
    folder = parent;
  }
}

function resolveHead(gitDir: string): string | null {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) {
      return head;
    }
    const ref = head.slice(5);
    const loosePath = join(gitDir, ref);
    if (existsSync(loosePath)) {
      return readFileSync(loosePath, 'utf8').trim();
    }
    const packed = readFileSync(join(gitDir, 'packed-refs'), 'utf8');
    const line = packed.split('\n').find((entry) => entry.endsWith(` ${ref}`));
    return line === undefined ? null : line.split(' ')[0];
  } catch {
    return null;
  }
}

/** Versions of the packages that produce a result, read from their installed package.json. */
export function readPackageVersions(): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const name of RECORDED_PACKAGES) {
    try {
      const manifest = require(`${name}/package.json`) as { version: string };
      versions[name] = manifest.version;
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

/** Describes the machine in one line: platform, CPU model and count, memory. */
export function describeMachine(): string {
  const processors = cpus();
  const model = processors[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (totalmem() / 2 ** 30).toFixed(1);
  return `${platform()} ${arch()}, ${processors.length} × ${model}, ${memoryGiB} GiB`;
}

/** SHA-256 of a value's canonical JSON (object keys sorted), as a hex string. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** JSON with object keys sorted at every depth, so that equal values hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}
