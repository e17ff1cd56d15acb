import { resolveConfig } from './config';
import { hashJson } from './provenance';
import { runConfigHash } from './trained-settings';
import { trainedModelKey } from './training';

describe('trainedModelKey', () => {
  const base = resolveConfig(null, { preset: 'smoke' });
  const withSampling = (negativeSampling: 'per-position' | 'shared') => ({ ...base, training: { ...base.training, negativeSampling } });

  it('keeps the old key for shared sampling', () => {
    // The key before the option existed: a hash of the configuration without the field.
    const { negativeSampling: _sampling, ...training } = base.training;
    const before = hashJson({ modelId: 'sasrec', model: base.model, training, fingerprint: 'data', seed: 1 }).slice(0, 16);

    expect(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1)).toBe(before);
  });

  it('gives per-position sampling its own key', () => {
    const perPosition = trainedModelKey(withSampling('per-position'), 'sasrec', 'data', 1);

    expect(base.training.negativeSampling).toBe('per-position');
    expect(perPosition).not.toBe(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1));
  });

  it('ignores sampling for other losses', () => {
    const bce = { ...base, training: { ...base.training, loss: 'bce' as const } };
    const ctrKey = { task: 'ctr', impressions: 10 };

    expect(trainedModelKey({ ...bce, training: { ...bce.training, negativeSampling: 'shared' } }, 'sasrec', 'data', 1)).toBe(trainedModelKey(bce, 'sasrec', 'data', 1));
    expect(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1, ctrKey)).toBe(trainedModelKey(withSampling('per-position'), 'sasrec', 'data', 1, ctrKey));
  });
});

describe('runConfigHash', () => {
  const base = resolveConfig(null, { preset: 'smoke' });

  it('keeps the old hash for shared sampling', () => {
    // The hash before the option existed: the training settings without the field.
    const { negativeSampling: _sampling, ...training } = base.training;
    const before = hashJson({ dataset: base.dataset, model: base.model, training, evaluation: base.evaluation, synthetic: base.synthetic });
    const shared = { ...base, training: { ...base.training, negativeSampling: 'shared' as const } };

    expect(runConfigHash(shared)).toBe(before);
  });

  it('gives per-position sampling its own hash', () => {
    expect(base.training.negativeSampling).toBe('per-position');
    expect(runConfigHash(base)).not.toBe(runConfigHash({ ...base, training: { ...base.training, negativeSampling: 'shared' } }));
  });
});
