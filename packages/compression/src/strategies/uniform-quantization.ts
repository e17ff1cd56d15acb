import type { GpuKernels } from '../kernels/gpu-kernels';
import type { KVCache } from '../kv-cache';
import { checkQuantizationOptions, QuantizedStorage, type QuantizationAxis, type QuantizationBits, type QuantizationOptions } from '../storage/quantized-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { joinParts, splitFloat32Tail, withStorages } from './precision-parts';

/** Options of {@link UniformQuantizationStrategy}. */
export interface UniformQuantizationOptions {
  /** Bits per code: 8, 4 or 2 (registry ids `int8`, `int4`, `int2`). */
  bits: QuantizationBits;
  /**
   * Numbers per group, each with a float16 scale and zero point.
   * @defaultValue 32
   * @minimum 1
   */
  groupSize?: number;
  /**
   * Direction of the groups, for keys and values alike.
   * @defaultValue "per-token"
   */
  axis?: QuantizationAxis;
  /**
   * Quantise with the gpu.js kernels instead of the TypeScript path. Their codes can differ
   * by one from the TypeScript path's, because the kernels compute in float32.
   * @defaultValue false
   */
  useKernels?: boolean;
  /** Kernels to use when `useKernels` is set; a new `GpuKernels` is created on first use when absent. */
  kernels?: GpuKernels;
}

/**
 * Uniform quantisation (INT8, INT4, INT2): keeps every token, with keys and values stored as
 * `bits`-wide integer codes plus a float16 scale and zero point per group.
 *
 * Asymmetric min-max quantisation maps each group's range linearly onto `2^bits` levels, so
 * precision rather than the number of tokens is traded for memory. The scales and zero
 * points are counted in the bytes: with 2-bit codes and groups of 32, they add 4 bytes per
 * 32 numbers to 8 bytes of codes, which gives a ratio of 10.67× against float32, not 16×.
 * Token metadata (positions, timestamps) is left as it is. Rows already encoded are kept;
 * only float32 rows at the end (appended since the last call) are quantised, so the
 * strategy can run after every chunk of the streaming protocol.
 *
 * Codes are computed by the TypeScript path of `QuantizedStorage.encode` unless
 * `useKernels` is set. Then the gpu.js kernels of `GpuKernels` compute the group ranges and
 * the codes: the scales and zero points are the same, and each code is within one of the
 * TypeScript path's. `params` then records `useKernels: true`.
 *
 * @see Jacob, Kligys, Chen, Zhu, Tang, Howard, Adam, Kalenichenko, "Quantization and Training
 * of Neural Networks for Efficient Integer-Arithmetic-Only Inference", CVPR 2018, arXiv
 * 1712.05877 (asymmetric uniform quantisation with a scale and zero point).
 * @param options - {@link UniformQuantizationOptions}; `groupSize` defaults to 32, `axis` to `per-token`.
 * @throws RangeError when `bits` is not 2, 4 or 8, `groupSize` is not an integer ≥ 1, or
 * `axis` is a string other than `per-token` and `per-channel`.
 * @throws TypeError when an option has the wrong type.
 * @throws RangeError from `compress` when a group's range does not fit in float16.
 * @example
 * const int4 = new UniformQuantizationStrategy({ bits: 4, groupSize: 32 });
 * const compressed = int4.compress(cache);
 */
export class UniformQuantizationStrategy implements CompressionStrategy {
  readonly id: string;
  readonly params: StrategyParams;
  /** Resolved bits, group size and axis. */
  readonly quantization: QuantizationOptions;
  /** Whether the gpu.js kernels quantise instead of the TypeScript path. */
  readonly useKernels: boolean;
  private kernels: GpuKernels | null;

  constructor(options: UniformQuantizationOptions) {
    this.quantization = checkQuantizationOptions('UniformQuantizationStrategy', {
      bits: options.bits,
      groupSize: options.groupSize ?? 32,
      axis: options.axis ?? 'per-token',
    });
    this.id = `int${this.quantization.bits}`;
    this.useKernels = options.useKernels === true;
    this.kernels = options.kernels ?? null;
    this.params = { ...this.quantization, ...(this.useKernels ? { useKernels: true } : {}) };
  }


  /** Quantises the float32 rows of every head's keys and values. */
  compress(cache: KVCache, _context?: CompressionContext): KVCache {
    const layers = cache.layers.map((layer) => ({
      heads: layer.heads.map((head) => withStorages(head, quantizeTail(head.keys, this.quantization, this.encoder()), quantizeTail(head.values, this.quantization, this.encoder()))),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }

  private encoder(): Encoder {
    if (!this.useKernels) {
      return (data, rows, cols, options) => QuantizedStorage.encode(data, rows, cols, options);
    }
    if (this.kernels === null) {
      // Loaded on first use so that the TypeScript path never loads gpu.js.
      const { GpuKernels: Kernels } = require('../kernels/gpu-kernels') as typeof import('../kernels/gpu-kernels');
      this.kernels = new Kernels();
    }
    const kernels = this.kernels;
    return (data, rows, cols, options) => kernels.encode(data, rows, cols, options);
  }
}

/** Quantises a `[rows, cols]` float32 block. */
type Encoder = (data: Float32Array, rows: number, cols: number, options: QuantizationOptions) => QuantizedStorage;

/** Quantises the trailing float32 rows of a storage; returns the storage itself when there are none. */
function quantizeTail(storage: TensorStorage, options: QuantizationOptions, encode: Encoder): TensorStorage {
  const { prefix, tail, tailRows, cols } = splitFloat32Tail(storage);
  if (tailRows === 0) {
    return storage;
  }
  return joinParts([...prefix, encode(tail, tailRows, cols, options)], cols);
}
