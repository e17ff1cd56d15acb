import { canonicalJson } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('gives equal text for key orders', () => {
    expect(canonicalJson({ lsh: { seed: 1, buckets: 4 } })).toBe(canonicalJson({ lsh: { buckets: 4, seed: 1 } }));
  });

  it('reads an absent value as undefined', () => {
    expect(canonicalJson(undefined)).toBe('undefined');
    expect(canonicalJson(null)).toBe('null');
  });
});
