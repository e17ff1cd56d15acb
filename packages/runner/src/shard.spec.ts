import { invalidShard } from './messages';
import { assignShards, groupKey, parseShard } from './shard';

describe('parseShard', () => {
  it.each([
    ['0/1', 0, 1],
    ['0/4', 0, 4],
    ['3/4', 3, 4],
    [' 2 / 5 ', 2, 5],
  ])('reads %s', (text, index, count) => {
    expect(parseShard(text)).toEqual({ index, count });
  });

  it.each(['4/4', '1/0', '0/0', '-1/4', '1.5/4', '1', '1/', '/4', 'a/b', '1/4/2', ''])('rejects %p', (text) => {
    expect(() => parseShard(text)).toThrow(new RangeError(invalidShard(text)));
  });
});

describe('assignShards', () => {
  it('numbers groups models outer, seeds inner', () => {
    // Groups in order: a1 a2 a3 b1 b2 b3; group g goes to shard g mod 4.
    expect(assignShards(['a', 'b'], [1, 2, 3], 4)).toEqual([
      ['a__seed1', 'b__seed2'],
      ['a__seed2', 'b__seed3'],
      ['a__seed3'],
      ['b__seed1'],
    ]);
  });

  it('puts every group in exactly one shard', () => {
    const models = ['sasrec', 'hstu'];
    const seeds = [1, 2, 3, 4, 5];

    for (let count = 1; count <= 12; count++) {
      const shards = assignShards(models, seeds, count);
      const all = shards.flat();

      expect(shards).toHaveLength(count);
      expect(all.slice().sort()).toEqual(models.flatMap((model) => seeds.map((seed) => groupKey(model, seed))).sort());
      expect(new Set(all).size).toBe(all.length);
      // Balanced: sizes differ by at most one group.
      const sizes = shards.map((shard) => shard.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('leaves shards beyond the group count empty', () => {
    expect(assignShards(['sasrec'], [1], 3)).toEqual([['sasrec__seed1'], [], []]);
  });

  it('rejects a shard count below one', () => {
    expect(() => assignShards(['sasrec'], [1], 0)).toThrow(RangeError);
  });
});
