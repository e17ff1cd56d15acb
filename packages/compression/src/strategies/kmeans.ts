import { createSeededRandom } from '../prng';
import type { CompressionContext, StrategyParams } from '../strategy';
import { checkInteger } from '../validation';
import { MergingStrategy, type HeadLocation, type HeadTokens, type MergedEntries } from './merging-strategy';

/** Options of {@link KMeansStrategy}. */
export interface KMeansOptions {
  /**
   * Fraction of the history's tokens removed; each head keeps `max(1, ⌊len · (1 − r)⌋)` clusters.
   * @minimum 0
   * @exclusiveMaximum 1
   */
  compressionRatio: number;
  /**
   * Seed of the k-means++ initialisation, an integer in [0, 2^32 − 1].
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Lloyd iterations (assign, then update) after the initialisation.
   * @defaultValue 10
   * @minimum 1
   */
  iterations?: number;
}

/**
 * k-means: keeps one entry per cluster of keys, with the cluster's mean key, mean value and
 * size.
 *
 * Tokens whose keys lie close together receive nearly the same attention from every query,
 * so one entry with their mean key and mean value, counted `size` times, approximates their
 * joint contribution to the attention output. Per head, the keys are clustered into
 * `budget` clusters by a seeded k-means++ initialisation and a fixed number of Lloyd
 * iterations. The initialisation draws the first centre uniformly and each next centre with
 * probability proportional to the squared distance to the nearest centre so far. When every
 * remaining distance is 0 it takes the lowest unchosen row. A key joins its nearest centre (ties to the lower centre). A cluster
 * left empty takes the key farthest from its own centre among clusters with more than one
 * member (ties to the lower row), so every cluster keeps at least one member. Means are
 * weighted by the members' merge weights. An entry takes the position and timestamp of its
 * newest member, because a recommender's absolute position embedding and HSTU's relative
 * time bias are computed for one position, and the newest member is the one nearest the
 * next request. Its weight is the sum of its members' weights, so the weights of a head sum
 * to the number of history tokens. See {@link MergingStrategy} for how the model uses the
 * weights. Each head draws from its own generator, seeded with
 * `(seed + layer · 0x9E3779B1 + head · 0x85EBCA6B) mod 2^32`, so a head's clusters do not
 * depend on the other heads.
 *
 * @see Arthur, Vassilvitskii, "k-means++: The Advantages of Careful Seeding", SODA 2007
 * (no arXiv version); the clustering runs on keys alone and reads no attention.
 * @param options - {@link KMeansOptions}; `compressionRatio` is required, `seed` defaults to
 * 0 and `iterations` to 10.
 * @throws RangeError when the ratio is outside [0, 1), `seed` is not an integer in
 * [0, 2^32 − 1] or `iterations` is not an integer ≥ 1.
 * @throws TypeError from `compress` when the cache is not float32.
 * @example
 * const kmeans = new KMeansStrategy({ compressionRatio: 0.75, seed: 1 });
 * const merged = kmeans.compress(cache, { stats: null, logger: silentLogger });
 */
export class KMeansStrategy extends MergingStrategy {
  readonly id = 'kmeans';
  /** Seed of the k-means++ initialisation. */
  readonly seed: number;
  /** Lloyd iterations after the initialisation. */
  readonly iterations: number;

  constructor(options: KMeansOptions) {
    super(options.compressionRatio);
    this.seed = checkInteger('KMeansStrategy', 'seed', options.seed ?? 0, 0, 0xffffffff);
    this.iterations = checkInteger('KMeansStrategy', 'iterations', options.iterations ?? 10, 1);
  }

  override get params(): StrategyParams {
    return { compressionRatio: this.compressionRatio, seed: this.seed, iterations: this.iterations };
  }

  /** Clusters the head's keys into `budget` clusters and averages each cluster. */
  mergeHead(tokens: HeadTokens, budget: number, _context: CompressionContext, location: HeadLocation): MergedEntries {
    const random = createSeededRandom(headSeed(this.seed, location.layer, location.head));
    const assignment = clusterKeys(tokens.keys, tokens.weights, tokens.dKey, budget, this.iterations, random); // [len]
    return averageClusters(tokens, assignment, budget);
  }
}

/** Seed of one head's generator: `(seed + layer · 0x9E3779B1 + head · 0x85EBCA6B) mod 2^32`. */
function headSeed(seed: number, layer: number, head: number): number {
  return (seed + Math.imul(layer, 0x9e3779b1) + Math.imul(head, 0x85ebca6b)) >>> 0;
}

/**
 * Clusters `len` weighted rows into `k` non-empty clusters with k-means++ and Lloyd
 * iterations; deterministic for a given generator state.
 *
 * @param points - `[len, dims]` row-major.
 * @param weights - `[len]` weight of each row in the means.
 * @param k - clusters, an integer in `[1, len]`.
 * @returns `[len]` cluster of each row; every cluster in `[0, k)` has a member.
 */
export function clusterKeys(points: Float32Array, weights: Float32Array, dims: number, k: number, iterations: number, random: () => number): Int32Array {
  const len = weights.length;

  // Seed the centres with k-means++.
  const centres = new Float64Array(k * dims); // [k, dims]
  const nearest = new Float64Array(len).fill(Infinity); // [len] squared distance to the nearest centre
  const chosen = new Uint8Array(len); // [len]
  for (let c = 0; c < k; c++) {
    const row = c === 0 ? Math.min(len - 1, Math.floor(random() * len)) : drawBySquaredDistance(nearest, chosen, random);
    chosen[row] = 1;
    for (let d = 0; d < dims; d++) {
      centres[c * dims + d] = points[row * dims + d];
    }
    for (let i = 0; i < len; i++) {
      nearest[i] = Math.min(nearest[i], squaredDistance(points, i, centres, c, dims));
    }
  }

  // Lloyd iterations: assign every row, refill empty clusters, move the centres to the means.
  const assignment = new Int32Array(len); // [len]
  for (let iteration = 0; iteration < iterations; iteration++) {
    assignRows(points, centres, dims, k, assignment);
    refillEmptyClusters(points, centres, dims, k, assignment);
    updateCentres(points, weights, dims, k, assignment, centres);
  }
  return assignment;
}

function drawBySquaredDistance(nearest: Float64Array, chosen: Uint8Array, random: () => number): number {
  let total = 0;
  for (let i = 0; i < nearest.length; i++) {
    total += chosen[i] === 1 ? 0 : nearest[i];
  }
  if (total > 0) {
    const threshold = random() * total;
    let cumulative = 0;
    let last = -1;
    for (let i = 0; i < nearest.length; i++) {
      if (chosen[i] === 1 || nearest[i] === 0) {
        continue;
      }
      cumulative += nearest[i];
      last = i;
      if (cumulative > threshold) {
        return i;
      }
    }
    return last;
  }
  // Every remaining row coincides with a centre: take the lowest unchosen row.
  return chosen.indexOf(0);
}

function squaredDistance(points: Float32Array, row: number, centres: Float64Array, centre: number, dims: number): number {
  let sum = 0;
  for (let d = 0; d < dims; d++) {
    const difference = points[row * dims + d] - centres[centre * dims + d];
    sum += difference * difference;
  }
  return sum;
}

function assignRows(points: Float32Array, centres: Float64Array, dims: number, k: number, assignment: Int32Array): void {
  for (let i = 0; i < assignment.length; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < k; c++) {
      const distance = squaredDistance(points, i, centres, c, dims);
      if (distance < bestDistance) {
        best = c;
        bestDistance = distance;
      }
    }
    assignment[i] = best;
  }
}

function refillEmptyClusters(points: Float32Array, centres: Float64Array, dims: number, k: number, assignment: Int32Array): void {
  const sizes = new Int32Array(k); // [k]
  for (const cluster of assignment) {
    sizes[cluster] += 1;
  }
  for (let c = 0; c < k; c++) {
    if (sizes[c] > 0) {
      continue;
    }
    // Move the row farthest from its own centre, among clusters that can spare one.
    let farthest = -1;
    let farthestDistance = -1;
    for (let i = 0; i < assignment.length; i++) {
      if (sizes[assignment[i]] < 2) {
        continue;
      }
      const distance = squaredDistance(points, i, centres, assignment[i], dims);
      if (distance > farthestDistance) {
        farthest = i;
        farthestDistance = distance;
      }
    }
    sizes[assignment[farthest]] -= 1;
    assignment[farthest] = c;
    sizes[c] = 1;
  }
}

function updateCentres(points: Float32Array, weights: Float32Array, dims: number, k: number, assignment: Int32Array, centres: Float64Array): void {
  const totals = new Float64Array(k); // [k]
  const sums = new Float64Array(k * dims); // [k, dims]
  for (let i = 0; i < assignment.length; i++) {
    const c = assignment[i];
    totals[c] += weights[i];
    for (let d = 0; d < dims; d++) {
      sums[c * dims + d] += weights[i] * points[i * dims + d];
    }
  }
  for (let c = 0; c < k; c++) {
    for (let d = 0; d < dims; d++) {
      centres[c * dims + d] = sums[c * dims + d] / totals[c];
    }
  }
}

/** Builds one entry per cluster: weighted mean key and value, summed weight, newest member as source row. */
function averageClusters(tokens: HeadTokens, assignment: Int32Array, k: number): MergedEntries {
  const { dKey, dValue } = tokens;
  const keySums = new Float64Array(k * dKey); // [k, dKey]
  const valueSums = new Float64Array(k * dValue); // [k, dValue]
  const weights = new Float32Array(k); // [k]
  const totals = new Float64Array(k); // [k]
  const sourceRows = new Int32Array(k).fill(-1); // [k]
  for (let i = 0; i < assignment.length; i++) {
    const c = assignment[i];
    const weight = tokens.weights[i];
    totals[c] += weight;
    weights[c] += weight;
    if (sourceRows[c] === -1 || tokens.positions[i] > tokens.positions[sourceRows[c]]) {
      sourceRows[c] = i;
    }
    for (let d = 0; d < dKey; d++) {
      keySums[c * dKey + d] += weight * tokens.keys[i * dKey + d];
    }
    for (let d = 0; d < dValue; d++) {
      valueSums[c * dValue + d] += weight * tokens.values[i * dValue + d];
    }
  }
  const keys = Float32Array.from(keySums, (sum, index) => sum / totals[Math.floor(index / dKey)]); // [k, dKey]
  const values = Float32Array.from(valueSums, (sum, index) => sum / totals[Math.floor(index / dValue)]); // [k, dValue]
  return { keys, values, sourceRows, weights };
}
