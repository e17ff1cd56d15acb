import type { KVCache } from '../kv-cache';
import { formatValue, invalidArgument, notCalibrated } from '../messages';
import { SharedBasisStorage } from '../storage/shared-basis-storage';
import type { TensorStorage } from '../storage/tensor-storage';
import type { CalibrationSummary, CompressionContext, CompressionStrategy, StrategyParams } from '../strategy';
import { checkCompressionRatio, checkInteger } from '../validation';
import { joinParts, splitFloat32Tail, withStorages } from './precision-parts';
import { symmetricEigen } from './svd';

/** Options of {@link SharedBasisStrategy}. Give at most one of `rank` and `compressionRatio`. */
export interface SharedBasisOptions {
  /**
   * Rank of the basis of every key and value block (capped at the block's width). Without
   * `rank` and `compressionRatio`, each block gets `max(1, ⌊dHead / 4⌋)`.
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

/** The basis of one KV head: the top principal directions of its keys and of its values. */
export interface HeadBasis {
  /** `[keyRank, dKey]` row-major, orthonormal rows. */
  readonly keys: Float32Array;
  readonly keyRank: number;
  /** `[valueRank, dValue]` row-major, orthonormal rows. */
  readonly values: Float32Array;
  readonly valueRank: number;
}

/**
 * Shared low-rank basis (CollectiveKV-like): keeps every token, with each head's keys and
 * values stored as coefficients on a basis that all users share.
 *
 * The keys (and values) of different users vary along largely the same directions, so a
 * basis fitted once on training users serves every user, and a user stores only `rank`
 * numbers per token and block instead of `dHead`. Calibration sums, per layer, KV head and
 * block, the second-moment matrix `Σ XᵀX` `[dHead, dHead]` (in float64) over the calibration
 * caches and keeps its `rank` eigenvectors of largest eigenvalue (cyclic Jacobi, ties to the
 * lower index, each vector's largest component positive). A user's block is stored as
 * `C = X Bᵀ` `[len, rank]`, decoded as `C · B`, the projection of `X` onto the basis. A
 * block whose rank is not smaller than its width stays float32. Token metadata is kept.
 * Only the float32 rows at the end of a block are projected, so rows appended later stay
 * float32 until the next call.
 *
 * Bytes: per user `4 · len · rank` per block (see `sharedBasisStorageBytes`), plus the
 * metadata. The basis takes `4 · rank · dHead` per block once for all users and is reported
 * by `calibrate` and {@link SharedBasisStrategy.sharedBytes}, never in a user's cache bytes.
 *
 * Deviation from paper: CollectiveKV learns a global KV pool during training and adds a
 * small user-specific part. Here the shared part is a training-free principal basis fitted
 * on training users' caches, and the user-specific part is the coefficients. The matrix is
 * not centred, so calibrating on one user gives that user's truncated SVD.
 *
 * @see Li, Du, Zhu, Li, Zhang, Wu, Li, Dai, "CollectiveKV: Decoupling and Sharing
 * Collaborative Information in Sequential Recommendation", ICLR 2026, arXiv 2601.19178.
 * @param options - {@link SharedBasisOptions}; at most one of `rank` and `compressionRatio`.
 * @throws RangeError when both options are given, `rank` is not an integer ≥ 1, or the ratio
 * is outside [0, 1).
 * @throws Error from `compress` before `calibrate`, and RangeError when the cache's layout
 * differs from the calibration caches'.
 * @example
 * const shared = new SharedBasisStrategy({ rank: 8 });
 * shared.calibrate(trainingCaches, { stats: null, logger: silentLogger });
 * const compressed = shared.compress(cache, { stats: null, logger: silentLogger });
 */
export class SharedBasisStrategy implements CompressionStrategy {
  readonly id = 'shared-basis';
  readonly params: StrategyParams;
  /** Fixed rank, or `null` when the rank follows from the width. */
  readonly rank: number | null;
  /** Fraction of the rank removed, or `null` when not given. */
  readonly compressionRatio: number | null;
  private basis: HeadBasis[][] | null = null;

  constructor(options: SharedBasisOptions = {}) {
    if (options.rank !== undefined && options.compressionRatio !== undefined) {
      throw new RangeError(invalidArgument('SharedBasisStrategy', 'options', 'at most one of rank and compressionRatio', `rank ${options.rank} and compressionRatio ${options.compressionRatio}`));
    }
    this.rank = options.rank === undefined ? null : checkInteger('SharedBasisStrategy', 'rank', options.rank, 1);
    this.compressionRatio = options.compressionRatio === undefined ? null : checkCompressionRatio('SharedBasisStrategy', options.compressionRatio);
    this.params = {
      ...(this.rank === null ? {} : { rank: this.rank }),
      ...(this.compressionRatio === null ? {} : { compressionRatio: this.compressionRatio }),
    };
  }

  /** Rank for a block of width `width`, capped at the width. */
  rankFor(width: number): number {
    let rank = Math.max(1, Math.floor(width / 4));
    if (this.rank !== null) {
      rank = this.rank;
    } else if (this.compressionRatio !== null) {
      rank = Math.max(1, Math.round(width * (1 - this.compressionRatio)));
    }
    return Math.min(rank, width);
  }

  /** The fitted basis per layer and KV head, or `null` before calibration. */
  get heads(): readonly (readonly HeadBasis[])[] | null {
    return this.basis;
  }

  /** Bytes of the shared basis, stored once for all users: `4 · rank · dHead` per block, or 0 before calibration. */
  get sharedBytes(): number {
    let total = 0;
    for (const layer of this.basis ?? []) {
      for (const head of layer) {
        total += head.keys.byteLength + head.values.byteLength;
      }
    }
    return total;
  }

  /**
   * Fits the basis of every layer, KV head and block on the calibration caches.
   *
   * @param caches - caches of one model (same layers, KV heads and widths), at least one.
   * @throws RangeError when the list is empty or the caches' layouts differ.
   */
  calibrate(caches: readonly KVCache[], _context?: CompressionContext): CalibrationSummary {
    const where = 'SharedBasisStrategy.calibrate';
    if (caches.length === 0) {
      throw new RangeError(invalidArgument(where, 'caches', 'at least one cache', 'an empty list'));
    }
    const first = caches[0];
    caches.forEach((cache, c) => checkLayout(where, `caches[${c}]`, cache, first));

    // One basis per layer, head and block, from the sum of XᵀX over the caches.
    this.basis = first.layers.map((layer, l) =>
      layer.heads.map((head, h) => {
        const dKey = head.keys.cols;
        const dValue = head.values.cols;
        const keyRank = this.rankFor(dKey);
        const valueRank = this.rankFor(dValue);
        const keys = fitSharedBasis(caches.map((cache) => cache.layers[l].heads[h].keys), dKey, keyRank);
        const values = fitSharedBasis(caches.map((cache) => cache.layers[l].heads[h].values), dValue, valueRank);
        return { keys, keyRank, values, valueRank };
      }),
    );
    return { users: caches.length, sharedBytes: this.sharedBytes };
  }

  /** Projects the float32 rows of every head's keys and values onto the shared basis. */
  compress(cache: KVCache, _context?: CompressionContext): KVCache {
    const where = 'SharedBasisStrategy.compress';
    if (this.basis === null) {
      throw new Error(notCalibrated(where, this.id));
    }
    if (this.compressionRatio === 0) {
      return cache;
    }
    const basis = this.basis;
    checkBasisLayout(where, cache, basis);
    const layers = cache.layers.map((layer, l) => ({
      heads: layer.heads.map((head, h) => {
        const headBasis = basis[l][h];
        return withStorages(head, projectTail(head.keys, headBasis.keys, headBasis.keyRank), projectTail(head.values, headBasis.values, headBasis.valueRank));
      }),
    }));
    return { layers, seenTokens: cache.seenTokens, itemIds: cache.itemIds };
  }
}

/**
 * Fits a basis shared by several blocks: the top `rank` eigenvectors of `Σ XᵀX` over the
 * blocks (not centred), with ties to the lower index and each vector's largest component
 * positive.
 *
 * @param blocks - storages of width `cols`; each is decoded to float32.
 * @param rank - an integer in [1, cols].
 * @returns `[rank, cols]` row-major, orthonormal rows.
 * @throws RangeError when a block has another width or the rank is out of range.
 * @example
 * const basis = fitSharedBasis(caches.map((cache) => cache.layers[0].heads[0].keys), 64, 16); // [16, 64]
 */
export function fitSharedBasis(blocks: readonly TensorStorage[], cols: number, rank: number): Float32Array {
  checkInteger('fitSharedBasis', 'rank', rank, 1, cols);

  // Second-moment matrix Σ XᵀX in float64, upper triangle, then mirrored.
  const moment = new Float64Array(cols * cols); // [cols, cols]
  blocks.forEach((block, b) => {
    if (block.cols !== cols) {
      throw new RangeError(invalidArgument('fitSharedBasis', `blocks[${b}]`, `${cols} columns`, formatValue(block.cols)));
    }
    const data = block.decode(); // [rows, cols]
    for (let i = 0; i < block.rows; i++) {
      for (let a = 0; a < cols; a++) {
        const x = data[i * cols + a];
        for (let c = a; c < cols; c++) {
          moment[a * cols + c] += x * data[i * cols + c];
        }
      }
    }
  });
  for (let a = 0; a < cols; a++) {
    for (let c = 0; c < a; c++) {
      moment[a * cols + c] = moment[c * cols + a];
    }
  }

  // Top eigenvectors, as rows of the basis.
  const { vectors } = symmetricEigen(moment, cols);
  const basis = new Float32Array(rank * cols); // [rank, cols]
  for (let k = 0; k < rank; k++) {
    for (let c = 0; c < cols; c++) {
      basis[k * cols + c] = vectors[c * cols + k];
    }
  }
  return basis;
}

/** Projects the float32 rows at the end of a storage onto a basis; keeps float32 when the rank is the full width. */
function projectTail(storage: TensorStorage, basis: Float32Array, rank: number): TensorStorage {
  const { prefix, tail, tailRows, cols } = splitFloat32Tail(storage);
  if (tailRows === 0 || rank >= cols) {
    return storage;
  }

  // Coefficients C = X Bᵀ, accumulated in float64.
  const coefficients = new Float32Array(tailRows * rank); // [tailRows, rank]
  for (let i = 0; i < tailRows; i++) {
    for (let k = 0; k < rank; k++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        sum += tail[i * cols + c] * basis[k * cols + c];
      }
      coefficients[i * rank + k] = sum;
    }
  }
  return joinParts([...prefix, new SharedBasisStorage(coefficients, basis, tailRows, cols, rank)], cols);
}

/** Checks that a cache has the layers, KV heads and widths of a reference cache. */
function checkLayout(where: string, name: string, cache: KVCache, reference: KVCache): void {
  const shape = (value: KVCache): string => JSON.stringify(value.layers.map((layer) => layer.heads.map((head) => [head.keys.cols, head.values.cols])));
  if (shape(cache) !== shape(reference)) {
    throw new RangeError(invalidArgument(where, name, `the layout of caches[0] (per layer and head [dKey, dValue]: ${shape(reference)})`, shape(cache)));
  }
}

/** Checks that a cache matches the layers, KV heads and widths of the fitted basis. */
function checkBasisLayout(where: string, cache: KVCache, basis: readonly (readonly HeadBasis[])[]): void {
  if (cache.layers.length !== basis.length) {
    throw new RangeError(invalidArgument(where, 'cache', `${basis.length} layers, as in calibration`, formatValue(cache.layers.length)));
  }
  cache.layers.forEach((layer, l) => {
    if (layer.heads.length !== basis[l].length) {
      throw new RangeError(invalidArgument(where, `cache.layers[${l}]`, `${basis[l].length} KV heads, as in calibration`, formatValue(layer.heads.length)));
    }
    layer.heads.forEach((head, h) => {
      const headBasis = basis[l][h];
      const dKey = headBasis.keys.length / headBasis.keyRank;
      const dValue = headBasis.values.length / headBasis.valueRank;
      if (head.keys.cols !== dKey || head.values.cols !== dValue) {
        throw new RangeError(invalidArgument(where, `cache.layers[${l}].heads[${h}]`, `key and value widths [${dKey}, ${dValue}], as in calibration`, `[${head.keys.cols}, ${head.values.cols}]`));
      }
    });
  });
}
