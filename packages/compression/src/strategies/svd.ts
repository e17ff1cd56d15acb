import type { KVCache } from '../kv-cache';
import { invalidArgument } from '../messages';
import { LowRankStorage, lowRankStorageBytes } from '../storage/low-rank-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { checkCompressionRatio, checkInteger } from '../validation';
import { joinParts, splitFloat32Tail, withStorages } from './precision-parts';

/** Options of {@link SvdStrategy}; give at most one of `rank` and `compressionRatio`. */
export interface SvdOptions {
  /**
   * Rank of the factors of every key and value block (capped at the block's rows and width).
   * Without `rank` and `compressionRatio`, each block gets `max(1, ⌊dHead / 4⌋)`.
   * @minimum 1
   */
  rank?: number;
  /**
   * Fraction of the rank removed: a block of width `dHead` gets rank
   * `max(1, round(dHead · (1 − r)))`. Ratio 0 returns the input unchanged.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio?: number;
}

/** Truncated factors of a block: `data ≈ left · right`. */
export interface TruncatedSvd {
  /** `U_r Σ_r`, `[rows, rank]` row-major. */
  readonly left: Float32Array;
  /** `V_rᵀ`, `[rank, cols]` row-major, orthonormal rows. */
  readonly right: Float32Array;
  /** Singular values, `[rank]`, descending. */
  readonly singularValues: Float64Array;
}

/**
 * Truncated SVD: keeps every token, with the keys and the values of each head stored as two
 * rank-`r` float32 factors.
 *
 * The keys (and values) of one history often vary along a few directions only, so the best
 * rank-`r` approximation (Eckart–Young) keeps most of their content in `r · (len + dHead)`
 * numbers instead of `len · dHead`. Per head and block (keys, then values), the strategy
 * computes the Gram matrix `XᵀX` `[dHead, dHead]` in float64 and its eigenvectors by cyclic
 * Jacobi rotations, which need no random start. It keeps the `r` eigenvectors of largest
 * eigenvalue, with ties to the lower index and each vector's largest component made
 * positive. It stores `A = X V_r` and `B = V_rᵀ`, so that `A · B` is the projection of `X`
 * onto the top `r` right singular vectors. A block whose factors would take at least as many bytes as its
 * float32 rows stays in float32, so the strategy never grows the cache. Token metadata is
 * kept. Only the float32 rows at the end of a block are factored, so rows appended later stay
 * float32 until the next call, which factors them as their own block.
 *
 * Budget rule: the rank is `rank` when given. Otherwise a `compressionRatio` r, which the
 * runner passes to every method that is not a precision or reference method, gives
 * `max(1, round(dHead · (1 − r)))`. Without either, the rank is `max(1, ⌊dHead / 4⌋)`. The
 * rank is then capped at
 * `min(rows, dHead)`. The ratio removes rank, not tokens, so the byte ratio is
 * `len · dHead / (rank · (len + dHead))`, not `1 / (1 − r)`.
 *
 * @see Sun, Chang, Bao, Zheng, Zheng, Liu, Dong, Chi, Chen, "ShadowKV: KV Cache in Shadows
 * for High-Throughput Long-Context LLM Inference", arXiv 2410.21465, 2024 (a low-rank key
 * cache from a per-sequence SVD).
 * Deviation from paper: ShadowKV factors only the pre-RoPE keys and offloads the values to
 * CPU memory. Here both keys and values are factored, because a recommender's cache has no
 * CPU tier and SASRec's keys carry no rotary embedding.
 * @param options - {@link SvdOptions}; at most one of `rank` and `compressionRatio`.
 * @throws RangeError when both options are given, `rank` is not an integer ≥ 1, or the
 * ratio is outside [0, 1).
 * @example
 * const svd = new SvdStrategy({ rank: 8 });
 * const compressed = svd.compress(cache, { stats: null, logger: silentLogger });
 */
export class SvdStrategy implements CompressionStrategy {
  readonly id = 'svd';
  readonly params: StrategyParams;
  /** Fixed rank, or `null` when the rank follows from the width. */
  readonly rank: number | null;
  /** Fraction of the rank removed, or `null` when not given. */
  readonly compressionRatio: number | null;

  constructor(options: SvdOptions = {}) {
    if (options.rank !== undefined && options.compressionRatio !== undefined) {
      throw new RangeError(invalidArgument('SvdStrategy', 'options', 'at most one of rank and compressionRatio', `rank ${options.rank} and compressionRatio ${options.compressionRatio}`));
    }
    this.rank = options.rank === undefined ? null : checkInteger('SvdStrategy', 'rank', options.rank, 1);
    this.compressionRatio = options.compressionRatio === undefined ? null : checkCompressionRatio('SvdStrategy', options.compressionRatio);
    this.params = {
      ...(this.rank === null ? {} : { rank: this.rank }),
      ...(this.compressionRatio === null ? {} : { compressionRatio: this.compressionRatio }),
    };
  }

  /** Rank for a block of width `width` before the cap at its rows (see the budget rule). */
  rankFor(width: number): number {
    if (this.rank !== null) {
      return this.rank;
    }
    if (this.compressionRatio !== null) {
      return Math.max(1, Math.round(width * (1 - this.compressionRatio)));
    }
    return Math.max(1, Math.floor(width / 4));
  }

  /** Factors the float32 rows of every head's keys and values. */
  compress(cache: KVCache, _context?: CompressionContext): KVCache {
    if (this.compressionRatio === 0) {
      return cache;
    }
    const layers = cache.layers.map((layer) => ({
      heads: layer.heads.map((head) => withStorages(head, this.factorTail(head.keys), this.factorTail(head.values))),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }

  private factorTail(storage: TensorStorage): TensorStorage {
    const { prefix, tail, tailRows, cols } = splitFloat32Tail(storage);
    const rank = Math.min(this.rankFor(cols), tailRows, cols);
    if (tailRows === 0 || lowRankStorageBytes(tailRows, cols, rank) >= 4 * tailRows * cols) {
      return storage;
    }
    const { left, right } = truncatedSvd(tail, tailRows, cols, rank);
    return joinParts([...prefix, new LowRankStorage(left, right, tailRows, cols, rank)], cols);
  }
}

/**
 * Computes the rank-`rank` truncated SVD of a block from the eigen-decomposition of its Gram
 * matrix; deterministic.
 *
 * @param data - `[rows, cols]` row-major.
 * @param rank - an integer in `[1, min(rows, cols)]`.
 * @throws RangeError when `rank` is outside that range or `data` does not match the shape.
 * @example
 * const { left, right } = truncatedSvd(keys, 200, 64, 16); // left [200, 16], right [16, 64]
 */
export function truncatedSvd(data: Float32Array, rows: number, cols: number, rank: number): TruncatedSvd {
  if (data.length !== rows * cols) {
    throw new RangeError(invalidArgument('truncatedSvd', 'data', `${rows} · ${cols} numbers`, String(data.length)));
  }
  checkInteger('truncatedSvd', 'rank', rank, 1, Math.min(rows, cols));

  // Gram matrix XᵀX in float64.
  const gram = new Float64Array(cols * cols); // [cols, cols]
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < cols; a++) {
      const x = data[i * cols + a];
      for (let b = a; b < cols; b++) {
        gram[a * cols + b] += x * data[i * cols + b];
      }
    }
  }
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < a; b++) {
      gram[a * cols + b] = gram[b * cols + a];
    }
  }

  // Top eigenvectors of the Gram matrix are the top right singular vectors.
  const { values, vectors } = symmetricEigen(gram, cols);
  const right = new Float32Array(rank * cols); // [rank, cols]
  const singularValues = new Float64Array(rank); // [rank]
  for (let k = 0; k < rank; k++) {
    singularValues[k] = Math.sqrt(Math.max(0, values[k]));
    for (let c = 0; c < cols; c++) {
      right[k * cols + c] = vectors[c * cols + k];
    }
  }

  // Left factor A = X V_r, accumulated in float64.
  const left = new Float32Array(rows * rank); // [rows, rank]
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < rank; k++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        sum += data[i * cols + c] * vectors[c * cols + k];
      }
      left[i * rank + k] = sum;
    }
  }
  return { left, right, singularValues };
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations, until the
 * off-diagonal mass is below 1e-24 of the total or after 100 sweeps.
 *
 * @param matrix - `[n, n]` row-major, symmetric; not modified.
 * @returns eigenvalues `[n]` descending (ties to the lower original index), and eigenvectors
 * as the columns of `[n, n]` row-major, each with its largest-magnitude component positive.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix); // [n, n]
  const v = new Float64Array(n * n); // [n, n]
  for (let i = 0; i < n; i++) {
    v[i * n + i] = 1;
  }

  // Sweep over every off-diagonal pair, zeroing it with a rotation.
  let total = 0;
  for (const x of a) {
    total += x * x;
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        off += 2 * a[p * n + q] * a[p * n + q];
      }
    }
    if (off <= 1e-24 * total || off === 0) {
      break;
    }
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        rotate(a, v, n, p, q);
      }
    }
  }

  // Sort by eigenvalue, descending, ties to the lower index; fix each vector's sign.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y] - a[x * n + x] || x - y);
  const values = Float64Array.from(order, (i) => a[i * n + i]); // [n]
  const vectors = new Float64Array(n * n); // [n, n], column k = eigenvector k
  order.forEach((source, k) => {
    let largest = 0;
    for (let r = 1; r < n; r++) {
      if (Math.abs(v[r * n + source]) > Math.abs(v[largest * n + source])) {
        largest = r;
      }
    }
    const sign = v[largest * n + source] < 0 ? -1 : 1;
    for (let r = 0; r < n; r++) {
      vectors[r * n + k] = sign * v[r * n + source];
    }
  });
  return { values, vectors };
}

/** Applies the Jacobi rotation that zeroes `a[p, q]` to `a` (both sides) and `v` (right side). */
function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q];
  if (apq === 0) {
    return;
  }
  const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p];
    const akq = a[k * n + q];
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k];
    const aqk = a[q * n + k];
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p];
    const vkq = v[k * n + q];
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}
