// An independent SASRec forward pass in plain float64 arrays, used to check the tensor
// implementation and its cached path. It reads the weights out of a model and supports an
// arbitrary attention mask and per-key merge weights, so that "keys removed from the cache"
// and "merged keys" can be expressed as a masked or weighted full forward pass.
import type { SasRec } from '../src/sasrec/sasrec';

/** Which keys a query may see, and with what weight: `0` hides the key. */
export type KeyWeight = (layer: number, head: number, query: number, key: number) => number;

/** Causal attention with every key at weight 1. */
export const causal: KeyWeight = (_layer, _head, query, key) => (key <= query ? 1 : 0);

interface Weights {
  get(name: string): Float64Array;
}

function readWeights(model: SasRec): Weights {
  const values = new Map<string, Float64Array>();
  for (const entry of model.variables) {
    values.set(entry.name, Float64Array.from(entry.variable.dataSync()));
  }
  return {
    get(name: string): Float64Array {
      const value = values.get(name);
      if (value === undefined) {
        throw new Error(`reference: no weight named ${name}`);
      }
      return value;
    },
  };
}

function layerNorm(x: number[], scale: Float64Array, shift: Float64Array): number[] {
  const d = x.length;
  const mean = x.reduce((a, b) => a + b, 0) / d;
  const variance = x.reduce((a, b) => a + (b - mean) * (b - mean), 0) / d;
  const inv = 1 / Math.sqrt(variance + 1e-8);
  return x.map((value, j) => (value - mean) * inv * scale[j] + shift[j]);
}

function affine(x: number[], kernel: Float64Array, bias: Float64Array): number[] {
  const dIn = x.length;
  const dOut = bias.length;
  const out = Array.from(bias);
  for (let i = 0; i < dIn; i++) {
    for (let j = 0; j < dOut; j++) {
      out[j] += x[i] * kernel[i * dOut + j];
    }
  }
  return out;
}

/**
 * Hidden state of every position after the final normalisation, `[len][d]`.
 *
 * @param items - the input window, positions 0..len-1.
 * @param keyWeight - attention mask and merge weight per (layer, head, query, key).
 */
export function referenceForward(model: SasRec, items: readonly number[], keyWeight: KeyWeight = causal): number[][] {
  const { hiddenSize: d, heads, layers } = model.config;
  const dHead = d / heads;
  const w = readWeights(model);
  const itemTable = w.get('item_embedding');
  const positionTable = w.get('position_embedding');

  // Input embedding.
  let x = items.map((item, position) => Array.from({ length: d }, (_, j) => itemTable[item * d + j] * Math.sqrt(d) + positionTable[position * d + j]));

  for (let layer = 0; layer < layers; layer++) {
    const p = `block_${layer}/`;
    const normed = x.map((row) => layerNorm(row, w.get(`${p}attention_norm/scale`), w.get(`${p}attention_norm/shift`)));
    const q = normed.map((row) => affine(row, w.get(`${p}query/kernel`), w.get(`${p}query/bias`)));
    const k = x.map((row) => affine(row, w.get(`${p}key/kernel`), w.get(`${p}key/bias`)));
    const v = x.map((row) => affine(row, w.get(`${p}value/kernel`), w.get(`${p}value/bias`)));

    // Weighted softmax attention per head: weight w counts a key w times.
    const attended = x.map(() => new Array<number>(d).fill(0));
    for (let head = 0; head < heads; head++) {
      const offset = head * dHead;
      for (let i = 0; i < items.length; i++) {
        const scores: number[] = [];
        const weights: number[] = [];
        for (let j = 0; j < items.length; j++) {
          weights.push(keyWeight(layer, head, i, j));
          let s = 0;
          for (let c = 0; c < dHead; c++) {
            s += q[i][offset + c] * k[j][offset + c];
          }
          scores.push(s / Math.sqrt(dHead));
        }
        const max = Math.max(...scores.filter((_, j) => weights[j] > 0));
        const exps = scores.map((s, j) => (weights[j] > 0 ? weights[j] * Math.exp(s - max) : 0));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j < items.length; j++) {
          for (let c = 0; c < dHead; c++) {
            attended[i][offset + c] += (exps[j] / total) * v[j][offset + c];
          }
        }
      }
    }

    // Output projection, residual, layer norm, feed-forward network with its residual.
    x = attended.map((row, i) => {
      const projected = affine(row, w.get(`${p}output/kernel`), w.get(`${p}output/bias`));
      const y = layerNorm(normed[i].map((value, j) => value + projected[j]), w.get(`${p}ffn_norm/scale`), w.get(`${p}ffn_norm/shift`));
      const inner = affine(y, w.get(`${p}ffn_inner/kernel`), w.get(`${p}ffn_inner/bias`)).map((value) => Math.max(0, value));
      const outer = affine(inner, w.get(`${p}ffn_outer/kernel`), w.get(`${p}ffn_outer/bias`));
      return y.map((value, j) => value + outer[j]);
    });
  }

  // Final layer norm and optional L2 normalisation.
  return x.map((row) => {
    const normed = layerNorm(row, w.get('final_norm/scale'), w.get('final_norm/shift'));
    if (model.config.l2NormalizeEmbeddings === false) {
      return normed;
    }
    const norm = Math.sqrt(normed.reduce((a, b) => a + b * b, 0));
    return normed.map((value) => value / Math.max(norm, 1e-6));
  });
}
