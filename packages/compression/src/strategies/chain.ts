import type { KVCache } from '../kv-cache';
import { invalidArgument } from '../messages';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import type { TokenBudgetedStrategy } from './score-based-strategy';

/** Options of {@link ChainStrategy}. */
export interface ChainOptions {
  /** Token strategy applied first, for example SnapKV; its `compressionRatio` is the chain's token budget. */
  pruning: TokenBudgetedStrategy;
  /** Precision strategy applied to the kept tokens, for example KIVI or INT8. */
  precision: CompressionStrategy;
  /**
   * Registry id of the chain.
   * @defaultValue `${pruning.id}+${precision.id}`
   */
  id?: string;
}

/**
 * Chain: keeps the tokens that a pruning strategy keeps, stored in the encoding of a
 * precision strategy.
 *
 * Token pruning and quantisation remove different redundancy (tokens that receive little
 * attention, and bits that each number does not need), so their savings multiply. The chain
 * wraps two strategies instead of subclassing either: it prunes first, because
 * {@link gatherHead} gathers float32 rows only, and then encodes the kept rows. The bytes are
 * those of the buffers stored: the kept rows' codes, scales and zero points, the rows that
 * the precision strategy leaves in float32 (KIVI's residual), the explicit positions of the
 * kept tokens and their timestamps.
 *
 * Ratio 0 skips the pruning but still quantises every token, so the chain never returns its
 * input at ratio 0. The pruning part's `compressionRatio` is recorded as the chain's
 * `compressionRatio`, and every other parameter with a prefix naming its part, for example
 * `pruning.window` or `precision.bits`.
 *
 * Limitations: the streaming protocol prunes again after every chunk, and pruning after
 * quantisation would have to gather quantised rows, which {@link gatherHead} rejects with a
 * TypeError. Use the chain with the one-shot protocol (compress once after prefill).
 *
 * @see Li et al., "SnapKV: LLM Knows What You are Looking for Before Generation", NeurIPS 2024,
 * arXiv 2404.14469, the pruning part of the `snapkv+kivi` entry.
 * @see Liu et al., "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache", ICML 2024,
 * arXiv 2402.02750, its precision part. Composition by wrapping follows the wrapper presses
 * of NVIDIA kvpress (github.com/NVIDIA/kvpress).
 * @param options - {@link ChainOptions}; `pruning` and `precision` are required.
 * @throws TypeError when `pruning` cannot compress to a token budget (has no
 * `compressToTokens`) or `precision` has no `compress`.
 * @example
 * const chain = new ChainStrategy({
 *   pruning: new SnapKVStrategy({ compressionRatio: 0.75 }),
 *   precision: new KiviStrategy({ bits: 2 }),
 * });
 * const compressed = chain.compress(cache, { stats, logger: silentLogger });
 */
export class ChainStrategy implements TokenBudgetedStrategy {
  readonly id: string;
  readonly params: StrategyParams;
  /** Token strategy applied first. */
  readonly pruning: TokenBudgetedStrategy;
  /** Precision strategy applied to the pruned cache. */
  readonly precision: CompressionStrategy;

  constructor(options: ChainOptions) {
    if (typeof options.pruning?.compressToTokens !== 'function') {
      throw new TypeError(invalidArgument('ChainStrategy', 'pruning', 'a token strategy with compress and compressToTokens', describeStrategy(options.pruning)));
    }
    if (typeof options.precision?.compress !== 'function') {
      throw new TypeError(invalidArgument('ChainStrategy', 'precision', 'a strategy with compress', describeStrategy(options.precision)));
    }
    this.pruning = options.pruning;
    this.precision = options.precision;
    this.id = options.id ?? `${this.pruning.id}+${this.precision.id}`;
    const { compressionRatio, ...pruningParams } = this.pruning.params;
    this.params = {
      ...(compressionRatio === undefined ? {} : { compressionRatio }),
      ...prefixKeys('pruning', pruningParams),
      ...prefixKeys('precision', this.precision.params),
    };
  }

  /** Prunes with the pruning strategy's own ratio, then encodes the kept tokens. */
  compress(cache: KVCache, context: CompressionContext): KVCache {
    // Prune to the token budget, then quantise what is kept.
    const pruned = this.pruning.compress(cache, context);
    return this.precision.compress(pruned, context);
  }

  /** Prunes to at most `maxTokens` tokens per layer and head, then encodes the kept tokens. */
  compressToTokens(cache: KVCache, context: CompressionContext, maxTokens: number): KVCache {
    // Prune to the absolute budget, then quantise what is kept.
    const pruned = this.pruning.compressToTokens(cache, context, maxTokens);
    return this.precision.compress(pruned, context);
  }
}

function prefixKeys(prefix: string, params: StrategyParams): Record<string, number | string | boolean> {
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [`${prefix}.${key}`, value]));
}

function describeStrategy(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return String(value);
  }
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' ? `strategy ${JSON.stringify(id)}` : 'an object without an id';
}
