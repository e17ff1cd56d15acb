import type { KVCache } from '../kv-cache';
import { Float32Storage } from '../storage/float32-storage';
import { checkQuantizationOptions, QuantizedStorage, type QuantizationBits, type QuantizationOptions } from '../storage/quantized-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { checkInteger } from '../validation';
import { joinParts, splitFloat32Tail, withStorages } from './precision-parts';

/** Options of {@link KiviStrategy}. */
export interface KiviOptions {
  /**
   * Bits per code: 2 (KIVI's main setting), 4 or 8.
   * @defaultValue 2
   */
  bits?: QuantizationBits;
  /**
   * Group size G: tokens per key group (per channel) and channels per value group (per token).
   * @defaultValue 32
   * @minimum 1
   */
  groupSize?: number;
  /**
   * Residual R: at least this many newest tokens stay in float32.
   * @defaultValue 32
   * @minimum 0
   */
  residual?: number;
}

/**
 * KIVI: keeps every token, with keys quantised per channel, values quantised per token, and
 * the newest tokens kept in float32.
 *
 * Key caches have a few outlier channels with large magnitudes, so grouping keys along
 * tokens within each channel gives each channel its own range. Value errors mix across
 * channels through the attention output, so values are grouped along channels within each
 * token. The newest tokens matter most to the next query and stay exact. Per head: of the
 * float32 rows at the end of the cache (all rows after prefill, the appended ones later),
 * keys quantise the oldest `⌊(n − R) / G⌋ · G` rows in complete groups of G tokens, and
 * values quantise the oldest `n − R` rows; the rest stay in float32 and are counted at
 * 4 bytes a number. Rows already quantised are never re-encoded, so running KIVI after
 * every chunk of the streaming protocol reproduces the paper's streaming behaviour.
 *
 * Deviation from paper: KIVI's configurations keep a residual of 128 tokens with groups of
 * 32, for prompts of thousands of tokens; recommendation histories here contain at most a few
 * hundred items, so the default residual is one group (32).
 *
 * @see Liu, Yuan, Jin, Zhong, Xu, Braverman, Chen, Hu, "KIVI: A Tuning-Free Asymmetric 2bit
 * Quantization for KV Cache", ICML 2024, arXiv 2402.02750.
 * @param options - {@link KiviOptions}; `bits` defaults to 2, `groupSize` to 32, `residual` to 32.
 * @throws RangeError when `bits` is not 2, 4 or 8, `groupSize` not an integer ≥ 1 or
 * `residual` not an integer ≥ 0.
 * @throws RangeError from `compress` when a group's range does not fit in float16.
 * @example
 * const kivi = new KiviStrategy({ bits: 2, groupSize: 32, residual: 32 });
 * const compressed = kivi.compress(cache);
 */
export class KiviStrategy implements CompressionStrategy {
  readonly id = 'kivi';
  readonly params: StrategyParams;
  /** Layout of the quantised keys: groups of `groupSize` tokens per channel. */
  readonly keyQuantization: QuantizationOptions;
  /** Layout of the quantised values: groups of `groupSize` channels per token. */
  readonly valueQuantization: QuantizationOptions;
  /** Minimum number of newest tokens kept in float32. */
  readonly residual: number;

  constructor(options: KiviOptions = {}) {
    const bits = options.bits ?? 2;
    const groupSize = options.groupSize ?? 32;
    this.keyQuantization = checkQuantizationOptions('KiviStrategy', { bits, groupSize, axis: 'per-channel' });
    this.valueQuantization = checkQuantizationOptions('KiviStrategy', { bits, groupSize, axis: 'per-token' });
    this.residual = checkInteger('KiviStrategy', 'residual', options.residual ?? 32, 0);
    this.params = { bits, groupSize, residual: this.residual };
  }

  /** Quantises the older float32 rows of every head's keys (per channel) and values (per token). */
  compress(cache: KVCache, _context?: CompressionContext): KVCache {
    const groupSize = this.keyQuantization.groupSize;
    const layers = cache.layers.map((layer) => ({
      heads: layer.heads.map((head) => {
        const keys = quantizeOldRows(head.keys, this.keyQuantization, (rows) => Math.floor(Math.max(0, rows - this.residual) / groupSize) * groupSize);
        const values = quantizeOldRows(head.values, this.valueQuantization, (rows) => Math.max(0, rows - this.residual));
        return withStorages(head, keys, values);
      }),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/**
 * Quantises the oldest rows of a storage's float32 tail and keeps the newer ones in float32.
 *
 * @param quantizedCount - number of tail rows to quantise, given the tail's row count.
 */
function quantizeOldRows(storage: TensorStorage, options: QuantizationOptions, quantizedCount: (tailRows: number) => number): TensorStorage {
  const { prefix, tail, tailRows, cols } = splitFloat32Tail(storage);
  const count = quantizedCount(tailRows);
  if (count === 0) {
    return storage;
  }
  const old = QuantizedStorage.encode(tail.subarray(0, count * cols), count, cols, options); // [count, cols]
  const recent = new Float32Storage(tail.slice(count * cols), tailRows - count, cols); // [tailRows - count, cols]
  return joinParts([...prefix, old, recent], cols);
}
