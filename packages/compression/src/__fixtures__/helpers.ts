// Helpers shared by the spec files of this package (excluded from the build).
import { appendToHead, headBytes, headLength, headPositions, type HeadCache, type KVCache } from '../kv-cache';
import { createSeededRandom } from '../prng';
import type { CompressionContext } from '../strategy';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';

/** Largest absolute difference between two arrays of equal length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new RangeError(`maxAbsDifference: lengths differ (${a.length} and ${b.length}).`);
  }
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    max = Math.max(max, Math.abs(a[i] - b[i]));
  }
  return max;
}

/** Copies every buffer of a cache into plain arrays, to check later that nothing was mutated. */
export function snapshotCache(cache: KVCache): unknown {
  return {
    seenTokens: cache.seenTokens,
    itemIds: Array.from(cache.itemIds),
    layers: cache.layers.map((layer) =>
      layer.heads.map((head) => ({
        keys: Array.from(head.keys.decode()),
        values: Array.from(head.values.decode()),
        positions: head.positions === null ? null : Array.from(head.positions),
        positionStart: head.positionStart,
        timestamps: head.timestamps === null ? null : Array.from(head.timestamps),
        weights: head.weights === null ? null : Array.from(head.weights),
        buffers: [head.keys, head.values].flatMap((storage) => storage.buffers().map((buffer) => Array.from(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)))),
      })),
    ),
  };
}

/** Kept positions of every head, `[layers][kvHeads][kept]`. */
export function keptPositions(cache: KVCache): number[][][] {
  return cache.layers.map((layer) => layer.heads.map((head) => Array.from(headPositions(head))));
}

/**
 * Selection of the k highest scores by repeated linear scans (the first maximum wins, so ties
 * go to the lower index), returned in ascending order. An independent check of `selectTopK`.
 */
export function naiveTopK(row: ArrayLike<number>, k: number): number[] {
  const taken = new Array<boolean>(row.length).fill(false);
  const kept: number[] = [];
  for (let round = 0; round < k; round++) {
    let best = -1;
    for (let i = 0; i < row.length; i++) {
      if (!taken[i] && (best === -1 || row[i] > row[best])) {
        best = i;
      }
    }
    taken[best] = true;
    kept.push(best);
  }
  return kept.sort((a, b) => a - b);
}

/** A context without statistics and with a silent logger. */
export const noStats: CompressionContext = { stats: null, logger: silentLogger };

/** Creates a logger that records every message by level. */
export function recordingLogger(): Logger & { warnings: string[]; infos: string[]; debugs: string[] } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const debugs: string[] = [];
  return {
    warnings,
    infos,
    debugs,
    warn: (message) => warnings.push(message),
    info: (message) => infos.push(message),
    debug: (message) => debugs.push(message),
  };
}

/** Appends `count` random tokens to every head, as the model's incremental step would. */
export function appendRandomTokens(cache: KVCache, count: number, seed: number): KVCache {
  const random = createSeededRandom(seed);
  const layers = cache.layers.map((layer) => ({
    heads: layer.heads.map((head: HeadCache) => {
      const keys = Float32Array.from({ length: count * head.keys.cols }, () => 2 * random() - 1); // [count, dKey]
      const values = Float32Array.from({ length: count * head.values.cols }, () => 2 * random() - 1); // [count, dValue]
      const timestamps = head.timestamps === null ? null : Float64Array.from({ length: count }, (_, i) => 1.7e9 + 3600 * (cache.seenTokens + i));
      return appendToHead(head, keys, values, count, cache.seenTokens, timestamps);
    }),
  }));
  const itemIds = new Int32Array(cache.seenTokens + count);
  itemIds.set(cache.itemIds);
  for (let i = 0; i < count; i++) {
    itemIds[cache.seenTokens + i] = cache.seenTokens + i + 1;
  }
  return { layers, seenTokens: cache.seenTokens + count, itemIds };
}

/** Tokens stored per head, `[layers][kvHeads]`. */
export function headLengths(cache: KVCache): number[][] {
  return cache.layers.map((layer) => layer.heads.map(headLength));
}

/** Bytes of every head, `[layers][kvHeads]`. */
export function headByteTable(cache: KVCache): number[][] {
  return cache.layers.map((layer) => layer.heads.map(headBytes));
}
