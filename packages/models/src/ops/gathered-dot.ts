import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';

type SaveFunction = (tensors: tf.Tensor[]) => void;
type GradientFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Dot products of each row of `hidden` with its own `count` rows of `table`:
 * `out[t, r] = hidden[t] · table[ids[t · count + r]]`.
 *
 * This is the logit computation of sampled softmax with negatives drawn per position. Built
 * from `tf.gather` it materialises a `[tokens, count, d]` tensor (about 200 MB for 7,500
 * positions × 128 negatives × d = 50), which ran out of wasm memory, and its gradient goes
 * through a scatter-add of the same size. Here the products and both gradients are plain
 * loops over the two operands read back from the backend, `tokens · count · d` multiply-adds
 * each, with sums in float64.
 *
 * @param hidden - `[tokens, d]`.
 * @param table - `[rows, d]`.
 * @param ids - `[tokens · count]` row indices into `table`, position-major.
 * @param count - rows of `table` per position.
 * @returns `[tokens, count]`.
 */
export function gatheredDot(hidden: tf.Tensor2D, table: tf.Tensor2D, ids: Int32Array, count: number): tf.Tensor2D {
  const [tokens, d] = hidden.shape;
  const [rows, tableWidth] = table.shape;
  if (tableWidth !== d) {
    throw new RangeError(invalidArgument('gatheredDot', 'table', `a [rows, ${d}] tensor (the width of hidden)`, `[${table.shape.join(', ')}]`));
  }
  if (ids.length !== tokens * count) {
    throw new RangeError(invalidArgument('gatheredDot', 'ids', `${tokens * count} ids (${tokens} positions × ${count})`, `${ids.length}`));
  }
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < rows)) {
      throw new RangeError(invalidArgument('gatheredDot', `ids[${i}]`, `a row index in [0, ${rows})`, `${ids[i]}`));
    }
  }

  const withGradient = tf.customGrad(((h: tf.Tensor2D, t: tf.Tensor2D, save: SaveFunction) => {
    save([h, t]);
    return {
      value: tf.tensor2d(forwardProducts(h.dataSync() as Float32Array, t.dataSync() as Float32Array, ids, tokens, count, d), [tokens, count]),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [savedHidden, savedTable] = saved as [tf.Tensor2D, tf.Tensor2D];
        const gradients = backwardProducts(dy.dataSync() as Float32Array, savedHidden.dataSync() as Float32Array, savedTable.dataSync() as Float32Array, ids, tokens, count, d, rows);
        return [tf.tensor2d(gradients.hidden, [tokens, d]), tf.tensor2d(gradients.table, [rows, d])];
      },
    };
  }) as unknown as GradientFunction);
  return withGradient(hidden, table) as tf.Tensor2D;
}

/** `out[t, r] = Σ_k hidden[t, k] · table[ids[t · count + r], k]`, `[tokens · count]`. */
function forwardProducts(hidden: Float32Array, table: Float32Array, ids: Int32Array, tokens: number, count: number, d: number): Float32Array {
  const out = new Float32Array(tokens * count); // [tokens, count]
  for (let t = 0; t < tokens; t++) {
    const h = t * d;
    for (let r = 0; r < count; r++) {
      const row = ids[t * count + r] * d;
      let sum = 0;
      for (let k = 0; k < d; k++) {
        sum += hidden[h + k] * table[row + k];
      }
      out[t * count + r] = sum;
    }
  }
  return out;
}

/**
 * Gradients of {@link forwardProducts}: `dHidden[t] = Σ_r dy[t, r] · table[id]` and
 * `dTable[id] += dy[t, r] · hidden[t]` for every `id = ids[t · count + r]`.
 */
function backwardProducts(
  dy: Float32Array,
  hidden: Float32Array,
  table: Float32Array,
  ids: Int32Array,
  tokens: number,
  count: number,
  d: number,
  rows: number,
): { hidden: Float32Array; table: Float32Array } {
  const hiddenGradient = new Float32Array(tokens * d); // [tokens, d]
  const tableGradient = new Float64Array(rows * d); // [rows, d], summed in float64
  const rowGradient = new Float64Array(d); // [d]
  for (let t = 0; t < tokens; t++) {
    const h = t * d;
    rowGradient.fill(0);
    for (let r = 0; r < count; r++) {
      const weight = dy[t * count + r];
      if (weight === 0) {
        continue;
      }
      const row = ids[t * count + r] * d;
      for (let k = 0; k < d; k++) {
        rowGradient[k] += weight * table[row + k];
        tableGradient[row + k] += weight * hidden[h + k];
      }
    }
    for (let k = 0; k < d; k++) {
      hiddenGradient[h + k] = rowGradient[k];
    }
  }
  return { hidden: hiddenGradient, table: Float32Array.from(tableGradient) };
}
