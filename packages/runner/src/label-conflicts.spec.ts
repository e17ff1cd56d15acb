import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type RunConfig } from './config';
import { findLabelConflicts } from './label-conflicts';
import type { ResultRow } from './results-store';
import { trainedSettings } from './trained-settings';

/** Builds a row with only the fields that the check reads. */
function row(runId: string, model: string, dataset = 'synthetic', task: ResultRow['task'] = 'retrieval'): ResultRow {
  return { runId, model, dataset, task } as ResultRow;
}

/** Writes `<out>/runs/<runId>/config.json`. */
function writeRunConfig(out: string, runId: string, config: RunConfig | string): void {
  mkdirSync(join(out, 'runs', runId), { recursive: true });
  writeFileSync(join(out, 'runs', runId, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
}

describe('findLabelConflicts', () => {
  const base = resolveConfig(null, { preset: 'smoke' });
  const current: RunConfig = { ...base, model: { ...base.model, heads: 2 }, training: { ...base.training, workers: 1 } };

  it('names the settings that differ', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'a', { ...base, training: { ...base.training, workers: 2 } });

    expect(findLabelConflicts(out, [row('a', 'sasrec'), row('a', 'sasrec')], current)).toEqual({ conflicts: [{ model: 'sasrec', runId: 'a', fields: ['model.heads'] }], unreadable: [] });
  });

  it('ignores workers and equal settings', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'same', { ...current, training: { ...current.training, workers: 2 } });

    expect(findLabelConflicts(out, [row('same', 'sasrec')], current).conflicts).toEqual([]);
  });

  it('ignores defaults spelled out and key order', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    const lsh: RunConfig = { ...current, models: ['hstu'], model: { ...current.model, lsh: { buckets: 4 } } };
    writeRunConfig(out, 'explicit', { ...lsh, model: { ...lsh.model, kvHeads: 2, timeBias: true, lsh: { seed: 0, buckets: 4 } } });

    expect(findLabelConflicts(out, [row('explicit', 'hstu-lsh4')], lsh).conflicts).toEqual([]);
  });

  it('ignores attention fields for a recurrent model', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'a', { ...base, models: ['gru4rec'] });

    expect(findLabelConflicts(out, [row('a', 'gru4rec')], { ...current, models: ['gru4rec'] }).conflicts).toEqual([]);
  });

  it('skips other labels, datasets, tasks and unknown runs', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'a', base);
    const rows = [row('a', 'hstu'), row('a', 'sasrec', 'ml-1m'), row('a', 'sasrec', 'synthetic', 'ctr'), row('missing', 'sasrec')];

    expect(findLabelConflicts(out, rows, current)).toEqual({ conflicts: [], unreadable: [] });
  });

  it('compares the settings a row recorded', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    // No config.json: the recorded settings are enough. This row trained with 1 head.
    const recorded = { ...row('r', 'sasrec'), training: { settings: trainedSettings(base, 'sasrec') } } as ResultRow;

    expect(findLabelConflicts(out, [recorded], current).conflicts).toEqual([{ model: 'sasrec', runId: 'r', fields: ['model.heads'] }]);
  });

  it('reads rows from before negative sampling as shared', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    const shared: RunConfig = { ...current, training: { ...current.training, negativeSampling: 'shared' } };
    // A row that recorded settings without the field, and a run whose config.json has no field.
    const { negativeSampling: _sampling, ...oldTraining } = current.training;
    const recorded = { ...row('recorded', 'sasrec'), training: { settings: trainedSettings(shared, 'sasrec') } } as ResultRow;
    writeRunConfig(out, 'saved', { ...current, training: oldTraining } as RunConfig);
    const rows = [recorded, row('saved', 'sasrec')];

    expect(findLabelConflicts(out, rows, current).conflicts).toEqual([
      { model: 'sasrec', runId: 'recorded', fields: ['training.negativeSampling'] },
      { model: 'sasrec', runId: 'saved', fields: ['training.negativeSampling'] },
    ]);
    expect(findLabelConflicts(out, rows, shared).conflicts).toEqual([]);
  });

  it('lists a damaged configuration once instead of failing', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-labels-'));
    writeRunConfig(out, 'broken', '{"model": ');

    const check = findLabelConflicts(out, [row('broken', 'sasrec'), row('broken', 'sasrec')], current);

    expect(check.conflicts).toEqual([]);
    expect(check.unreadable.map((entry) => entry.path)).toEqual([join(out, 'runs', 'broken', 'config.json')]);
  });
});
