import * as path from 'node:path';

/**
 * File of the worker entry next to this one: `worker.js` in the built package, `worker.ts`
 * when this package runs from its TypeScript sources (jest, tsx).
 */
export function workerEntryFile(): string {
  return path.join(__dirname, `worker${path.extname(__filename)}`);
}

/**
 * CommonJS source that a training worker evaluates first (`new Worker(source, { eval: true })`).
 * It loads `workerData.entry`. A `.ts` entry is loaded from the sources: unless the thread
 * already compiles TypeScript (tsx passes its hooks to workers), the source registers tsx's
 * CommonJS hook and resolves `@malloc/<package>` to `packages/<package>/src/index.ts`, as
 * the jest configuration of this repository does. tsx is a development dependency of the
 * repository, so this path exists only in a checkout.
 */
export const WORKER_BOOTSTRAP_SOURCE = `
const { workerData } = require('node:worker_threads');
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const entry = workerData.entry;
if (entry.endsWith('.ts') && require.extensions['.ts'] === undefined) {
  Module.createRequire(entry)('tsx/cjs/api').register();
  const packagesDir = path.resolve(path.dirname(entry), '..', '..', '..');
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    const match = /^@malloc\\/([a-z-]+)$/.exec(request);
    const source = match === null ? null : path.join(packagesDir, match[1], 'src', 'index.ts');
    return source !== null && fs.existsSync(source) ? source : resolveFilename.call(this, request, ...rest);
  };
}
require(entry);
`;
