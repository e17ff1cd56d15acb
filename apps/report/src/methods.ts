import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidMethodsField } from './messages';
import { uniqueSorted } from './order';
import type { ResultRow } from './results';

/** Name of the optional method catalogue inside a results directory. */
export const METHODS_FILE_NAME = 'methods.json';

/** Taxonomy entry of one method, from `methods.json`. */
export interface MethodEntry {
  /** Registry id, equal to the `strategy` of the method's rows. */
  id: string;
  /** Display name; the id when absent. */
  name: string;
  granularity: string;
  family: string;
  /** Short citation of the paper: authors, venue, year and arXiv id; `''` when absent. */
  paper: string;
  /** Inputs the method reads besides the budget, such as `keys` or `window-attention`. */
  reads: string[];
  /** Parameters with their descriptions. */
  parameters: { name: string; description: string }[];
}

/**
 * Reads the optional `methods.json` beside each results file: a JSON array of method
 * descriptions as `@malloc/compression`'s `listMethods()` returns them (`id`, `name`,
 * `granularity`, `family`, `paper`, `reads`, `parameters`). Only `id` is required. A missing
 * file is not an error, and an id met twice keeps its first entry.
 *
 * @param resultsFiles - Absolute paths of the results files read.
 * @returns The entries by id.
 * @throws SyntaxError when a file is not valid JSON; TypeError naming the file and field when a field is invalid.
 */
export async function readMethodCatalogue(resultsFiles: readonly string[]): Promise<Map<string, MethodEntry>> {
  const entries = new Map<string, MethodEntry>();
  for (const directory of [...new Set(resultsFiles.map((file) => dirname(file)))]) {
    const file = join(directory, METHODS_FILE_NAME);
    const exists = await stat(file).then(
      (info) => info.isFile(),
      () => false,
    );
    if (!exists) {
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(await readFile(file, 'utf8'));
    } catch (error) {
      throw new SyntaxError(`Malformed JSON in '${file}': ${(error as Error).message}.`, { cause: error });
    }
    for (const entry of parseMethodCatalogue(value, file)) {
      if (!entries.has(entry.id)) {
        entries.set(entry.id, entry);
      }
    }
  }
  return entries;
}

/**
 * Checks the parsed contents of one `methods.json` and returns its entries.
 *
 * @throws TypeError naming the file and field when a field is invalid.
 */
export function parseMethodCatalogue(value: unknown, file: string): MethodEntry[] {
  if (!Array.isArray(value)) {
    throw new TypeError(invalidMethodsField(file, '(file)', 'a JSON array of method descriptions', value));
  }
  return value.map((item: unknown, index: number) => {
    const path = `[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new TypeError(invalidMethodsField(file, path, 'an object', item));
    }
    const entry = item as Record<string, unknown>;
    const text = (field: string): string => {
      const found = entry[field];
      if (found === undefined || found === null) {
        return '';
      }
      if (typeof found !== 'string') {
        throw new TypeError(invalidMethodsField(file, `${path}.${field}`, 'a string', found));
      }
      return found;
    };
    const id = text('id');
    if (id === '') {
      throw new TypeError(invalidMethodsField(file, `${path}.id`, 'a non-empty string', entry.id));
    }
    const reads = Array.isArray(entry.reads) ? entry.reads.map(String) : [];
    const parameters = Array.isArray(entry.parameters)
      ? entry.parameters.map((parameter: unknown) => {
          const fields = (typeof parameter === 'object' && parameter !== null ? parameter : {}) as Record<string, unknown>;
          return { name: String(fields.name ?? ''), description: String(fields.description ?? '') };
        })
      : [];
    return { id, name: text('name') || id, granularity: text('granularity'), family: text('family'), paper: text('paper'), reads, parameters };
  });
}

/**
 * Returns the file name of a method's page, `method-<slug>.html`. The slug keeps lower-case
 * letters, digits and `-`. When the strategy name has other characters, the slug ends with 8
 * hex digits of the name's SHA-256, so two names never share a page and a hostile name never
 * reaches a path.
 */
export function methodPageFile(strategy: string): string {
  const plain = strategy
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const exact = plain === strategy;
  const hash = createHash('sha256').update(strategy).digest('hex').slice(0, 8);
  return `method-${exact ? plain : `${plain === '' ? 'x' : plain}-${hash}`}.html`;
}

/** Groups rows by strategy, in code-unit order of the strategy names. */
export function rowsByStrategy(rows: readonly ResultRow[]): Map<string, ResultRow[]> {
  const groups = new Map<string, ResultRow[]>();
  for (const strategy of uniqueSorted(rows.map((row) => row.strategy))) {
    groups.set(strategy, []);
  }
  for (const row of rows) {
    (groups.get(row.strategy) as ResultRow[]).push(row);
  }
  return groups;
}
