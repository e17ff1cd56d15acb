import { resolveConfig, type RunConfig } from './config';
import { differingSettings, trainedSettings } from './trained-settings';

describe('trainedSettings', () => {
  const base = resolveConfig(null, { preset: 'smoke' });

  it('leaves out workers', () => {
    const settings = trainedSettings({ ...base, training: { ...base.training, workers: 2 } }, 'sasrec');

    expect(settings.training).not.toHaveProperty('workers');
    expect(settings).toEqual(trainedSettings(base, 'sasrec'));
  });

  it('leaves out defaults spelled out', () => {
    const explicit: RunConfig = { ...base, model: { ...base.model, kvHeads: base.model.heads, timeBias: true, lsh: { buckets: 4, seed: 0 } } };
    const implicit: RunConfig = { ...base, model: { ...base.model, lsh: { buckets: 4 } } };

    expect(trainedSettings(explicit, 'hstu')).toEqual(trainedSettings(implicit, 'hstu'));
  });

  it('keeps settings that change the model', () => {
    const settings = trainedSettings({ ...base, model: { ...base.model, heads: 2, kvHeads: 1, timeBias: false, lsh: { buckets: 4, seed: 3 } } }, 'hstu');

    expect(settings.model).toMatchObject({ heads: 2, kvHeads: 1, timeBias: false, lsh: { buckets: 4, seed: 3 } });
  });

  it('keeps only the fields a recurrent model reads', () => {
    const settings = trainedSettings({ ...base, model: { ...base.model, heads: 2, kvLatentSize: 8 } }, 'gru4rec');

    expect(settings.model).toEqual({ maxLength: base.model.maxLength, hiddenSize: base.model.hiddenSize, layers: base.model.layers, dropout: base.model.dropout });
  });

  it('records per-position sampling only', () => {
    const perPosition = trainedSettings(base, 'sasrec');
    const explicit = trainedSettings({ ...base, training: { ...base.training, negativeSampling: 'per-position' } }, 'sasrec');
    const shared = trainedSettings({ ...base, training: { ...base.training, negativeSampling: 'shared' } }, 'sasrec');

    expect(perPosition.training.negativeSampling).toBe('per-position');
    expect(explicit).toEqual(perPosition);
    // Rows written before the option existed trained with shared negatives and recorded no field.
    expect(shared.training).not.toHaveProperty('negativeSampling');
    expect(differingSettings(perPosition, shared)).toEqual(['training.negativeSampling']);
  });

  it('records no sampling for other losses', () => {
    for (const loss of ['bce', 'full-ce'] as const) {
      expect(trainedSettings({ ...base, training: { ...base.training, loss } }, 'sasrec').training).not.toHaveProperty('negativeSampling');
    }
    expect(trainedSettings({ ...base, task: 'ctr' }, 'sasrec').training).not.toHaveProperty('negativeSampling');
  });

  it('records the CTR loss, impressions and click threshold', () => {
    const settings = trainedSettings({ ...base, task: 'ctr', evaluation: { ...base.evaluation, clickThreshold: 3 } }, 'hstu');

    expect(settings.training.loss).toBe('ctr-bce');
    expect(settings.ctr).toEqual({ impressions: 10, clickThreshold: 3 });
  });
});

describe('differingSettings', () => {
  it('names differing second-level fields, sorted', () => {
    const a = { model: { heads: 1, layers: 2 }, training: { epochs: 2 } };
    const b = { model: { heads: 2, layers: 2 }, training: { epochs: 2, patience: 3 } };

    expect(differingSettings(a, b)).toEqual(['model.heads', 'training.patience']);
  });

  it('ignores key order inside values', () => {
    expect(differingSettings({ model: { lsh: { buckets: 4, seed: 1 } } }, { model: { lsh: { seed: 1, buckets: 4 } } })).toEqual([]);
  });
});
