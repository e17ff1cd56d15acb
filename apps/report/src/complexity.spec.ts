import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidComplexityField } from './messages';
import { parseComplexity, readComplexityFiles } from './complexity';

const FILE = '/results/run-1/complexity.json';

describe('parseComplexity', () => {
  it('reads curves with defaults for optional fields', () => {
    const curves = parseComplexity({ schemaVersion: 1, curves: [{ dataset: 'ml-1m', model: 'sasrec', strategy: 'snapkv', measure: 'bytes per user', points: [{ historyLength: 10, value: 2 }] }] }, FILE);

    expect(curves).toEqual([
      { dataset: 'ml-1m', model: 'sasrec', task: 'retrieval', family: '', strategy: 'snapkv', setting: '', measure: 'bytes per user', unit: '', points: [{ historyLength: 10, value: 2 }], source: 'run-1/complexity.json' },
    ]);
  });

  it('rejects a point that a log axis cannot show', () => {
    const value = { schemaVersion: 1, curves: [{ dataset: 'd', model: 'm', strategy: 's', measure: 'ms', points: [{ historyLength: 0, value: 1 }] }] };

    expect(() => parseComplexity(value, FILE)).toThrow(new RangeError(invalidComplexityField(FILE, 'curves[0].points[0]', 'an object with positive finite numbers historyLength and value', { historyLength: 0, value: 1 })));
  });

  it('rejects a missing strategy', () => {
    expect(() => parseComplexity({ schemaVersion: 1, curves: [{ dataset: 'd', model: 'm', measure: 'ms', points: [] }] }, FILE)).toThrow(TypeError);
  });

  it('rejects another schema version', () => {
    expect(() => parseComplexity({ schemaVersion: 2, curves: [] }, FILE)).toThrow(TypeError);
  });
});

describe('readComplexityFiles', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'malloc-report-complexity-'));
    mkdirSync(join(directory, 'run-1'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('returns no curve when the file is absent', async () => {
    await expect(readComplexityFiles([join(directory, 'run-1', 'results.jsonl')])).resolves.toEqual([]);
  });

  it('names the file of malformed JSON', async () => {
    writeFileSync(join(directory, 'run-1', 'complexity.json'), '{');

    await expect(readComplexityFiles([join(directory, 'run-1', 'results.jsonl')])).rejects.toThrow(join(directory, 'run-1', 'complexity.json'));
  });
});
