import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type RunConfig } from './config';
import { findLabelConflicts } from './label-conflicts';
import type { ResultRow } from './results-store';

/** Builds a row with only the fields that the check reads. */
function row(runId: string, model: string, dataset = 'synthetic'): ResultRow {
  return { runId, model, dataset } as ResultRow;
}

/** Writes `<out>/runs/<runId>/config.json`. */
function writeRunConfig(out: string, runId: string, config: RunConfig): void {
  mkdirSync(join(out, 'runs', runId), { recursive: true });
  writeFileSync(join(out, 'runs', runId, 'config.json'), JSON.stringify(config));
}

describe('findLabelConflicts', () => {
  const base = resolveConfig(null, { preset: 'smoke' });
  const current: RunConfig = { ...base, model: { ...base.model, heads: 2 }, training: { ...base.training, workers: 1 } };

  it('names the settings that differ', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'a', { ...base, training: { ...base.training, workers: 2 } });

    expect(findLabelConflicts(out, [row('a', 'sasrec'), row('a', 'sasrec')], current, ['sasrec'])).toEqual([{ model: 'sasrec', runId: 'a', fields: ['model.heads'] }]);
  });

  it('ignores workers and equal settings', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'same', { ...current, training: { ...current.training, workers: 2 } });

    expect(findLabelConflicts(out, [row('same', 'sasrec')], current, ['sasrec'])).toEqual([]);
  });

  it('skips other labels, datasets and unknown runs', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'a', base);
    const rows = [row('a', 'hstu'), row('a', 'sasrec', 'ml-1m'), row('missing', 'sasrec')];

    expect(findLabelConflicts(out, rows, current, ['sasrec'])).toEqual([]);
  });
});
