import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import type { Logger } from './logger';
import { modelLabelSplit, modelSettingsNotRecorded } from './messages';
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

  it('sets rows without settings apart from rows that record them', () => {
    const logger = capturingLogger();

    const labels = separateModelLabels([row(1, 0.1, settings(1)), row(2, 0.2, null)], logger).map((each) => each.model);

    expect(labels).toEqual(['sasrec', 'sasrec (settings not recorded)']);
    expect(logger.warnings).toEqual([modelLabelSplit('ml-1m', 'sasrec', [], ['sasrec', 'sasrec (settings not recorded)'])]);
  });

  it('warns when no row of a label records its settings', () => {
    const logger = capturingLogger();

    const labels = separateModelLabels([row(1, 0.1, null), row(2, 0.2, null)], logger).map((each) => each.model);

    expect(labels).toEqual(['sasrec', 'sasrec']);
    expect(logger.warnings).toEqual([modelSettingsNotRecorded('ml-1m', 'sasrec')]);
  });

  it('separates models trained on different data', () => {
    const rows = [row(1, 0.1, settings(1), { dataSource: { fingerprint: 'aaaaaaaaaaaa1111' } }), row(2, 0.2, settings(1), { dataSource: { fingerprint: 'bbbbbbbbbbbb2222' } })];

    const labels = separateModelLabels(rows, capturingLogger()).map((each) => each.model);

    expect(labels).toEqual(['sasrec (data.fingerprint=aaaaaaaaaaaa)', 'sasrec (data.fingerprint=bbbbbbbbbbbb)']);
  });

  it('compares rows of one task only', () => {
    const rows = [row(1, 0.1, settings(1)), row(2, 0.2, settings(2), { task: 'ctr' })];

    expect(separateModelLabels(rows, capturingLogger()).map((each) => each.model)).toEqual(['sasrec', 'sasrec']);
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
  it('gives separate labels to the rows it reads', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'malloc-report-labels-'));
    writeFileSync(join(folder, 'results.jsonl'), toJsonl([okRow({ seed: 1, training: { settings: settings(1) } }), okRow({ seed: 2, training: { settings: settings(2) } })]));

    const read = await readResultsFiles([folder], capturingLogger());

    expect(read.rows.map((each) => each.model)).toEqual(['sasrec (model.heads=1)', 'sasrec (model.heads=2)']);
    expect(read.rows[0].trainedSettings).toEqual(settings(1));
  });

  it('rejects settings that are not an object, naming the field', () => {
    expect(() => parseResultRow(okRow({ training: { settings: 'heads=2' } }), { file: '/r/results.jsonl', line: 3 })).toThrow(/training\.settings/);
  });
});
