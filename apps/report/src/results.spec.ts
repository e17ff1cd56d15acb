import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { failedRow, okRow, toJsonl } from './__fixtures__/rows';
import type { Logger } from './logger';
import {
  duplicateResultsFile,
  invalidArgument,
  invalidResultField,
  malformedResultsLine,
  resultsFileMissing,
  resultsPathNotFound,
  truncatedLastLine,
  unsupportedSchemaVersion,
} from './messages';
import { formatSetting, parseResultRow, parseResultsText, readResultsFiles } from './results';

const FILE = '/results/run-1/results.jsonl';

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), info: () => undefined, debug: () => undefined };
}

function jsonParseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected invalid JSON');
}

describe('parseResultsText', () => {
  it('reads the fields of an ok row', () => {
    const { rows } = parseResultsText(toJsonl([okRow()]), FILE);

    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row.file).toBe(FILE);
    expect(row.line).toBe(1);
    expect(row.ok).toBe(true);
    expect(row.dataset).toBe('ml-1m');
    expect(row.strategy).toBe('window');
    expect(row.setting).toBe('compressionRatio=0.875');
    expect(row.seed).toBe(1);
    expect(row.metrics['ndcg@10']).toBe(0.05);
    expect(row.metrics['hit@200']).toBe(0.6);
    expect(row.confidence['ndcg@10']).toEqual({ low: 0.048, high: 0.052, confidence: 0.95 });
    expect(row.bytesPerUser).toBe(20000);
    expect(row.compressionRatio).toBe(8);
    expect(row.latencyP50Ms).toEqual({ prefill: 1.2, compress: 0.3, append: 0.4, score: 2.1 });
    expect(row.provenance.gitCommit).toBe('abc1234');
    expect(row.provenance.machine).toBe('linux x64, 2 cores');
  });

  it('names file and line of malformed JSON', () => {
    const badLine = '{"schemaVersion": 1, "status": ';
    const text = `${JSON.stringify(okRow())}\n${badLine}\n${JSON.stringify(okRow())}\n`;

    expect(() => parseResultsText(text, FILE)).toThrow(SyntaxError);
    expect(() => parseResultsText(text, FILE)).toThrow(malformedResultsLine(FILE, 2, jsonParseError(badLine)));
  });

  it('ignores a cut-short last line with a warning', () => {
    const logger = capturingLogger();
    const text = `${JSON.stringify(okRow())}\n${JSON.stringify(okRow())}\n{"schemaVersion": 1, "sta`;

    const parsed = parseResultsText(text, FILE, logger);

    expect(parsed.rows).toHaveLength(2);
    expect(parsed.ignoredLines).toEqual([3]);
    expect(logger.warnings).toEqual([truncatedLastLine(FILE, 3)]);
  });

  it('rejects a malformed last line that ends with a newline', () => {
    const text = `${JSON.stringify(okRow())}\n{"schemaVersion": 1\n`;

    expect(() => parseResultsText(text, FILE)).toThrow(SyntaxError);
  });

  it('skips blank lines and accepts CRLF and a BOM', () => {
    const text = `\uFEFF${JSON.stringify(okRow({ seed: 1 }))}\r\n\r\n${JSON.stringify(okRow({ seed: 2 }))}\r\n`;

    const { rows } = parseResultsText(text, FILE);

    expect(rows.map((row) => row.seed)).toEqual([1, 2]);
    // Line 2 is blank, so the second row is on line 3.
    expect(rows.map((row) => row.line)).toEqual([1, 3]);
  });
});

describe('parseResultRow', () => {
  const context = { file: FILE, line: 7 };

  it('ignores unknown fields', () => {
    const row = parseResultRow(okRow({ futureField: { nested: [1, 2] }, training: { epochs: 3 } }), context);

    expect(row.strategy).toBe('window');
  });

  it('reads a failed row without measurements', () => {
    const row = parseResultRow(failedRow({ error: 'out of memory' }), context);

    expect(row.ok).toBe(false);
    expect(row.status).toBe('failed');
    expect(row.error).toBe('out of memory');
    expect(Object.keys(row.metrics)).toEqual([]);
    expect(row.bytesPerUser).toBeNull();
    expect(row.latencyP50Ms).toEqual({ prefill: null, compress: null, append: null, score: null });
  });

  it('reads a null latency phase as null', () => {
    const latency = { prefill: null, compress: null, append: { p50: 3, p95: 4, count: 1 }, score: { p50: 5, p95: 6, count: 1 } };

    const row = parseResultRow(okRow({ strategy: 'recompute', latencyMs: latency }), context);

    expect(row.latencyP50Ms).toEqual({ prefill: null, compress: null, append: 3, score: 5 });
  });

  it('rejects a field of the wrong type', () => {
    expect(() => parseResultRow(okRow({ seed: '1' }), context)).toThrow(TypeError);
    expect(() => parseResultRow(okRow({ seed: '1' }), context)).toThrow(invalidResultField(FILE, 7, 'seed', 'a finite number', '1'));
    expect(() => parseResultRow(okRow({ metrics: { 'ndcg@10': 'high' } }), context)).toThrow(
      invalidResultField(FILE, 7, 'metrics.ndcg@10', 'a finite number', 'high'),
    );
    expect(() => parseResultRow(okRow({ provenance: { gitCommit: 5 } }), context)).toThrow(invalidResultField(FILE, 7, 'provenance.gitCommit', 'a string', 5));
  });

  it('rejects a missing strategy', () => {
    const row = okRow();
    delete row.strategy;

    expect(() => parseResultRow(row, context)).toThrow(invalidResultField(FILE, 7, 'strategy', 'a non-empty string', undefined));
  });

  it('rejects a value that is not an object', () => {
    expect(() => parseResultRow([1, 2], context)).toThrow(invalidResultField(FILE, 7, '(row)', 'a JSON object', [1, 2]));
  });

  it('rejects another schema version', () => {
    expect(() => parseResultRow(okRow({ schemaVersion: 2 }), context)).toThrow(RangeError);
    expect(() => parseResultRow(okRow({ schemaVersion: 2 }), context)).toThrow(unsupportedSchemaVersion(FILE, 7, 1, 2));
  });

  it('rejects negative byte counts', () => {
    expect(() => parseResultRow(okRow({ bytesPerUser: -1 }), context)).toThrow(RangeError);
    expect(() => parseResultRow(okRow({ bytesPerUser: -1 }), context)).toThrow(invalidResultField(FILE, 7, 'bytesPerUser', 'a number >= 0', -1));
  });

  it('keeps a __proto__ metric key as data', () => {
    const value = JSON.parse('{"__proto__": 0.5, "ndcg@10": 0.1}');

    const row = parseResultRow(okRow({ metrics: value }), context);

    expect(row.metrics['__proto__']).toBe(0.5);
    expect(row.metrics['ndcg@10']).toBe(0.1);
    expect(Object.getPrototypeOf(row.metrics)).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads MACs per request and slices', () => {
    const row = parseResultRow(okRow({ macsPerRequest: 123456, slices: { tail: { users: 604, metrics: { 'ndcg@10': 0.04 } } } }), context);

    expect(row.macsPerRequest).toBe(123456);
    expect(row.slices.tail.users).toBe(604);
    expect(row.slices.tail.metrics['ndcg@10']).toBe(0.04);
  });

  it('reads a row without MACs or slices', () => {
    const row = parseResultRow(okRow({ slices: undefined }), context);

    expect(row.macsPerRequest).toBeNull();
    expect(Object.keys(row.slices)).toEqual([]);
  });

  it('rejects a slice metric of the wrong type', () => {
    expect(() => parseResultRow(okRow({ slices: { tail: { users: 1, metrics: { 'ndcg@10': 'high' } } } }), context)).toThrow(
      new TypeError(invalidResultField(context.file, context.line, 'slices.tail.metrics.ndcg@10', 'a finite number', 'high')),
    );
  });

  it('derives the setting from params when it is absent', () => {
    const row = okRow({ params: { rank: 8, basis: 'shared' } });
    delete row.setting;

    // Keys sorted: basis before rank; strings unquoted, numbers as JSON.
    expect(parseResultRow(row, context).setting).toBe('basis=shared,rank=8');
    expect(formatSetting({})).toBe('');
  });
});

describe('readResultsFiles', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'malloc-report-results-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('reads results.jsonl of a directory', async () => {
    writeFileSync(join(directory, 'results.jsonl'), toJsonl([okRow({ seed: 1 }), okRow({ seed: 2 })]));

    const read = await readResultsFiles([directory]);

    expect(read.files).toEqual([join(directory, 'results.jsonl')]);
    expect(read.rows.map((row) => row.seed)).toEqual([1, 2]);
  });

  it('reads a file passed twice once', async () => {
    const file = join(directory, 'results.jsonl');
    writeFileSync(file, toJsonl([okRow()]));
    const logger = capturingLogger();

    const read = await readResultsFiles([directory, file], logger);

    expect(read.rows).toHaveLength(1);
    expect(logger.warnings).toEqual([duplicateResultsFile(file)]);
  });

  it('rejects a missing path', async () => {
    const missing = join(directory, 'nothing-here');

    await expect(readResultsFiles([missing])).rejects.toThrow(resultsPathNotFound(missing));
  });

  it('rejects a directory without results.jsonl', async () => {
    await expect(readResultsFiles([directory])).rejects.toThrow(resultsFileMissing(directory));
  });

  it('rejects an empty list', async () => {
    await expect(readResultsFiles([])).rejects.toThrow(RangeError);
    await expect(readResultsFiles([])).rejects.toThrow(
      invalidArgument('readResultsFiles', 'paths', 'a non-empty array of results directories or results.jsonl paths', []),
    );
  });
});
