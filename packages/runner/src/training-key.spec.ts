import { resolveConfig } from './config';
import { hashJson } from './provenance';
import { trainedModelKey } from './training';

describe('trainedModelKey', () => {
  const base = resolveConfig(null, { preset: 'smoke' });
  const withSampling = (negativeSampling: 'per-position' | 'shared' | undefined) => ({ ...base, training: { ...base.training, negativeSampling } });

  it('keeps the old key for shared sampling', () => {
    // The key before the option existed: a hash of the configuration without the field.
    const before = hashJson({ modelId: 'sasrec', model: base.model, training: base.training, fingerprint: 'data', seed: 1 }).slice(0, 16);

    expect(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1)).toBe(before);
  });

  it('gives per-position sampling its own key', () => {
    const perPosition = trainedModelKey(base, 'sasrec', 'data', 1);

    expect(trainedModelKey(withSampling('per-position'), 'sasrec', 'data', 1)).toBe(perPosition);
    expect(perPosition).not.toBe(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1));
  });

  it('ignores sampling for other losses', () => {
    const bce = { ...base, training: { ...base.training, loss: 'bce' as const } };
    const ctrKey = { task: 'ctr', impressions: 10 };

    expect(trainedModelKey({ ...bce, training: { ...bce.training, negativeSampling: 'shared' } }, 'sasrec', 'data', 1)).toBe(trainedModelKey(bce, 'sasrec', 'data', 1));
    expect(trainedModelKey(withSampling('shared'), 'sasrec', 'data', 1, ctrKey)).toBe(trainedModelKey(base, 'sasrec', 'data', 1, ctrKey));
  });
});
