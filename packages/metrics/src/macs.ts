// Analytical multiply-accumulate (MAC) counts of SASRec and HSTU per inference phase.

import { invalidArgument } from './messages';
import { requireInteger, requirePositiveInteger } from './validation';

/** Largest history length, cached-token count or candidate count accepted by the MAC model. */
export const MAX_TOKENS = 2 ** 31 - 1;

/** Architecture dimensions shared by the SASRec and HSTU MAC models. */
export interface AttentionModelConfig {
  /** Number of attention blocks (`L`). @minimum 1 */
  layers: number;
  /** Model width `d`: embedding size and width of each block's input and output. @minimum 1 */
  hiddenSize: number;
  /** Number of query heads (`heads`). @minimum 1 */
  heads: number;
  /**
   * Number of key/value heads (`kvHeads`). It must divide `heads`: MQA uses 1, GQA a
   * divisor of `heads`. Default value: `heads`.
   */
  kvHeads?: number;
  /** Width of one query and key vector per head (`dqk`). Default value: hiddenSize / heads, which must then be an integer. */
  dqk?: number;
  /** Width of one value vector per head (`dv`). Default value: hiddenSize / heads, which must then be an integer. */
  dv?: number;
  /** Number of scorable items (`nItems`), padding excluded. @minimum 1 */
  itemCount: number;
}

/** A config with every default filled in, as used by the formulas. */
export interface ResolvedAttentionConfig {
  /** `L`. */
  layers: number;
  /** `d`. */
  hiddenSize: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads. */
  kvHeads: number;
  /** Query and key width per head. */
  dqk: number;
  /** Value width per head. */
  dv: number;
  /** `nItems`. */
  itemCount: number;
}

/** One phase of inference whose MACs {@link sasrecMacs} and {@link hstuMacs} count. */
export type InferencePhase =
  /** Forward pass over `length` history tokens that writes every layer's K/V into a cache. */
  | { kind: 'prefill'; length: number }
  /** Forward pass over `appended` new tokens that attend to `cached` cached tokens and to each other (causally). */
  | { kind: 'append'; cached: number; appended: number }
  /** Forward pass over `length` tokens with no cache, as the `recompute` reference row pays per request. */
  | { kind: 'full-forward'; length: number }
  /** Scores of one output vector against every item embedding. */
  | { kind: 'score-all' }
  /**
   * Scores of one output vector against `count` candidate item embeddings.
   * NOTE: a target-aware pass that appends the candidates after the history, each seeing the
   * history and itself but not the other candidates (HSTU's M-FALCON), is not modelled. Its
   * attention has count · (cached + 1) pairs, which an `append` phase overcounts by
   * count(count − 1)/2.
   */
  | { kind: 'score-candidates'; count: number };

/** MAC count of one phase. */
export interface MacCount {
  /** Sum of the breakdown. */
  total: number;
  /**
   * MACs per term. SASRec: `projections`, `attentionScores`, `attentionValues`, `ffn`,
   * `outputScoring`. HSTU: the same keys with `ffn` always 0, because HSTU has no FFN.
   */
  breakdown: Record<MacTerm, number>;
}

/** Names of the terms of {@link MacCount.breakdown}. */
export type MacTerm = 'projections' | 'attentionScores' | 'attentionValues' | 'ffn' | 'outputScoring';

/** Architectures known to the MAC model. */
export type Architecture = 'sasrec' | 'hstu';

/**
 * Efficiency: counts the multiply-accumulates (MACs) of one SASRec inference phase.
 *
 * One MAC is one multiply-add inside a matrix product. Per layer and per token the count is
 * - projections: d · (heads · dqk) for Q, d · kvHeads · (dqk + dv) for K and V, and
 *   (heads · dv) · d for the output projection O;
 * - attention scores: heads · dqk for each (query, key) pair that the causal mask keeps;
 * - attention-weighted values: heads · dv for each such pair;
 * - FFN: 2 · d² (point-wise d → d → d).
 *
 * A query at position i of a causal pass attends to i keys, itself included. So a pass over
 * n tokens has n(n + 1)/2 pairs per head, and `a` tokens appended after `c` cached ones
 * have a · c + a(a + 1)/2. Scoring one output vector against `k` items costs k · d.
 * Not counted: embedding lookups (gathers), the √d scale, position embedding and residual
 * additions, biases, softmax (exponentials and the normalising division), the 1/√dqk scale,
 * layer norms, ReLU and dropout. These are element-wise and grow as O(n · d) per layer,
 * except softmax, which grows as O(heads · pairs).
 *
 * Every layer runs on every token in prefill and full-forward passes, so both phases have
 * the same count. A prefill could skip the last layer's Q, O and FFN for history tokens
 * whose outputs are never read, but this model does not assume that saving.
 *
 * @see Kang and McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018, arXiv:1808.09781.
 * @param config see {@link AttentionModelConfig}.
 * @param phase see {@link InferencePhase}.
 * @throws TypeError when a field is not a number or the phase is not an object.
 * @throws RangeError when a field is out of its domain, `kvHeads` does not divide `heads`, or
 *   `dqk`/`dv` are omitted and `hiddenSize` is not a multiple of `heads`.
 * @example
 * // L = 2, d = 50, 1 head, append 1 token to 200 cached ones:
 * // projections 2 · (4 · 50 · 50) = 20,000; scores and values 2 · 201 · 50 = 20,100 each;
 * // FFN 2 · 2 · 50² = 10,000. Total 70,200.
 * sasrecMacs({ layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, { kind: 'append', cached: 200, appended: 1 }).total;
 */
export function sasrecMacs(config: AttentionModelConfig, phase: InferencePhase): MacCount {
  const where = 'sasrecMacs';

  // Validate the arguments.
  const resolved = resolveAttentionConfig(where, config);
  const { tokens, pairs, scored } = phaseWork(where, phase, resolved.itemCount);

  // Count each term over all layers.
  const { layers, hiddenSize: d, heads, kvHeads, dqk, dv } = resolved;
  const projections = layers * tokens * (d * heads * dqk + d * kvHeads * (dqk + dv) + heads * dv * d);
  const attentionScores = layers * pairs * heads * dqk;
  const attentionValues = layers * pairs * heads * dv;
  const ffn = layers * tokens * 2 * d * d;
  const outputScoring = scored * d;
  return sumTerms({ projections, attentionScores, attentionValues, ffn, outputScoring });
}

/**
 * Efficiency: counts the multiply-accumulates (MACs) of one HSTU inference phase.
 *
 * One MAC is one multiply-add inside a matrix product. Per layer and per token the count is
 * - projections: the fused map d → heads · (dv + dqk) for U and Q plus
 *   d → kvHeads · (dqk + dv) for K and V, and the output projection (heads · dv) · d.
 *   With kvHeads = heads the fused map costs d · (2 · heads · dv + 2 · heads · dqk);
 * - attention scores: heads · dqk per causal (query, key) pair;
 * - attention-weighted values: heads · dv per causal pair.
 * HSTU has no FFN, so `ffn` is 0. Scoring one output vector against `k` items costs k · d.
 * Pairs are counted as for {@link sasrecMacs}.
 * Not counted: embedding lookups, the √d scale and position embedding addition, the SiLU
 * activations, the relative attention bias (a table lookup and one addition per pair), the
 * 1/N and 1/√dqk scales, layer norms, the element-wise product with U, L2 normalisation,
 * biases and residual additions. All of these are element-wise.
 *
 * @see Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter Sequential
 *   Transducers for Generative Recommendations", ICML 2024, arXiv:2402.17152.
 * @param config see {@link AttentionModelConfig}.
 * @param phase see {@link InferencePhase}.
 * @throws TypeError when a field is not a number or the phase is not an object.
 * @throws RangeError as {@link sasrecMacs}.
 * @example
 * // L = 2, d = 50, 1 head, dqk = dv = 50, append 1 token to 200 cached ones:
 * // projections 2 · (50 · 200 + 50 · 50) = 25,000; scores and values 2 · 201 · 50 = 20,100 each.
 * hstuMacs({ layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 }, { kind: 'append', cached: 200, appended: 1 }).total; // 65200
 */
export function hstuMacs(config: AttentionModelConfig, phase: InferencePhase): MacCount {
  const where = 'hstuMacs';

  // Validate the arguments.
  const resolved = resolveAttentionConfig(where, config);
  const { tokens, pairs, scored } = phaseWork(where, phase, resolved.itemCount);

  // Count each term over all layers.
  const { layers, hiddenSize: d, heads, kvHeads, dqk, dv } = resolved;
  const projections = layers * tokens * (d * heads * (dv + dqk) + d * kvHeads * (dqk + dv) + heads * dv * d);
  const attentionScores = layers * pairs * heads * dqk;
  const attentionValues = layers * pairs * heads * dv;
  const outputScoring = scored * d;
  return sumTerms({ projections, attentionScores, attentionValues, ffn: 0, outputScoring });
}

/** Serving protocol of a request: the number of new tokens appended and the scoring. */
export interface RequestProtocol {
  /** Number of request tokens appended after the history (`requestLength`). Default value: 1. @minimum 1 */
  requestLength?: number;
  /**
   * Scoring of the last output. Default value: `{ kind: 'score-all' }` (full ranking over the
   * catalogue).
   */
  scoring?: { kind: 'score-all' } | { kind: 'score-candidates'; count: number };
}

/** A model for {@link requestMacs}: its architecture and its dimensions. */
export interface ModelDimensions {
  /** Architecture whose MAC model applies. */
  architecture: Architecture;
  /** Dimensions; see {@link AttentionModelConfig}. */
  config: AttentionModelConfig;
}

/** Per-request MACs with and without a cache, from {@link requestMacs}. */
export interface RequestMacs {
  /** Append of the request tokens against `cachedTokens` cached tokens, plus scoring. */
  withCache: number;
  /** Full forward pass over history + request tokens, plus scoring (the `recompute` row). */
  withoutCache: number;
  /** Breakdown of `withCache`: the append phase and the scoring phase summed term by term. */
  withCacheBreakdown: Record<MacTerm, number>;
  /** Breakdown of `withoutCache`. */
  withoutCacheBreakdown: Record<MacTerm, number>;
  /** MACs of the prefill that builds the full cache of `historyLength` tokens, paid once per cache and not per request. */
  prefill: number;
}

/**
 * Efficiency: computes the MACs of one request with a KV cache and without one.
 *
 * With a cache, the request's tokens are appended against `cachedTokens` cached tokens
 * (the history's length for `full`, fewer after compression) and the last output is
 * scored. Without a cache, the model runs a full forward pass over
 * historyLength + requestLength tokens and scores the same output. The prefill that builds
 * the cache is returned apart, because a cache is built once and reused across requests.
 *
 * @param model architecture and dimensions; see {@link ModelDimensions}.
 * @param protocol see {@link RequestProtocol}.
 * @param historyLength number of history tokens before the request. @minimum 0
 * @param cachedTokens number of tokens left in the cache, at most `historyLength`.
 * @throws TypeError when an argument is not of the documented type.
 * @throws RangeError when a count is out of its domain or `cachedTokens > historyLength`.
 * @example
 * const model = { architecture: 'sasrec', config: { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706 } } as const;
 * requestMacs(model, {}, 200, 100).withCache; // append(100 cached, 1 new) + 3,706 · 50
 */
export function requestMacs(model: ModelDimensions, protocol: RequestProtocol, historyLength: number, cachedTokens: number): RequestMacs {
  const where = 'requestMacs';

  // Validate the arguments.
  const count = macCounter(where, model);
  const { requestLength, scoring } = resolveProtocol(where, protocol);
  requireInteger(where, 'historyLength', historyLength, 0, MAX_TOKENS);
  requireInteger(where, 'cachedTokens', cachedTokens, 0, historyLength);

  // Count the append and the full recompute, each followed by the same scoring.
  const scoringMacs = count(model.config, scoring);
  const append = count(model.config, { kind: 'append', cached: cachedTokens, appended: requestLength });
  const recompute = count(model.config, { kind: 'full-forward', length: historyLength + requestLength });
  const prefill = count(model.config, { kind: 'prefill', length: historyLength });
  const withCacheBreakdown = addTerms(append.breakdown, scoringMacs.breakdown);
  const withoutCacheBreakdown = addTerms(recompute.breakdown, scoringMacs.breakdown);
  return {
    withCache: append.total + scoringMacs.total,
    withoutCache: recompute.total + scoringMacs.total,
    withCacheBreakdown,
    withoutCacheBreakdown,
    prefill: prefill.total,
  };
}

/**
 * Fills in the defaults of a config and checks every field: `kvHeads` = `heads`,
 * `dqk` = `dv` = hiddenSize / heads.
 *
 * @throws TypeError or RangeError as {@link sasrecMacs}; `where` names the caller.
 */
export function resolveAttentionConfig(where: string, config: AttentionModelConfig): ResolvedAttentionConfig {
  // Check the required fields.
  if (typeof config !== 'object' || config === null) {
    throw new TypeError(invalidArgument(where, 'config', '{ layers, hiddenSize, heads, itemCount }', config));
  }
  requirePositiveInteger(where, 'config.layers', config.layers);
  requirePositiveInteger(where, 'config.hiddenSize', config.hiddenSize);
  requirePositiveInteger(where, 'config.heads', config.heads);
  requirePositiveInteger(where, 'config.itemCount', config.itemCount);

  // Fill in and check the KV heads.
  const kvHeads = config.kvHeads ?? config.heads;
  requirePositiveInteger(where, 'config.kvHeads', kvHeads);
  if (config.heads % kvHeads !== 0) {
    throw new RangeError(invalidArgument(where, 'config.kvHeads', `a divisor of config.heads (${config.heads})`, kvHeads));
  }

  // Fill in and check the head widths.
  const headWidth = config.hiddenSize / config.heads;
  if ((config.dqk === undefined || config.dv === undefined) && !Number.isInteger(headWidth)) {
    throw new RangeError(
      invalidArgument(where, 'config.hiddenSize', `a multiple of config.heads (${config.heads}) when dqk or dv is omitted`, config.hiddenSize),
    );
  }
  const dqk = config.dqk ?? headWidth;
  const dv = config.dv ?? headWidth;
  requirePositiveInteger(where, 'config.dqk', dqk);
  requirePositiveInteger(where, 'config.dv', dv);
  return { layers: config.layers, hiddenSize: config.hiddenSize, heads: config.heads, kvHeads, dqk, dv, itemCount: config.itemCount };
}

/** Returns the MAC function of an architecture, or throws for an unknown one. */
export function macCounter(where: string, model: ModelDimensions): (config: AttentionModelConfig, phase: InferencePhase) => MacCount {
  if (typeof model !== 'object' || model === null) {
    throw new TypeError(invalidArgument(where, 'model', "{ architecture: 'sasrec' | 'hstu', config }", model));
  }
  if (model.architecture === 'sasrec') {
    return sasrecMacs;
  }
  if (model.architecture === 'hstu') {
    return hstuMacs;
  }
  throw new RangeError(invalidArgument(where, 'model.architecture', "'sasrec' or 'hstu'", model.architecture));
}

/** Fills in the defaults of a request protocol and checks it. */
export function resolveProtocol(where: string, protocol: RequestProtocol | undefined): { requestLength: number; scoring: InferencePhase } {
  if (protocol !== undefined && (typeof protocol !== 'object' || protocol === null)) {
    throw new TypeError(invalidArgument(where, 'protocol', '{ requestLength?, scoring? }', protocol));
  }
  const requestLength = protocol?.requestLength ?? 1;
  requireInteger(where, 'protocol.requestLength', requestLength, 1, MAX_TOKENS);
  const scoring = protocol?.scoring ?? { kind: 'score-all' };
  const kind: unknown = scoring.kind;
  if (kind !== 'score-all' && kind !== 'score-candidates') {
    throw new RangeError(invalidArgument(where, 'protocol.scoring.kind', "'score-all' or 'score-candidates'", kind));
  }
  return { requestLength, scoring };
}

/**
 * Reduces a phase to the number of tokens that pass through the layers, the number of
 * causal (query, key) pairs per head and layer, and the number of scored items.
 */
function phaseWork(where: string, phase: InferencePhase, itemCount: number): { tokens: number; pairs: number; scored: number } {
  if (typeof phase !== 'object' || phase === null) {
    throw new TypeError(invalidArgument(where, 'phase', 'an object with a kind field', phase));
  }
  switch (phase.kind) {
    case 'prefill':
    case 'full-forward': {
      // Query i (1-based) attends to keys 1..i: Σ i = n(n + 1)/2.
      requireInteger(where, 'phase.length', phase.length, 0, MAX_TOKENS);
      const n = phase.length;
      return { tokens: n, pairs: (n * (n + 1)) / 2, scored: 0 };
    }
    case 'append': {
      // Appended token j (1-based) attends to the c cached keys and appended keys 1..j.
      requireInteger(where, 'phase.cached', phase.cached, 0, MAX_TOKENS);
      requireInteger(where, 'phase.appended', phase.appended, 0, MAX_TOKENS);
      const c = phase.cached;
      const a = phase.appended;
      return { tokens: a, pairs: a * c + (a * (a + 1)) / 2, scored: 0 };
    }
    case 'score-all':
      return { tokens: 0, pairs: 0, scored: itemCount };
    case 'score-candidates':
      requireInteger(where, 'phase.count', phase.count, 0, MAX_TOKENS);
      return { tokens: 0, pairs: 0, scored: phase.count };
    default:
      throw new RangeError(
        invalidArgument(where, 'phase.kind', "'prefill', 'append', 'full-forward', 'score-all' or 'score-candidates'", (phase as unknown as { kind?: unknown }).kind),
      );
  }
}

/** Builds a {@link MacCount} from its terms. */
function sumTerms(breakdown: Record<MacTerm, number>): MacCount {
  const total = breakdown.projections + breakdown.attentionScores + breakdown.attentionValues + breakdown.ffn + breakdown.outputScoring;
  return { total, breakdown };
}

/** Adds two breakdowns term by term. */
function addTerms(a: Record<MacTerm, number>, b: Record<MacTerm, number>): Record<MacTerm, number> {
  return {
    projections: a.projections + b.projections,
    attentionScores: a.attentionScores + b.attentionScores,
    attentionValues: a.attentionValues + b.attentionValues,
    ffn: a.ffn + b.ffn,
    outputScoring: a.outputScoring + b.outputScoring,
  };
}
