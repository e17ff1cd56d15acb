// An independent HSTU forward pass in plain float64 arrays, used to check the tensor
// implementation and its cached path. Attention weights are multiplied by `keyWeight`, so
// that removed keys (weight 0) and merged keys (weight w) can be expressed on a full pass.
import type { Hstu } from '../src/hstu/hstu';
import { causal, type KeyWeight } from './reference-sasrec';

function layerNorm(x: number[], epsilon: number): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) * (b - mean), 0) / x.length;
  return x.map((value) => (value - mean) / Math.sqrt(variance + epsilon));
}

const silu = (value: number): number => value / (1 + Math.exp(-value));

/** floor(ln(max(|Δt|, 1)) / 0.301), clamped to [0, buckets]. */
function bucket(delta: number, buckets: number): number {
  return Math.min(buckets, Math.max(0, Math.floor(Math.log(Math.max(Math.abs(delta), 1)) / 0.301)));
}

/**
 * Hidden state of every position, `[len][d]`.
 *
 * @param items - the input window, positions 0..len-1.
 * @param timestamps - seconds per item, or `null` (every time difference is 0).
 * @param queryTimes - seconds from which each query measures its time differences; default `timestamps`.
 */
export function referenceHstuForward(
  model: Hstu,
  items: readonly number[],
  timestamps: readonly number[] | null,
  keyWeight: KeyWeight = causal,
  queryTimes: readonly number[] | null = timestamps,
): number[][] {
  const { hiddenSize: d, heads, layers, queryKeySize: dqk, valueSize: dv, maxLength, timeBuckets } = model.config;
  const weights = new Map(model.variables.map((entry) => [entry.name, Float64Array.from(entry.variable.dataSync())]));
  const get = (name: string): Float64Array => weights.get(name) as Float64Array;
  const width = heads * (2 * dv + 2 * dqk);

  // Input embedding.
  let x = items.map((item, position) => Array.from({ length: d }, (_, j) => get('item_embedding')[item * d + j] * Math.sqrt(d) + get('position_embedding')[position * d + j]));

  for (let layer = 0; layer < layers; layer++) {
    const p = `layer_${layer}/`;
    const kernel = get(`${p}uvqk/kernel`);
    const projected = x.map((row) => {
      const normed = layerNorm(row, 1e-6);
      return Array.from({ length: width }, (_, c) => silu(normed.reduce((sum, value, r) => sum + value * kernel[r * width + c], 0)));
    });
    const u = projected.map((row) => row.slice(0, heads * dv));
    const v = projected.map((row) => row.slice(heads * dv, 2 * heads * dv));
    const q = projected.map((row) => row.slice(2 * heads * dv, 2 * heads * dv + heads * dqk).map((value) => value / Math.sqrt(dqk)));
    const k = projected.map((row) => row.slice(2 * heads * dv + heads * dqk));

    // Point-wise attention with the relative bias, per head.
    x = x.map((row, i) => {
      const attended = new Array<number>(heads * dv).fill(0);
      for (let head = 0; head < heads; head++) {
        for (let j = 0; j < items.length; j++) {
          const weight = keyWeight(layer, head, i, j);
          if (weight === 0) continue;
          let score = get(`${p}relative_position_bias`)[i - j] + get(`${p}time_bucket_bias`)[timestamps === null || queryTimes === null ? 0 : bucket(queryTimes[i] - timestamps[j], timeBuckets)];
          for (let c = 0; c < dqk; c++) {
            score += q[i][head * dqk + c] * k[j][head * dqk + c];
          }
          const a = (silu(score) * weight) / maxLength;
          for (let c = 0; c < dv; c++) {
            attended[head * dv + c] += a * v[j][head * dv + c];
          }
        }
      }
      const gated = layerNorm(attended, 1e-6).map((value, c) => value * u[i][c]);
      const out = get(`${p}output/kernel`);
      return row.map((value, j) => value + get(`${p}output/bias`)[j] + gated.reduce((sum, g, c) => sum + g * out[c * d + j], 0));
    });
  }

  // L2 normalisation.
  return x.map((row) => {
    if (model.config.l2NormalizeEmbeddings === false) return row;
    const norm = Math.sqrt(row.reduce((a, b) => a + b * b, 0));
    return row.map((value) => value / Math.max(norm, 1e-6));
  });
}
