import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import type { Logger } from './logger';
import { modelLabelSplit } from './messages';
import { separateModelLabels } from './model-labels';
import { summarizeSettings } from './overview';
import { parseResultRow, readResultsFiles } from './results';

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), info: () => undefined, debug: () => undefined };
}

/** Training settings of the smoke preset's SASRec with the given heads and epochs. */
function settings(heads: number, epochs = 2): Record<string, unknown> {
  return { model: { maxLength: 32, hiddenSize: 16, layers: 2, heads, dropout: 0.1 }, training: { epochs, batchSize: 32, loss: 'sampled-softmax' } };
}

/** Parses a fixture row whose `training.settings` are the given ones (none when null). */
function row(seed: number, ndcg10: number, trained: Record<string, unknown> | null, overrides: Record<string, unknown> = {}) {
  const training = trained === null ? { epochsRun: 2 } : { epochsRun: 2, settings: trained };
  return parseResultRow(okRow({ seed, metrics: metricsWith(ndcg10), training, ...overrides }), { file: '/r/results.jsonl', line: seed });
}

describe('separateModelLabels', () => {
  it('keeps labels whose rows share one trained configuration', () => {
    const logger = capturingLogger();
    const rows = [row(1, 0.1, settings(1)), row(2, 0.2, settings(1))];

    expect(separateModelLabels(rows, logger).map((each) => each.model)).toEqual(['sasrec', 'sasrec']);
    expect(logger.warnings).toEqual([]);
  });

  it('ignores the key order of the recorded settings', () => {
    const reordered = { training: { loss: 'sampled-softmax', batchSize: 32, epochs: 2 }, model: { dropout: 0.1, heads: 1, layers: 2, hiddenSize: 16, maxLength: 32 } };

    expect(separateModelLabels([row(1, 0.1, settings(1)), row(2, 0.2, reordered)], capturingLogger()).map((each) => each.model)).toEqual(['sasrec', 'sasrec']);
  });

  it('names the differing settings in each label and warns once per label', () => {
    const logger = capturingLogger();
    const rows = [row(1, 0.1, settings(1)), row(2, 0.3, settings(2)), row(3, 0.2, settings(1)), row(1, 0.4, settings(2, 5), { model: 'hstu' })];

    const labels = separateModelLabels(rows, logger).map((each) => each.model);

    expect(labels).toEqual(['sasrec (model.heads=1)', 'sasrec (model.heads=2)', 'sasrec (model.heads=1)', 'hstu']);
    expect(logger.warnings).toEqual([modelLabelSplit('ml-1m', 'sasrec', ['model.heads'], ['sasrec (model.heads=1)', 'sasrec (model.heads=2)'])]);
  });

  it('lists several differing fields, an absent one as unset', () => {
    const without = { model: { maxLength: 32, hiddenSize: 16, layers: 2, heads: 1, dropout: 0.1 }, training: { batchSize: 32, loss: 'bce' } };

    const labels = separateModelLabels([row(1, 0.1, settings(1)), row(2, 0.2, without)], capturingLogger()).map((each) => each.model);

    expect(labels).toEqual(['sasrec (training.epochs=2, training.loss=sampled-softmax)', 'sasrec (training.epochs=unset, training.loss=bce)']);
  });

  it('sets rows of unknown settings apart from rows that record them', () => {
    const logger = capturingLogger();

    const labels = separateModelLabels([row(1, 0.1, settings(1)), row(2, 0.2, null)], logger).map((each) => each.model);

    expect(labels).toEqual(['sasrec (settings recorded)', 'sasrec (settings unknown)']);
    expect(logger.warnings[0]).toContain('some rows have no recorded settings');
  });

  it('keeps apart labels of different datasets', () => {
    const rows = [row(1, 0.1, settings(1)), row(2, 0.2, settings(2), { dataset: 'ml-100k' })];

    expect(separateModelLabels(rows, capturingLogger()).map((each) => each.model)).toEqual(['sasrec', 'sasrec']);
  });

  it('makes the overview average only the seeds of one trained model', () => {
    const rows = separateModelLabels([row(1, 0.1, settings(1)), row(2, 0.3, settings(2)), row(3, 0.2, settings(1))], capturingLogger());

    const summaries = summarizeSettings(rows).map((summary) => [summary.model, summary.seeds, Number(summary.accuracy.toFixed(6))]);

    expect(summaries).toEqual([
      ['sasrec (model.heads=1)', 2, 0.15],
      ['sasrec (model.heads=2)', 1, 0.3],
    ]);
  });
});

describe('readResultsFiles with trained settings', () => {
  /** Writes a results folder with the given rows and saved run configurations. */
  function resultsFolder(rows: Record<string, unknown>[], configs: Record<string, string>): string {
    const folder = mkdtempSync(join(tmpdir(), 'malloc-report-labels-'));
    writeFileSync(join(folder, 'results.jsonl'), toJsonl(rows));
    for (const [runId, text] of Object.entries(configs)) {
      mkdirSync(join(folder, 'runs', runId), { recursive: true });
      writeFileSync(join(folder, 'runs', runId, 'config.json'), text);
    }
    return folder;
  }

  it('reads the settings of older rows from the saved run configuration, without workers', async () => {
    const config = (heads: number, workers: number) => JSON.stringify({ dataset: 'ml-1m', model: { heads, layers: 2 }, training: { epochs: 12, workers } });
    const folder = resultsFolder(
      [okRow({ runId: 'a', seed: 1 }), okRow({ runId: 'b', seed: 2 }), okRow({ runId: 'c', seed: 3 })],
      { a: config(1, 1), b: config(1, 2), c: config(2, 2) },
    );

    const read = await readResultsFiles([folder], capturingLogger());

    expect(read.rows.map((each) => each.model)).toEqual(['sasrec (model.heads=1)', 'sasrec (model.heads=1)', 'sasrec (model.heads=2)']);
    expect(read.rows[0].trainedSettings).toEqual({ model: { heads: 1, layers: 2 }, training: { epochs: 12 } });
  });

  it('warns about an unreadable run configuration and treats its rows as unknown', async () => {
    const logger = capturingLogger();
    const folder = resultsFolder([okRow({ runId: 'broken', seed: 1 })], { broken: '{"model": ' });

    const read = await readResultsFiles([folder], logger);

    expect(read.rows[0].trainedSettings).toBeNull();
    expect(read.rows[0].model).toBe('sasrec');
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toContain(join(folder, 'runs', 'broken', 'config.json'));
  });

  it('prefers the settings recorded in the row', async () => {
    const folder = resultsFolder([okRow({ runId: 'a', training: { settings: settings(4) } })], { a: JSON.stringify({ model: { heads: 1 }, training: {} }) });

    const read = await readResultsFiles([folder], capturingLogger());

    expect(read.rows[0].trainedSettings).toEqual(settings(4));
  });

  it('rejects settings that are not an object, naming the field', () => {
    expect(() => parseResultRow(okRow({ training: { settings: 'heads=2' } }), { file: '/r/results.jsonl', line: 3 })).toThrow(/training\.settings/);
  });
});
