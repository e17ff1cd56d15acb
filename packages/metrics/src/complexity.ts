// Analytical cache bytes of a compression method and complexity curves over history length.

import { invalidArgument } from './messages';
import { MAX_TOKENS, requestMacs, resolveAttentionConfig } from './macs';
import type { Architecture, AttentionModelConfig, RequestProtocol } from './macs';
import { requireArrayLike, requireFinite, requireInteger } from './validation';

/**
 * Slack added before flooring len · (1 − r), so that a product such as 100 · (1 − 0.9) =
 * 9.999999999999998 floors to 10. It is the same rule as the budget of @malloc/compression.
 */
const FLOOR_SLACK_PER_TOKEN = 1e-12;

/** History lengths of the default complexity curve: 1, 2, 4, …, 16,384. */
export const DEFAULT_CURVE_LENGTHS: readonly number[] = Array.from({ length: 15 }, (_, i) => 2 ** i);

/** Direction of a quantisation group in a `[len, dHead]` block, as in @malloc/compression. */
export type QuantizationAxis = 'per-token' | 'per-channel';

/**
 * The bytes rule of a cache compression method. The fields compose: a ratio with `bits: 4`
 * describes a pruned cache whose kept tokens are stored as 4-bit codes.
 */
export interface CacheMethod {
  /** Label printed by `formatPlan`. Default value: a label built from the fields. */
  name?: string;
  /**
   * Fraction of tokens removed (`compressionRatio`), 0 ≤ r < 1. A history of len ≥ 1 tokens
   * keeps max(1, ⌊len · (1 − r)⌋). Default value: 0.
   */
  ratio?: number;
  /**
   * Whether the kept tokens form runs whose positions are implicit, as in a sliding window.
   * When false and `ratio` > 0, each kept token stores an int32 original position per layer
   * and KV head, because score-based methods choose tokens per head.
   * Default value: false.
   */
  contiguous?: boolean;
  /**
   * Bits per stored key or value number: 32 (float32), 16 (float16), or 1 to 8 for integer
   * codes with a float16 scale and a float16 zero point per group. Default value: 32.
   */
  bits?: number;
  /** Numbers per quantisation group; required when `bits` ≤ 8. @minimum 1 */
  group?: number;
  /** Direction of the key groups. Default value: 'per-token' (KIVI uses 'per-channel'). */
  keyAxis?: QuantizationAxis;
  /** Direction of the value groups. Default value: 'per-token'. */
  valueAxis?: QuantizationAxis;
  /**
   * Whether each kept token stores a float64 timestamp per layer and KV head, as a
   * time-aware HSTU cache does. Default value: false.
   */
  timestamps?: boolean;
}

/** Bytes of one user's cache under a {@link CacheMethod}. */
export interface MethodCacheBytes {
  /** Tokens kept per layer and KV head. */
  keptTokens: number;
  /** Bytes of the key and value numbers: float32/float16 elements or packed integer codes. */
  dataBytes: number;
  /** Bytes of the float16 scales and zero points, 4 per group (0 for float formats). */
  quantizationBytes: number;
  /** Bytes of the int32 original positions (0 when contiguous or unpruned). */
  positionBytes: number;
  /** Bytes of the float64 timestamps (0 unless `timestamps`). */
  timestampBytes: number;
  /** Sum of the four parts. */
  totalBytes: number;
}

/**
 * Efficiency: computes the bytes of one user's cache of `length` history tokens under a
 * compression method's bytes rule.
 *
 * Per layer and KV head, the cache holds a key block `[kept, dqk]` and a value block
 * `[kept, dv]`, with kept = max(1, ⌊length · (1 − r)⌋) for length ≥ 1. A float block takes
 * kept · width · bits/8 bytes. An integer block of b bits takes ⌈kept · width · b / 8⌉ bytes
 * of packed codes plus 4 bytes (float16 scale and zero point) per group. A block has
 * kept · ⌈width / g⌉ groups per token or ⌈kept / g⌉ · width groups per channel, so a last,
 * shorter group costs as much as a full one. Pruning with `contiguous: false` adds
 * 4 · kept bytes of int32 positions per layer and KV head, and timestamps add 8 · kept.
 * These rules match the buffers that @malloc/compression stores and counts.
 *
 * @param config model dimensions; only `layers`, `kvHeads`, `dqk` and `dv` matter.
 * @param length number of history tokens (`len`). @minimum 0
 * @param method see {@link CacheMethod}. Default value: a float32 `full` cache.
 * @throws TypeError or RangeError when a field is invalid, including `bits` ≤ 8 without `group`.
 * @example
 * // 2 layers, 1 head of width 64, 200 tokens, 2-bit codes in groups of 32:
 * // codes 2 · 2 · 200 · 64 · 2 / 8 = 12,800 B; groups 2 · 2 · 200 · 2 = 1,600, 6,400 B. Total 19,200 B.
 * methodCacheBytes({ layers: 2, hiddenSize: 64, heads: 1, itemCount: 1 }, 200, { bits: 2, group: 32 }).totalBytes; // 19200
 */
export function methodCacheBytes(config: AttentionModelConfig, length: number, method: CacheMethod = {}): MethodCacheBytes {
  const where = 'methodCacheBytes';

  // Validate the arguments.
  const { layers, kvHeads, dqk, dv } = resolveAttentionConfig(where, config);
  requireInteger(where, 'length', length, 0, Number.MAX_SAFE_INTEGER);
  const resolved = resolveMethod(where, method);

  // Count the kept tokens.
  const keptTokens = keptTokenCount(length, resolved.ratio);
  const blocks = layers * kvHeads; // key/value block pairs

  // Size the key and value blocks of one layer and KV head, then scale to all of them.
  const keys = blockBytes(keptTokens, dqk, resolved.bits, resolved.group, resolved.keyAxis);
  const values = blockBytes(keptTokens, dv, resolved.bits, resolved.group, resolved.valueAxis);
  const dataBytes = blocks * (keys.data + values.data);
  const quantizationBytes = blocks * (keys.quantization + values.quantization);

  // Add per-token metadata.
  const storesPositions = resolved.ratio > 0 && !resolved.contiguous;
  const positionBytes = storesPositions ? blocks * keptTokens * 4 : 0;
  const timestampBytes = resolved.timestamps ? blocks * keptTokens * 8 : 0;
  const totalBytes = dataBytes + quantizationBytes + positionBytes + timestampBytes;
  return { keptTokens, dataBytes, quantizationBytes, positionBytes, timestampBytes, totalBytes };
}

/** Input of {@link complexityCurve}. */
export interface ComplexityCurveInput {
  /** Architecture whose MAC model applies. */
  model: Architecture;
  /** Model dimensions; see {@link AttentionModelConfig}. */
  config: AttentionModelConfig;
  /** History lengths, integers in [0, 2^31 − 1]. Default value: {@link DEFAULT_CURVE_LENGTHS} (1 to 16,384). */
  lengths?: readonly number[];
  /** Bytes rule of the cache. Default value: a float32 `full` cache. */
  method?: CacheMethod;
  /** Serving protocol of a request. Default value: one request token, scored against every item. */
  protocol?: RequestProtocol;
}

/** One history length of a {@link complexityCurve}. */
export interface ComplexityPoint {
  /** History length (`len`). */
  length: number;
  /** Tokens kept per layer and KV head. */
  keptTokens: number;
  /** Bytes of one user's cache. */
  bytesPerUser: number;
  /** MACs of one request that appends against the kept tokens and scores. */
  macsPerRequest: number;
  /** MACs of one request without a cache: a full forward pass over history + request, and scoring. */
  macsWithoutCache: number;
}

/**
 * Complexity: computes how one user's cache bytes and per-request MACs grow with the
 * history length.
 *
 * Bytes follow {@link methodCacheBytes}. MACs follow {@link requestMacs} with the cache
 * holding the kept tokens, so bytes and cached MACs grow linearly in the length while
 * the MACs without a cache grow quadratically.
 *
 * @param input see {@link ComplexityCurveInput}.
 * @returns one point per length, in the order given.
 * @throws TypeError or RangeError when an input is invalid.
 * @example
 * complexityCurve({ model: 'hstu', config: { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, method: { bits: 4, group: 25 } });
 */
export function complexityCurve(input: ComplexityCurveInput): ComplexityPoint[] {
  const where = 'complexityCurve';

  // Validate the arguments.
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(invalidArgument(where, 'input', '{ model, config, lengths?, method?, protocol? }', input));
  }
  const lengths = input.lengths ?? DEFAULT_CURVE_LENGTHS;
  requireArrayLike(where, 'input.lengths', lengths);
  for (let i = 0; i < lengths.length; i += 1) {
    requireInteger(where, `input.lengths[${i}]`, lengths[i], 0, MAX_TOKENS);
  }
  const model = { architecture: input.model, config: input.config };

  // Size the cache and count the MACs at each length.
  return lengths.map((length) => {
    const bytes = methodCacheBytes(input.config, length, input.method);
    const macs = requestMacs(model, input.protocol ?? {}, length, bytes.keptTokens);
    return { length, keptTokens: bytes.keptTokens, bytesPerUser: bytes.totalBytes, macsPerRequest: macs.withCache, macsWithoutCache: macs.withoutCache };
  });
}

/** A method with every default filled in. */
interface ResolvedMethod {
  ratio: number;
  contiguous: boolean;
  bits: number;
  group: number;
  keyAxis: QuantizationAxis;
  valueAxis: QuantizationAxis;
  timestamps: boolean;
}

/** Fills in the defaults of a method and checks every field. */
export function resolveMethod(where: string, method: CacheMethod): ResolvedMethod {
  if (typeof method !== 'object' || method === null) {
    throw new TypeError(invalidArgument(where, 'method', '{ ratio?, contiguous?, bits?, group?, keyAxis?, valueAxis?, timestamps? }', method));
  }

  // Check the token budget.
  const ratio = method.ratio ?? 0;
  requireFinite(where, 'method.ratio', ratio);
  if (ratio < 0 || ratio >= 1) {
    throw new RangeError(invalidArgument(where, 'method.ratio', 'a fraction of tokens removed in [0, 1)', ratio));
  }

  // Check the storage format.
  const bits = method.bits ?? 32;
  requireInteger(where, 'method.bits', bits, 1, 32);
  if (bits > 8 && bits !== 16 && bits !== 32) {
    throw new RangeError(invalidArgument(where, 'method.bits', '32 (float32), 16 (float16) or an integer code width in [1, 8]', bits));
  }
  let group = 0;
  if (bits <= 8) {
    if (method.group === undefined) {
      throw new RangeError(invalidArgument(where, 'method.group', `a group size (a positive integer) for ${bits}-bit codes`, method.group));
    }
    requireInteger(where, 'method.group', method.group, 1, Number.MAX_SAFE_INTEGER);
    group = method.group;
  }
  const keyAxis = requireAxis(where, 'method.keyAxis', method.keyAxis ?? 'per-token');
  const valueAxis = requireAxis(where, 'method.valueAxis', method.valueAxis ?? 'per-token');
  return { ratio, contiguous: method.contiguous ?? false, bits, group, keyAxis, valueAxis, timestamps: method.timestamps ?? false };
}

/** Returns max(1, ⌊len · (1 − r)⌋) for len ≥ 1 and 0 for len = 0. */
function keptTokenCount(length: number, ratio: number): number {
  if (length === 0) {
    return 0;
  }
  const kept = Math.floor(length * (1 - ratio) + length * FLOOR_SLACK_PER_TOKEN);
  return Math.max(1, Math.min(length, kept));
}

/** Bytes of one `[rows, width]` block: data and quantisation parameters. */
function blockBytes(rows: number, width: number, bits: number, group: number, axis: QuantizationAxis): { data: number; quantization: number } {
  if (bits > 8) {
    return { data: (rows * width * bits) / 8, quantization: 0 };
  }
  const groups = axis === 'per-token' ? rows * Math.ceil(width / group) : Math.ceil(rows / group) * width;
  return { data: Math.ceil((rows * width * bits) / 8), quantization: 4 * groups };
}

/** Checks a quantisation axis. */
function requireAxis(where: string, argument: string, axis: unknown): QuantizationAxis {
  if (axis !== 'per-token' && axis !== 'per-channel') {
    throw new RangeError(invalidArgument(where, argument, "'per-token' or 'per-channel'", axis));
  }
  return axis;
}
