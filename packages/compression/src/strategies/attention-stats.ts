import type { CompressionContext, AttentionStats } from '../strategy';
import { formatValue, invalidArgument, invalidShape, missingAttentionStats } from '../messages';

// Readers of the attention statistics that validate each layer's shape against the cache,
// because a stale statistic (recorded before an append or a compression) would silently
// score the wrong tokens.

/**
 * Returns the attention statistics of a context.
 *
 * @throws TypeError when the caller recorded none.
 */
export function requireStats(where: string, context: CompressionContext, needed: string): AttentionStats {
  if (context.stats === null) {
    throw new TypeError(missingAttentionStats(where, needed));
  }
  return context.stats;
}

/**
 * Reads the attention that each cached key of one layer received, summed over all
 * history queries.
 *
 * @returns `[kvHeads, len]` row-major.
 * @throws RangeError when the statistics do not cover the layer or have another shape.
 */
export function readAccumulatedAttention(where: string, stats: AttentionStats, layer: number, kvHeads: number, len: number): Float32Array {
  const accumulated = stats.accumulated[layer];
  if (accumulated === undefined || accumulated.length !== kvHeads * len) {
    throw new RangeError(invalidShape(where, `stats.accumulated[${layer}]`, [kvHeads, len], accumulated?.length ?? 0));
  }
  return accumulated; // [kvHeads, len]
}

/**
 * Reads the attention of the observation window's queries onto every cached key of one layer.
 *
 * @returns `[kvHeads, windowSize, len]` row-major, with `windowSize = stats.windowSize`.
 * @throws RangeError when the window is empty, or the statistics do not cover the layer or have another shape.
 */
export function readWindowAttention(where: string, stats: AttentionStats, layer: number, kvHeads: number, len: number): Float32Array {
  if (len > 0 && (!Number.isInteger(stats.windowSize) || stats.windowSize < 1)) {
    throw new RangeError(invalidArgument(where, 'stats.windowSize', 'an integer ≥ 1', formatValue(stats.windowSize)));
  }
  const window = stats.window[layer];
  if (window === undefined || window.length !== kvHeads * stats.windowSize * len) {
    throw new RangeError(invalidShape(where, `stats.window[${layer}]`, [kvHeads, stats.windowSize, len], window?.length ?? 0));
  }
  return window; // [kvHeads, windowSize, len]
}
