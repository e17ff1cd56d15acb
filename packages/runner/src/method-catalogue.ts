import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { allMethods } from './cells';

/** Name of the method catalogue that `malloc bench` writes beside results.jsonl for the report. */
export const METHOD_CATALOGUE_FILE = 'methods.json';

/**
 * Writes the taxonomy of every method the runner can evaluate (id, name, granularity, family,
 * training, inputs, paper, parameters) to `<out>/methods.json`, which the leaderboard's
 * method pages read. The file is derived from the code, not a result, so a later run replaces
 * it. The write goes through a temporary file and a rename, so a reader never sees half of it.
 *
 * @returns the path written.
 */
export function writeMethodCatalogue(out: string): string {
  const path = join(out, METHOD_CATALOGUE_FILE);
  mkdirSync(out, { recursive: true });
  const temporary = join(out, `.${METHOD_CATALOGUE_FILE}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(allMethods(), null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return path;
}
