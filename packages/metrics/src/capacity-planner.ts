// Fleet capacity planning from model presets or dimensions: cache bytes and MACs per request.

import { methodCacheBytes, resolveMethod } from './complexity';
import type { CacheMethod } from './complexity';
import { MAX_TOKENS, requestMacs, resolveAttentionConfig } from './macs';
import type { ModelDimensions, RequestProtocol } from './macs';
import { invalidArgument, unknownPreset } from './messages';
import { requireFinite, requireInteger } from './validation';

/** Names of the built-in model presets of {@link planCapacity}. */
export type ModelPresetName = 'sasrec-ml1m' | 'hstu-ml1m' | 'hstu-large';

/**
 * Built-in model dimensions.
 *
 * - `sasrec-ml1m`: SASRec's ML-1M settings (Kang and McAuley, 2018), 2 blocks, 1 head,
 *   d = 50, over the 3,706 items of ML-1M.
 * - `hstu-ml1m`: HSTU's public ML-1M config, 2 layers × 1 head, d = 50, dqk = dv = 50.
 * - `hstu-large`: HSTU-large on ML-20M, 16 layers × 8 heads, dqk = dv = 32, as in the
 *   generative-recommenders memory estimate 16 · 8 · (32 + 32) · 200 · 4 B ≈ 6.5 MB per user.
 */
export const MODEL_PRESETS: Readonly<Record<ModelPresetName, ModelDimensions>> = {
  'sasrec-ml1m': { architecture: 'sasrec', config: { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 } },
  'hstu-ml1m': { architecture: 'hstu', config: { layers: 2, hiddenSize: 50, heads: 1, dqk: 50, dv: 50, itemCount: 3706 } },
  // NOTE: the model width d = heads · dv = 256 and the 26,744 ML-20M items are assumptions;
  // only the cache widths (16 layers, 8 heads, dqk = dv = 32) come from the published
  // memory estimate. d changes the projection MACs and itemCount the scoring MACs, not the bytes.
  'hstu-large': { architecture: 'hstu', config: { layers: 16, hiddenSize: 256, heads: 8, dqk: 32, dv: 32, itemCount: 26744 } },
};

/** Input of {@link planCapacity}. */
export interface CapacityInput {
  /** Number of users whose caches are kept. @minimum 0 */
  users: number;
  /** Mean history length per user in tokens, rounded to an integer by the caller. @minimum 0 */
  meanLength: number;
  /** A preset name (see {@link MODEL_PRESETS}) or explicit dimensions. */
  model: ModelPresetName | ModelDimensions;
  /** Bytes rule of the cache. Default value: a float32 `full` cache. */
  method?: CacheMethod;
  /** Serving protocol of a request. Default value: one request token, scored against every item. */
  protocol?: RequestProtocol;
}

/** Result of {@link planCapacity}. */
export interface CapacityPlan {
  /** Preset name, or `custom` for explicit dimensions. */
  modelName: string;
  /** The dimensions used. */
  model: ModelDimensions;
  /** Label of the method. */
  methodName: string;
  /** Users planned for. */
  users: number;
  /** History length the plan assumes for every user. */
  meanLength: number;
  /** Tokens kept per layer and KV head at `meanLength`. */
  keptTokens: number;
  /** Bytes of one user's cache at `meanLength`. */
  bytesPerUser: number;
  /** users · bytesPerUser. */
  totalBytes: number;
  /** MACs of one request served from the cache (append + scoring). */
  macsPerRequest: number;
  /** MACs of one request without a cache (full forward over history + request, and scoring). */
  perRequestWithoutCache: number;
}

/**
 * Capacity planning: estimates the cache storage of a fleet and the compute of one request,
 * with and without the cache.
 *
 * bytesPerUser is {@link methodCacheBytes} at `meanLength`, and totalBytes is
 * users · bytesPerUser. The MACs follow {@link requestMacs}. This is an estimate, because
 * every user is sized at the mean length. That is exact for bytes that are linear in the
 * length. It is not exact for the ⌊len · (1 − r)⌋ budget, for group padding, or for the
 * quadratic cost of a recompute, since the mean of a nonlinear function differs from its
 * value at the mean.
 *
 * @param input see {@link CapacityInput}.
 * @throws TypeError or RangeError when an input is invalid or the preset is unknown.
 * @example
 * // 16 · 8 · (32 + 32) · 4 B = 32,768 B per token, · 2,000 tokens = 65,536,000 B per user.
 * planCapacity({ users: 1e9, meanLength: 2000, model: 'hstu-large' }).totalBytes; // 6.5536e16
 */
export function planCapacity(input: CapacityInput): CapacityPlan {
  const where = 'planCapacity';

  // Validate the arguments.
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(invalidArgument(where, 'input', '{ users, meanLength, model, method?, protocol? }', input));
  }
  requireFinite(where, 'input.users', input.users);
  if (input.users < 0) {
    throw new RangeError(invalidArgument(where, 'input.users', 'a finite number ≥ 0', input.users));
  }
  requireInteger(where, 'input.meanLength', input.meanLength, 0, MAX_TOKENS);
  const { modelName, model } = resolveModel(where, input.model);
  resolveAttentionConfig(where, model.config);
  const method = input.method ?? {};
  resolveMethod(where, method);

  // Size one user's cache and the fleet.
  const bytes = methodCacheBytes(model.config, input.meanLength, method);
  const totalBytes = input.users * bytes.totalBytes;

  // Count one request with and without the cache.
  const macs = requestMacs(model, input.protocol ?? {}, input.meanLength, bytes.keptTokens);
  return {
    modelName,
    model,
    methodName: method.name ?? describeMethod(method),
    users: input.users,
    meanLength: input.meanLength,
    keptTokens: bytes.keptTokens,
    bytesPerUser: bytes.totalBytes,
    totalBytes,
    macsPerRequest: macs.withCache,
    perRequestWithoutCache: macs.withoutCache,
  };
}

/**
 * Formats a {@link CapacityPlan} as plain-text lines for the `malloc plan` command: the
 * model, the method, the per-user and fleet bytes in binary units, and the MACs per request.
 *
 * @param plan a result of {@link planCapacity}.
 * @example
 * formatPlan(planCapacity({ users: 1e6, meanLength: 200, model: 'hstu-ml1m' }));
 */
export function formatPlan(plan: CapacityPlan): string {
  const config = resolveAttentionConfig('formatPlan', plan.model.config);
  const dims = `L = ${config.layers}, heads = ${config.heads}, kvHeads = ${config.kvHeads}, d = ${config.hiddenSize}, dqk = ${config.dqk}, dv = ${config.dv}, ${formatCount(config.itemCount)} items`;
  const saving = plan.macsPerRequest === 0 ? '' : ` (${formatRatio(plan.perRequestWithoutCache / plan.macsPerRequest)} fewer with the cache)`;
  return [
    `model:        ${plan.modelName} (${plan.model.architecture}, ${dims})`,
    `method:       ${plan.methodName}`,
    `users:        ${formatCount(plan.users)}, ${formatCount(plan.meanLength)} tokens each, ${formatCount(plan.keptTokens)} kept`,
    `per user:     ${formatBytes(plan.bytesPerUser)}`,
    `fleet total:  ${formatBytes(plan.totalBytes)}`,
    `MACs/request: ${formatCount(plan.macsPerRequest)} with the cache, ${formatCount(plan.perRequestWithoutCache)} without${saving}`,
  ].join('\n');
}

/**
 * Formats a byte count with the largest binary unit (KiB = 1,024 B) that keeps it ≥ 1,
 * followed by the exact byte count.
 *
 * @param bytes a byte count ≥ 0.
 * @example
 * formatBytes(2048); // '2.00 KiB (2,048 B)'
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const scaled = unit === 0 ? String(value) : `${value.toFixed(2)} ${units[unit]}`;
  return unit === 0 ? `${scaled} B` : `${scaled} (${formatCount(bytes)} B)`;
}

/** Formats an integer with thousands separators, or in exponent form above 1e21. */
function formatCount(value: number): string {
  return value >= 1e21 ? value.toExponential(3) : Math.round(value).toLocaleString('en-US');
}

/** Formats a ratio such as 42.1×. */
function formatRatio(ratio: number): string {
  return `${ratio.toFixed(1)}×`;
}

/** Builds a label from a method's fields, such as `ratio 0.5 + int4 g32 + positions`. */
function describeMethod(method: CacheMethod): string {
  const parts: string[] = [];
  const ratio = method.ratio ?? 0;
  const bits = method.bits ?? 32;
  if (ratio > 0) {
    parts.push(`ratio ${ratio}${method.contiguous === true ? ' (contiguous)' : ' + int32 positions'}`);
  }
  parts.push(bits <= 8 ? `int${bits} g${method.group ?? 0} + float16 scale/zero` : `float${bits}`);
  if (method.timestamps === true) {
    parts.push('float64 timestamps');
  }
  return ratio === 0 && bits === 32 && method.timestamps !== true ? 'full (float32)' : parts.join(', ');
}

/** Looks up a preset or accepts explicit dimensions. */
function resolveModel(where: string, model: ModelPresetName | ModelDimensions): { modelName: string; model: ModelDimensions } {
  if (typeof model === 'string') {
    if (!Object.prototype.hasOwnProperty.call(MODEL_PRESETS, model)) {
      throw new RangeError(unknownPreset(where, model, Object.keys(MODEL_PRESETS)));
    }
    return { modelName: model, model: MODEL_PRESETS[model] };
  }
  if (typeof model !== 'object' || model === null || (model.architecture !== 'sasrec' && model.architecture !== 'hstu')) {
    throw new TypeError(invalidArgument(where, 'input.model', "a preset name or { architecture: 'sasrec' | 'hstu', config }", model));
  }
  return { modelName: 'custom', model };
}
