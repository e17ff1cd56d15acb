import { headPositions, type KVCache } from '@malloc/compression';
import { invalidArgument } from '../messages';
import type { BeaconConfig } from '../sequence/beacon';
import type { LinformerConfig } from '../sequence/linformer';
import { createRotations, hashBuckets, type LshConfig } from '../sequence/lsh';

// Analytical multiply-accumulate (MAC) counts of one retrieval request for the SASRec and HSTU
// variants that change the attention: multi-head latent attention (MLA), Activation Beacon,
// causal Linformer and LSH attention. One MAC is one multiply-add inside a matrix product, and
// the terms of plain SASRec and HSTU are those of `sasrecMacs` and `hstuMacs` in
// `@malloc/metrics`. Attention scores and weighted values are counted per (query, key) pair that
// the attention mask keeps, as there. The append here computes the scores of every cached key
// and then masks them, so with more than one request token (or with LSH buckets) it runs more
// products than this count.

/** Attention architectures whose variants {@link variantRequestMacs} counts. */
export type AttentionKind = 'sasrec' | 'hstu';

/** Fields of a SASRec or HSTU configuration that {@link variantRequestMacs} reads. */
export interface VariantMacsConfig {
  /** Attention blocks `L`. */
  layers: number;
  /** Model width `d`. */
  hiddenSize: number;
  /** Query heads. */
  heads: number;
  /** Catalogue size scored by a full-ranking request. */
  itemCount: number;
  /** Key/value heads; `heads` when absent. */
  kvHeads?: number;
  /** HSTU query and key width per head (`dqk`); SASRec uses `hiddenSize / heads`. */
  queryKeySize?: number;
  /** HSTU value width per head (`dv`); SASRec uses `hiddenSize / heads`. */
  valueSize?: number;
  /** MLA latent width `r`. */
  kvLatentSize?: number;
  /** Activation Beacon chunking. */
  beacon?: BeaconConfig;
  /** Causal Linformer blocks. */
  linformer?: LinformerConfig;
  /** LSH attention buckets. */
  lsh?: LshConfig;
}

/** One user's cache before the request, and the request. */
export interface VariantRequest {
  /** Items the cache has seen before the request (`seenTokens`, the history length). */
  seenTokens: number;
  /**
   * Rows that each cache head stores before the append, after any compression. When heads keep
   * different rows, pass the largest count, which gives an upper bound.
   */
  cachedRows: number;
  /** Items that the request appends. @minimum 1 */
  requestLength: number;
  /**
   * Beacon and Linformer: cached rows of the newest, incomplete chunk (positions at or after
   * the chunk's start), which a completed chunk condenses. Default value:
   * `min(cachedRows, seenTokens mod chunkSize)`, the uncompressed cache or a cache that
   * evicted older rows first.
   */
  chunkRows?: number;
  /**
   * LSH: (query, key) pairs that share a bucket, summed over layers, query heads and request
   * tokens, where each request token counts the keys up to itself ({@link lshBucketPairs}
   * measures them). Default value: the expected count under uniform hashing. A token always
   * shares its own bucket, and each earlier key falls into it with probability 1 / buckets, so
   * the count is `layers · heads · Σ_i (1 + (cachedRows + i − 1) / buckets)` over request
   * tokens i = 1..a.
   */
  bucketPairs?: number;
}

/** Names of the terms of a {@link VariantRequestMacs} breakdown. */
export type VariantMacTerm = 'projections' | 'latentUpProjection' | 'attentionScores' | 'attentionValues' | 'ffn' | 'hashing' | 'condensation' | 'outputScoring';

/** MACs of one request with the stored cache and without a cache. */
export interface VariantRequestMacs {
  /** The append of the request against the cache, any chunk condensation it triggers, and the scoring. */
  withCache: number;
  /** One full forward pass over history and request (the `recompute` row), and the scoring. */
  withoutCache: number;
  /** Terms of `withCache`. */
  withCacheBreakdown: Record<VariantMacTerm, number>;
  /** Terms of `withoutCache`. */
  withoutCacheBreakdown: Record<VariantMacTerm, number>;
}

/** A configuration with defaults filled in. */
interface Dimensions {
  kind: AttentionKind;
  layers: number;
  d: number;
  heads: number;
  kvHeads: number;
  dKey: number;
  dValue: number;
  latent: number | null;
  itemCount: number;
  beacon: BeaconConfig | null;
  linformer: LinformerConfig | null;
  lsh: LshConfig | null;
}

/**
 * Efficiency: counts the analytical MACs of one retrieval request of a SASRec or HSTU variant,
 * with its cache and without one. The count follows what the `append` and `forwardLast` of this
 * package run, from the matrix products only. Per layer, for `a` request tokens against `c`
 * cached rows:
 *
 * - Plain and GQA/MQA models: the terms of `sasrecMacs` and `hstuMacs` of `@malloc/metrics`.
 * - MLA (`kvLatentSize` r): each new token costs `d · r` for its latent instead of the key and
 *   value projection. SASRec's append attends in latent space, as DeepSeek-V2 does: each query
 *   head folds W_k into its query and W_v into its output, so `latentUpProjection` is
 *   `a · heads · r · (dKey + dValue)`, and scores and weighted sums cost r each per head and
 *   pair. HSTU applies a SiLU after its up projection, which cannot be folded. Its append
 *   projects every cached latent and each new latent up to keys and values. It also projects
 *   the new latents up once more for the new tokens' projection, whose keys and values it does
 *   not use. So `latentUpProjection` is `(c + 2a) · r · kvHeads · (dKey + dValue)`. SASRec with LSH does
 *   the same, because LSH hashes the keys. A full pass projects each latent up once.
 * - Activation Beacon (`beacon`, B beacons per chunk of C items): the items are appended as raw
 *   rows. An append that completes a chunk then runs the B beacon tokens through every layer
 *   against the rows cached at that moment (`condensation`), and the chunk's rows are replaced
 *   by the B beacons. With one request token after h history items, this happens only when
 *   (h + 1) mod C = 0, so over users spread evenly in the chunk it adds 1/C beacon pass per
 *   request on average. The full pass interleaves the beacons after every complete chunk.
 * - Causal Linformer (`linformer`, k projected rows per block of C tokens): attention runs over
 *   the cached projected rows and raw rows. A completed block costs
 *   `cacheHeads · k · n · (dKey + dValue)` for its n cached rows (`condensation`). The full pass
 *   counts `heads · k · C · (dKey + dValue)` per complete block, the products by nonzero entries
 *   of the block's projection. Its batched kernel multiplies the zeros of the other blocks too.
 * - LSH (`lsh` with b buckets): queries attend only to the keys of their bucket
 *   (`bucketPairs`), and `hashing` is `(c + a) · dKey · b / 2` per head, because the append
 *   hashes every cached key again. A full pass over n tokens hashes n keys and counts the
 *   expected `n + n(n − 1) / (2b)` pairs per head and layer. The keys are the queries scaled
 *   to unit length: SASRec computes that projection twice (once as its key projection), and
 *   HSTU skips its key projection.
 *
 * Every variant then scores the last output against the catalogue: `itemCount · d`.
 *
 * @see DeepSeek-AI, "DeepSeek-V2", 2024, arXiv:2405.04434 (MLA); Zhang et al., "Long Context
 *   Compression with Activation Beacon", 2024, arXiv:2401.03462; Wang et al., "Linformer", 2020,
 *   arXiv:2006.04768; Kitaev et al., "Reformer", ICLR 2020, arXiv:2001.04451 (LSH attention).
 * @param kind - `sasrec` (with a feed-forward network of `2d²` per token and layer) or `hstu`
 *   (fused U, V, Q, K projection, no feed-forward network).
 * @param config - the model's configuration; see {@link VariantMacsConfig}.
 * @param request - the user's cache and request; see {@link VariantRequest}.
 * @throws RangeError when the kind is unknown, a dimension is not a positive integer or a count
 *   of the request is out of its range.
 * @example
 * // SASRec L = 2, d = 50, 1 head, r = 16, one request token after 199 cached rows:
 * // projections 2 · (2,500 + 800 + 2,500) = 11,600, latentUpProjection 2 · 16 · 100 = 3,200,
 * // scores and weighted sums 2 · 200 · 16 = 6,400 each, FFN 2 · 5,000 = 10,000, scoring 185,300.
 * variantRequestMacs('sasrec', { layers: 2, hiddenSize: 50, heads: 1, itemCount: 3706, kvLatentSize: 16 }, { seenTokens: 199, cachedRows: 199, requestLength: 1 }).withCache; // 222,900
 */
export function variantRequestMacs(kind: AttentionKind, config: VariantMacsConfig, request: VariantRequest): VariantRequestMacs {
  const where = 'variantRequestMacs';

  // Validate the arguments.
  const dims = resolveDimensions(where, kind, config);
  const { seenTokens, cachedRows, requestLength } = request;
  requireCount(where, 'request.seenTokens', seenTokens, 0, Number.MAX_SAFE_INTEGER);
  requireCount(where, 'request.cachedRows', cachedRows, 0, seenTokens);
  requireCount(where, 'request.requestLength', requestLength, 1, Number.MAX_SAFE_INTEGER);

  // Count the request with the cache and the full pass without it, each with the same scoring.
  const scoring = { ...zeroTerms(), outputScoring: dims.itemCount * dims.d };
  const withCacheBreakdown = addTerms(cachedRequest(where, dims, request), scoring);
  const withoutCacheBreakdown = addTerms(fullForward(dims, seenTokens + requestLength), scoring);
  return { withCache: sumTerms(withCacheBreakdown), withoutCache: sumTerms(withoutCacheBreakdown), withCacheBreakdown, withoutCacheBreakdown };
}

/**
 * Measures the LSH bucket pairs of a request from the cache that `append` returned. Per layer
 * and head it hashes every key as the append did. For each of the last `requestLength` rows it
 * then counts the keys up to and including that row that share its bucket. The sum is the
 * `bucketPairs` of {@link VariantRequest}.
 *
 * @param kind - `sasrec` (keys of width `hiddenSize / heads`) or `hstu` (keys of width `queryKeySize`).
 * @param config - the model's configuration; `lsh` must be set.
 * @param grown - the cache after the append: the rows before the append, then one row per request token.
 * @throws RangeError when `config.lsh` is absent or `requestLength` exceeds the rows of a head.
 */
export function lshBucketPairs(kind: AttentionKind, config: VariantMacsConfig, grown: KVCache, requestLength: number): number {
  const where = 'lshBucketPairs';
  const lsh = config.lsh;
  if (lsh === undefined) {
    throw new RangeError(invalidArgument(where, 'config.lsh', 'an LSH configuration { buckets, seed }', 'undefined'));
  }
  const dims = resolveDimensions(where, kind, config);
  const rotations = createRotations(lsh, dims.layers, dims.heads, dims.dKey);

  // Hash each head's keys, then count the same-bucket keys of each request row up to itself.
  let pairs = 0;
  grown.layers.forEach((layer, l) => {
    layer.heads.forEach((head, h) => {
      const rows = head.keys.rows;
      requireCount(where, 'requestLength', requestLength, 1, rows);
      const ids = hashBuckets(head.keys.decode(), rows, head.keys.cols, 0, head.keys.cols, rotations[l][h], lsh.buckets); // [rows]
      for (let query = rows - requestLength; query < rows; query++) {
        for (let key = 0; key <= query; key++) {
          pairs += ids[key] === ids[query] ? 1 : 0;
        }
      }
    });
  });
  return pairs;
}

/** Returns the rows at positions at or after `chunkStart` in the fullest head, for {@link VariantRequest.chunkRows}. */
export function cachedChunkRows(cache: KVCache, chunkSize: number): number {
  const chunkStart = cache.seenTokens - (cache.seenTokens % chunkSize);
  let maxRows = 0;
  for (const layer of cache.layers) {
    for (const head of layer.heads) {
      maxRows = Math.max(maxRows, headPositions(head).filter((position) => position >= chunkStart).length);
    }
  }
  return maxRows;
}

/** Counts the append of a request against the cache, with the condensation of every chunk it completes. */
function cachedRequest(where: string, dims: Dimensions, request: VariantRequest): Record<VariantMacTerm, number> {
  const condensing = dims.beacon !== null || dims.linformer !== null;
  if (!condensing) {
    const { cachedRows: c, requestLength: a } = request;
    return appendTerms(dims, c, a, request.bucketPairs);
  }

  // Walk the request chunk by chunk as `append` does.
  const chunkSize = dims.beacon !== null ? dims.beacon.chunkSize : (dims.linformer as LinformerConfig).blockSize;
  const rowsPerChunk = dims.beacon !== null ? dims.beacon.beaconsPerChunk : (dims.linformer as LinformerConfig).projectedRows;
  const defaultChunkRows = Math.min(request.cachedRows, request.seenTokens % chunkSize);
  let chunkRows = request.chunkRows ?? defaultChunkRows;
  requireCount(where, 'request.chunkRows', chunkRows, 0, defaultChunkRows);
  let rows = request.cachedRows;
  let seen = request.seenTokens;
  let left = request.requestLength;
  let total = zeroTerms();
  while (left > 0) {
    // Append the chunk's share of the request as raw rows.
    const take = Math.min(left, chunkSize - (seen % chunkSize));
    total = addTerms(total, appendTerms(dims, rows, take, undefined));
    rows += take;
    chunkRows += take;
    seen += take;
    left -= take;
    if (seen % chunkSize !== 0) {
      continue;
    }

    // Condense the completed chunk: a beacon pass against the rows, or the block projection.
    const condensation = dims.beacon !== null ? sumTerms(appendTerms(dims, rows, rowsPerChunk, undefined)) : dims.layers * cacheHeads(dims) * rowsPerChunk * chunkRows * (dims.dKey + dims.dValue);
    total = addTerms(total, { ...zeroTerms(), condensation });
    rows += rowsPerChunk - chunkRows;
    chunkRows = 0;
  }
  return total;
}

/**
 * Counts `a` tokens through every layer against `c` cached rows, each attending causally to the
 * new tokens before it. LSH restricts the pairs to `bucketPairs` (expected when undefined).
 */
function appendTerms(dims: Dimensions, c: number, a: number, bucketPairs: number | undefined): Record<VariantMacTerm, number> {
  const { layers, heads, dKey, dValue } = dims;
  let pairs = layers * heads * (a * c + (a * (a + 1)) / 2); // over layers and query heads
  let hashing = 0;
  if (dims.lsh !== null) {
    const buckets = dims.lsh.buckets;
    let expected = 0;
    for (let i = 1; i <= a; i++) {
      expected += 1 + (c + i - 1) / buckets;
    }
    pairs = bucketPairs ?? layers * heads * expected;
    hashing = layers * heads * (c + a) * dKey * (buckets / 2);
  }
  if (absorbsLatent(dims)) {
    // Scores and weighted sums over latents of width r; each query head folds W_k and W_v in.
    const r = dims.latent as number;
    return {
      ...zeroTerms(),
      projections: layers * a * projectionsPerToken(dims),
      latentUpProjection: layers * a * heads * r * (dKey + dValue),
      attentionScores: pairs * r,
      attentionValues: pairs * r,
      ffn: layers * a * ffnPerToken(dims),
    };
  }
  const latentUpProjection = dims.latent === null ? 0 : layers * (c + 2 * a) * upProjectionPerRow(dims);
  return {
    ...zeroTerms(),
    projections: layers * a * projectionsPerToken(dims),
    latentUpProjection,
    attentionScores: pairs * dKey,
    attentionValues: pairs * dValue,
    ffn: layers * a * ffnPerToken(dims),
    hashing,
  };
}

/** Counts one forward pass without a cache over `n` items, as `forwardLast` runs it. */
function fullForward(dims: Dimensions, n: number): Record<VariantMacTerm, number> {
  const { layers, heads, dKey, dValue } = dims;
  let tokens = n;
  let pairs = (n * (n + 1)) / 2; // per layer and query head
  let condensation = 0;
  let hashing = 0;
  if (dims.beacon !== null) {
    // Items and the beacons of every complete chunk, under the beacon mask.
    const { chunkSize, beaconsPerChunk } = dims.beacon;
    const chunks = Math.floor(n / chunkSize);
    tokens = n + chunks * beaconsPerChunk;
    pairs = 0;
    for (let p = 0; p < n; p++) {
      pairs += beaconsPerChunk * Math.floor(p / chunkSize) + (p % chunkSize) + 1;
    }
    for (let chunk = 0; chunk < chunks; chunk++) {
      pairs += beaconsPerChunk * (beaconsPerChunk * chunk + chunkSize) + (beaconsPerChunk * (beaconsPerChunk + 1)) / 2;
    }
  } else if (dims.linformer !== null) {
    // Each query attends to the projected rows of earlier complete blocks and to its block's raw tokens.
    const { blockSize, projectedRows } = dims.linformer;
    const blocks = Math.floor(n / blockSize);
    pairs = 0;
    for (let p = 0; p < n; p++) {
      pairs += Math.min(Math.floor(p / blockSize), blocks) * projectedRows + (p % blockSize) + 1;
    }
    condensation = layers * blocks * heads * projectedRows * blockSize * (dKey + dValue);
  } else if (dims.lsh !== null) {
    pairs = n + (n * (n - 1)) / (2 * dims.lsh.buckets);
    hashing = layers * heads * n * dKey * (dims.lsh.buckets / 2);
  }
  return {
    ...zeroTerms(),
    projections: layers * tokens * projectionsPerToken(dims),
    latentUpProjection: dims.latent === null ? 0 : layers * tokens * upProjectionPerRow(dims),
    attentionScores: layers * heads * pairs * dKey,
    attentionValues: layers * heads * pairs * dValue,
    ffn: layers * tokens * ffnPerToken(dims),
    condensation,
    hashing,
  };
}

/**
 * MACs of one token's projections in one layer, the latent's up projection excluded. SASRec:
 * Q `d · heads · dKey`, K and V `d · kvHeads · (dKey + dValue)` (or the latent `d · r`), O
 * `heads · dValue · d`. HSTU: U and Q `d · heads · (dValue + dKey)`, V and K
 * `d · kvHeads · (dKey + dValue)` (or the latent `d · r`), O `heads · dValue · d`. With LSH the
 * keys are the queries scaled to unit length (shared QK). SASRec computes that query
 * projection a second time for the keys, which costs as much as a key projection, and HSTU
 * reuses its queries, so it skips the key projection.
 */
function projectionsPerToken(dims: Dimensions): number {
  const { d, heads, kvHeads, dKey, dValue } = dims;
  const query = dims.kind === 'hstu' ? d * heads * (dValue + dKey) : d * heads * dKey;
  let keyValue = d * kvHeads * (dKey + dValue);
  if (dims.latent !== null) {
    keyValue = d * dims.latent;
  } else if (dims.lsh !== null && dims.kind === 'hstu') {
    keyValue = d * kvHeads * dValue;
  }
  return query + keyValue + heads * dValue * d;
}

/** Returns whether `append` attends in latent space: SASRec with MLA and without LSH. HSTU's SiLU after the up projection rules it out. */
function absorbsLatent(dims: Dimensions): boolean {
  return dims.kind === 'sasrec' && dims.latent !== null && dims.lsh === null;
}

/** MACs of projecting one MLA latent up to the keys and values of every key/value head. */
function upProjectionPerRow(dims: Dimensions): number {
  return (dims.latent as number) * dims.kvHeads * (dims.dKey + dims.dValue);
}

/** MACs of SASRec's point-wise feed-forward network per token and layer; HSTU has none. */
function ffnPerToken(dims: Dimensions): number {
  return dims.kind === 'sasrec' ? 2 * dims.d * dims.d : 0;
}

/** Cache heads per layer: one for MLA, else `kvHeads`. */
function cacheHeads(dims: Dimensions): number {
  return dims.latent === null ? dims.kvHeads : 1;
}

/** Fills in the defaults of a configuration and checks every field that the count reads. */
function resolveDimensions(where: string, kind: AttentionKind, config: VariantMacsConfig): Dimensions {
  if (kind !== 'sasrec' && kind !== 'hstu') {
    throw new RangeError(invalidArgument(where, 'kind', "'sasrec' or 'hstu'", `'${String(kind)}'`));
  }

  // Check the dimensions and fill in the head widths.
  for (const field of ['layers', 'hiddenSize', 'heads', 'itemCount'] as const) {
    requireCount(where, `config.${field}`, config[field], 1, Number.MAX_SAFE_INTEGER);
  }
  const kvHeads = config.kvHeads ?? config.heads;
  requireCount(where, 'config.kvHeads', kvHeads, 1, config.heads);
  const headWidth = config.hiddenSize / config.heads;
  const dKey = kind === 'hstu' ? config.queryKeySize : headWidth;
  const dValue = kind === 'hstu' ? config.valueSize : headWidth;
  requireCount(where, kind === 'hstu' ? 'config.queryKeySize' : 'config.hiddenSize / config.heads', dKey, 1, Number.MAX_SAFE_INTEGER);
  requireCount(where, kind === 'hstu' ? 'config.valueSize' : 'config.hiddenSize / config.heads', dValue, 1, Number.MAX_SAFE_INTEGER);

  // Check the variant fields that are set.
  if (config.kvLatentSize !== undefined) {
    requireCount(where, 'config.kvLatentSize', config.kvLatentSize, 1, Number.MAX_SAFE_INTEGER);
  }
  if (config.beacon !== undefined) {
    requireCount(where, 'config.beacon.chunkSize', config.beacon.chunkSize, 1, Number.MAX_SAFE_INTEGER);
    requireCount(where, 'config.beacon.beaconsPerChunk', config.beacon.beaconsPerChunk, 1, config.beacon.chunkSize);
  }
  if (config.linformer !== undefined) {
    requireCount(where, 'config.linformer.blockSize', config.linformer.blockSize, 1, Number.MAX_SAFE_INTEGER);
    requireCount(where, 'config.linformer.projectedRows', config.linformer.projectedRows, 1, config.linformer.blockSize);
  }
  if (config.lsh !== undefined) {
    requireCount(where, 'config.lsh.buckets', config.lsh.buckets, 2, Number.MAX_SAFE_INTEGER);
  }
  return {
    kind,
    layers: config.layers,
    d: config.hiddenSize,
    heads: config.heads,
    kvHeads,
    dKey: dKey as number,
    dValue: dValue as number,
    latent: config.kvLatentSize ?? null,
    itemCount: config.itemCount,
    beacon: config.beacon ?? null,
    linformer: config.linformer ?? null,
    lsh: config.lsh ?? null,
  };
}

/** Throws a RangeError unless `value` is an integer in `[min, max]`. */
function requireCount(where: string, name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new RangeError(invalidArgument(where, name, range, String(value)));
  }
}

function zeroTerms(): Record<VariantMacTerm, number> {
  return { projections: 0, latentUpProjection: 0, attentionScores: 0, attentionValues: 0, ffn: 0, hashing: 0, condensation: 0, outputScoring: 0 };
}

function addTerms(a: Record<VariantMacTerm, number>, b: Record<VariantMacTerm, number>): Record<VariantMacTerm, number> {
  const out = zeroTerms();
  for (const term of Object.keys(out) as VariantMacTerm[]) {
    out[term] = a[term] + b[term];
  }
  return out;
}

function sumTerms(terms: Record<VariantMacTerm, number>): number {
  return Object.values(terms).reduce((sum, value) => sum + value, 0);
}
