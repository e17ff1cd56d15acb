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

describe('trainedModelKey and the validation sample', () => {
  const base = resolveConfig(null, { preset: 'smoke' });
  const withSample = (validationUsers: number | null, sampleSeed: number) => ({ ...base, training: { ...base.training, validationUsers }, evaluation: { ...base.evaluation, sampleSeed } });

  it('keeps the old key for sample seed 0', () => {
    // The key before the field existed: the inputs without a validation sample seed.
    const config = withSample(60, 0);
    const before = hashJson({ modelId: 'sasrec', model: config.model, training: config.training, fingerprint: 'data', seed: 1 }).slice(0, 16);

    expect(trainedModelKey(config, 'sasrec', 'data', 1)).toBe(before);
  });

  it('separates keys of other sample seeds', () => {
    const keys = [0, 1, 2].map((sampleSeed) => trainedModelKey(withSample(60, sampleSeed), 'sasrec', 'data', 1));

    expect(new Set(keys).size).toBe(3);
  });

  it('ignores the seed without a sample', () => {
    expect(trainedModelKey(withSample(null, 5), 'sasrec', 'data', 1)).toBe(trainedModelKey(withSample(null, 0), 'sasrec', 'data', 1));
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
