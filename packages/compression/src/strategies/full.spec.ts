import { noStats } from '../__fixtures__/helpers';
import { createRandomCache } from '../testing/random-cache';
import { FullStrategy } from './full';

describe('FullStrategy', () => {
  it('returns the input cache itself', () => {
    const cache = createRandomCache({ layers: 2, kvHeads: 1, len: 10, dKey: 4, dValue: 4, seed: 1 });
    expect(new FullStrategy().compress(cache)).toBe(cache);
    expect(new FullStrategy().compress(cache, noStats)).toBe(cache);
  });

  it('records no parameters', () => {
    expect(new FullStrategy().params).toEqual({});
    expect(new FullStrategy().id).toBe('full');
  });
});
