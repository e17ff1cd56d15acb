import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';

type SaveFunction = (tensors: tf.Tensor[]) => void;
type GradientFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Computes the dot products of each row of `hidden` with its own `count` rows of `table`:
 * `out[t, r] = hidden[t] · table[ids[t · count + r]]`.
 *
 * These are the logits of sampled softmax with negatives drawn per position. Built from
 * `tf.gather`, this product materialises a `[tokens, count, d]` tensor (about 200 MB for 7,500
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

/** Rows of `table` that the loops below read per pass, sharing one read of the hidden row. */
const ROWS_PER_PASS = 4;

/**
 * Computes `out[t, r] = Σ_k hidden[t, k] · table[ids[t · count + r], k]`, `[tokens · count]`.
 * Each pass takes {@link ROWS_PER_PASS} rows of `table` against one copy of the hidden row:
 * with passes of four, a SASRec step of batch 64 × 200 (bench/train-speed.ts) took 1.25 s on
 * wasm, against 1.43 s with one row at a time.
 */
function forwardProducts(hidden: Float32Array, table: Float32Array, ids: Int32Array, tokens: number, count: number, d: number): Float32Array {
  const out = new Float32Array(tokens * count); // [tokens, count]
  const row = new Float64Array(d); // [d], the hidden row of position t
  for (let t = 0; t < tokens; t++) {
    for (let k = 0; k < d; k++) {
      row[k] = hidden[t * d + k];
    }

    // Four rows of the table per pass, then the rest one by one.
    let r = 0;
    for (; r + ROWS_PER_PASS <= count; r += ROWS_PER_PASS) {
      const i = t * count + r;
      const a = ids[i] * d;
      const b = ids[i + 1] * d;
      const c = ids[i + 2] * d;
      const e = ids[i + 3] * d;
      let sumA = 0;
      let sumB = 0;
      let sumC = 0;
      let sumE = 0;
      for (let k = 0; k < d; k++) {
        const x = row[k];
        sumA += x * table[a + k];
        sumB += x * table[b + k];
        sumC += x * table[c + k];
        sumE += x * table[e + k];
      }
      out[i] = sumA;
      out[i + 1] = sumB;
      out[i + 2] = sumC;
      out[i + 3] = sumE;
    }
    for (; r < count; r++) {
      const a = ids[t * count + r] * d;
      let sum = 0;
      for (let k = 0; k < d; k++) {
        sum += row[k] * table[a + k];
      }
      out[t * count + r] = sum;
    }
  }
  return out;
}

/**
 * Computes the gradients of {@link forwardProducts}: `dHidden[t] = Σ_r dy[t, r] · table[id]`
 * and `dTable[id] += dy[t, r] · hidden[t]` for every `id = ids[t · count + r]`, with sums in
 * float64 and {@link ROWS_PER_PASS} rows per pass.
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
  const tableGradient = new Float64Array(rows * d); // [rows, d]
  const rowGradient = new Float64Array(d); // [d], dHidden of position t
  const row = new Float64Array(d); // [d], the hidden row of position t
  for (let t = 0; t < tokens; t++) {
    rowGradient.fill(0);
    for (let k = 0; k < d; k++) {
      row[k] = hidden[t * d + k];
    }

    // Four rows of the table per pass, then the rest one by one.
    let r = 0;
    for (; r + ROWS_PER_PASS <= count; r += ROWS_PER_PASS) {
      const i = t * count + r;
      const weightA = dy[i];
      const weightB = dy[i + 1];
      const weightC = dy[i + 2];
      const weightE = dy[i + 3];
      const a = ids[i] * d;
      const b = ids[i + 1] * d;
      const c = ids[i + 2] * d;
      const e = ids[i + 3] * d;
      for (let k = 0; k < d; k++) {
        rowGradient[k] += weightA * table[a + k] + weightB * table[b + k] + weightC * table[c + k] + weightE * table[e + k];
      }
      // A row repeated within the four gets each addition in turn, as the statements run in order.
      for (let k = 0; k < d; k++) {
        const x = row[k];
        tableGradient[a + k] += weightA * x;
        tableGradient[b + k] += weightB * x;
        tableGradient[c + k] += weightC * x;
        tableGradient[e + k] += weightE * x;
      }
    }
    for (; r < count; r++) {
      const weight = dy[t * count + r];
      const a = ids[t * count + r] * d;
      for (let k = 0; k < d; k++) {
        rowGradient[k] += weight * table[a + k];
        tableGradient[a + k] += weight * row[k];
      }
    }

    for (let k = 0; k < d; k++) {
      hiddenGradient[t * d + k] = rowGradient[k];
    }
  }
  return { hidden: hiddenGradient, table: Float32Array.from(tableGradient) };
}
