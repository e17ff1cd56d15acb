import { invalidShard } from './messages';

/** One shard of a sharded run: this process runs shard `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parses `I/N` (0-based `I`, `0 ≤ I < N`), the value of `malloc bench --shard`.
 *
 * @throws RangeError when the text is not two integers with `0 ≤ I < N`.
 */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (match === null) {
    throw new RangeError(invalidShard(text));
  }
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new RangeError(invalidShard(text));
  }
  return { index, count };
}

/** Key of a (model, seed) group, the unit that shards are made of: `model__seedN`. */
export function groupKey(model: string, seed: number): string {
  return `${model}__seed${seed}`;
}

/**
 * Assigns every (model, seed) group of a grid to exactly one shard: the groups are numbered in
 * configuration order (models outer, seeds inner) and group `g` goes to shard `g mod N`.
 *
 * Shards are made of whole groups, not single cells, because every cell of a group shares one
 * trained model: splitting a group's cells over machines would train the same model on each of
 * them. Numbering in configuration order, instead of hashing, keeps the shards balanced (their
 * sizes differ by at most one group), and every shard that reads the same configuration
 * computes the same assignment. A shard with no group has nothing to do, so use at most as many
 * shards as there are groups.
 *
 * Returns, per shard, the keys of its groups.
 */
export function assignShards(models: readonly string[], seeds: readonly number[], count: number): string[][] {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(invalidShard(`?/${count}`));
  }
  const shards: string[][] = Array.from({ length: count }, () => []);
  let g = 0;
  for (const model of models) {
    for (const seed of seeds) {
      shards[g % count].push(groupKey(model, seed));
      g++;
    }
  }
  return shards;
}
