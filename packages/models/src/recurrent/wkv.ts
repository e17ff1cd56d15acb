import * as tf from '@tensorflow/tfjs';
import { unstackSteps } from './steps';

// The WKV operator of RWKV time mixing, per channel c with decay w = exp(timeDecay) > 0 and
// bonus u = timeFirst:
//   wkv_t = (Σ_{i<t} e^{−(t−1−i)w + k_i} v_i + e^{u + k_t} v_t) / (Σ_{i<t} e^{−(t−1−i)w + k_i} + e^{u + k_t}).
// Padded tokens never enter the sums of later steps, and a padded step does not decay them. The
// current term of a padded step still enters its own output.

/**
 * Largest spread `max_i k_i − (u + k_t)` over a row and channel for which {@link wkvParallel}
 * is used. Beyond it the current term `e^{u + k_t − max_i k_i}` could come near the float32
 * range, and the gradient of the division squares the denominator: e^{−2·30} ≈ 9e−27 is still a
 * normal float32 (the smallest is about 1.2e−38).
 */
export const PARALLEL_WKV_MAX_SPREAD = 30;

/**
 * Runs the WKV recurrence in its numerically stable form over `len` steps: the state is a
 * numerator a, a denominator b and their shared exponent p, with a and b stored divided by e^p,
 * and p the running maximum exponent.
 *
 * @param keys - `[batch, len, d]`.
 * @param values - `[batch, len, d]`.
 * @param mask - 1 at real items and 0 at padding, `[batch, len, 1]`; a padded step keeps the state.
 * @param timeDecay - `[d]`; the decay is `w = exp(timeDecay)`.
 * @param timeFirst - bonus u, `[d]`.
 * @param state - a, b and p, `[batch, d]` each.
 * @returns wkv of every step `[batch, len, d]` and a, b and p after the last step.
 */
export function wkvRecurrent(keys: tf.Tensor3D, values: tf.Tensor3D, mask: tf.Tensor3D, timeDecay: tf.Tensor1D, timeFirst: tf.Tensor1D, state: readonly tf.Tensor2D[]): { output: tf.Tensor3D; state: tf.Tensor2D[] } {
  const [batch, len, d] = keys.shape;
  const decay = tf.exp(timeDecay); // w, [d]

  // Time-major steps, split as unstackSteps explains.
  const keySteps = unstackSteps<tf.Tensor2D>(tf.transpose(keys, [1, 0, 2])); // len × [batch, d]
  const valueSteps = unstackSteps<tf.Tensor2D>(tf.transpose(values, [1, 0, 2])); // len × [batch, d]
  const keepSteps = unstackSteps<tf.Tensor2D>(tf.transpose(mask, [1, 0, 2])); // len × [batch, 1]
  const skipSteps = unstackSteps<tf.Tensor2D>(tf.transpose(tf.sub(1, mask), [1, 0, 2])); // len × [batch, 1]

  let [numerator, denominator, exponent] = state; // a, b, p, [batch, d] each
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < len; t++) {
    const key = keySteps[t];
    const value = valueSteps[t];
    const keep = keepSteps[t];
    const skip = skipSteps[t];

    // Output: the past sums plus the current token with bonus u, both scaled by e^{-q}.
    const current = tf.add(timeFirst, key); // u + k_t
    const outMax = tf.maximum(exponent, current);
    const pastScale = tf.exp(tf.sub(exponent, outMax));
    const currentScale = tf.exp(tf.sub(current, outMax));
    const wkv = tf.div(tf.add(tf.mul(pastScale, numerator), tf.mul(currentScale, value)), tf.add(tf.mul(pastScale, denominator), currentScale)) as tf.Tensor2D; // [batch, d]
    outputs.push(wkv);

    // State update: decay the past by e^{-w}, add e^{k_t} v_t; a padded step keeps the state.
    const decayed = tf.sub(exponent, decay); // p − w
    const nextMax = tf.maximum(decayed, key);
    const decayScale = tf.exp(tf.sub(decayed, nextMax));
    const keyScale = tf.exp(tf.sub(key, nextMax));
    const nextNumerator = tf.add(tf.mul(decayScale, numerator), tf.mul(keyScale, value));
    const nextDenominator = tf.add(tf.mul(decayScale, denominator), keyScale);
    numerator = tf.add(tf.mul(keep, nextNumerator), tf.mul(skip, numerator)) as tf.Tensor2D;
    denominator = tf.add(tf.mul(keep, nextDenominator), tf.mul(skip, denominator)) as tf.Tensor2D;
    exponent = tf.add(tf.mul(keep, nextMax), tf.mul(skip, exponent)) as tf.Tensor2D;
  }
  const output = tf.reshape(tf.transpose(tf.stack(outputs), [1, 0, 2]), [batch, len, d]) as tf.Tensor3D;
  return { output, state: [numerator, denominator, exponent] };
}

/**
 * Tells whether {@link wkvParallel} is numerically safe for these keys: the spread
 * `max_i k_i − (u + k_t)` stays within {@link PARALLEL_WKV_MAX_SPREAD} for every row, step and
 * channel. It reads one number back from the backend.
 */
export function parallelWkvIsSafe(keys: tf.Tensor3D, timeFirst: tf.Tensor1D): boolean {
  const spread = tf.tidy(() => tf.max(tf.sub(tf.sub(tf.max(keys, 1), tf.min(keys, 1)), timeFirst)).dataSync()[0]);
  return Number.isFinite(spread) && spread <= PARALLEL_WKV_MAX_SPREAD;
}

/**
 * Computes WKV of every step from the empty state in parallel over time, for training.
 *
 * The past sums `Σ_{i<t} e^{−(t−1−i)w} x_i` of `x_i = e^{k_i − s} v_i` and of `x_i = e^{k_i − s}`
 * are a linear recurrence with constant factor e^{−w} per channel, computed by a parallel
 * prefix scan in ⌈log2 len⌉ doubling steps over whole `[len, 2 · batch, d]` tensors. The shift
 * `s = max_i k_i` over the row and channel keeps every term at most 1, and every scan factor
 * `e^{−span·w}` is at most 1, so nothing overflows for any decay w > 0 and length. The current
 * term `e^{u + k_t − s}` is added to both sums after the scan. The shift s cancels in the ratio
 * and gets no gradient. Call {@link parallelWkvIsSafe} first: it bounds how small the current
 * term, and so the denominator, can get.
 *
 * The decay counts steps, not real items, so the result equals {@link wkvRecurrent} from the
 * empty state only when each row's real items are one contiguous run, and then at every step
 * up to the last real item. NOTE: after the last real item of a right-padded row, the past
 * keeps decaying here while the recurrence keeps it fixed, so those padded steps differ. Nothing
 * downstream reads them, because the model mixes tokens only forward in time.
 *
 * @param keys - `[batch, len, d]`.
 * @param values - `[batch, len, d]`.
 * @param mask - 1 at real items and 0 at padding, `[batch, len, 1]`.
 * @param timeDecay - `[d]`; the decay is `w = exp(timeDecay)`.
 * @param timeFirst - bonus u, `[d]`.
 * @returns wkv of every step, `[batch, len, d]`.
 */
export function wkvParallel(keys: tf.Tensor3D, values: tf.Tensor3D, mask: tf.Tensor3D, timeDecay: tf.Tensor1D, timeFirst: tf.Tensor1D): tf.Tensor3D {
  const [batch, len, d] = keys.shape;

  // Key weights shifted by the row maximum. Padded tokens get no weight in the past sums.
  const shift = rowMaximum(keys); // s, [batch, 1, d]
  const weights = tf.exp(tf.sub(keys, shift)); // e^{k − s}, [batch, len, d]
  const pastWeights = tf.mul(weights, mask); // [batch, len, d]

  // Past sums of x = [e^{k−s} v, e^{k−s}] by a parallel prefix scan (Hillis and Steele): after
  // the doubling steps span = 1, 2, 4, …, Y_t = Σ_{i≤t} e^{−(t−i)w} x_i, and the past sum of
  // step t is Y_{t−1}. Every factor e^{−span·w} is at most 1. Time-major, [len, 2 · batch, d].
  const negativeDecay = tf.neg(tf.exp(timeDecay)); // −w, [d]
  let scan = tf.concat([tf.transpose(tf.mul(pastWeights, values), [1, 0, 2]), tf.transpose(pastWeights, [1, 0, 2])], 1) as tf.Tensor3D; // x, [len, 2 · batch, d]
  for (let span = 1; span < len; span *= 2) {
    const earlier = shiftedInTime(scan, span); // Y_{t−span}, 0 for t < span
    scan = tf.add(scan, tf.mul(tf.exp(tf.mul(negativeDecay, span)), earlier));
  }
  const past = shiftedInTime(scan, 1); // Y_{t−1}, [len, 2 · batch, d]
  const [pastNumerator, pastDenominator] = tf.split(tf.transpose(past, [1, 0, 2]), 2, 0) as tf.Tensor3D[]; // [batch, len, d] each

  // Add the current term with bonus u and divide.
  const current = tf.mul(tf.exp(timeFirst), weights); // e^{u + k_t − s}, [batch, len, d]
  const numerator = tf.add(pastNumerator, tf.mul(current, values));
  const denominator = tf.add(pastDenominator, current);
  return tf.reshape(tf.div(numerator, denominator), [batch, len, d]) as tf.Tensor3D;
}

/** `x` moved `span` steps later along the leading time axis, zeros in front, `[len, ...]`. */
function shiftedInTime(x: tf.Tensor3D, span: number): tf.Tensor3D {
  const [len, rows, width] = x.shape;
  return tf.pad(tf.slice(x, [0, 0, 0], [len - span, rows, width]), [
    [span, 0],
    [0, 0],
    [0, 0],
  ]);
}

type GradientFunction = Parameters<typeof tf.customGrad>[0];

const maximumWithoutGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.max(x, 1, true),
  gradFunc: () => tf.zerosLike(x),
})) as unknown as GradientFunction);

/** Maximum over axis 1 of `[batch, len, d]`, `[batch, 1, d]`, as a constant of the gradient tape (zero gradient). */
function rowMaximum(x: tf.Tensor3D): tf.Tensor3D {
  if (!tf.engine().isTapeOn()) {
    return tf.max(x, 1, true);
  }
  return maximumWithoutGradient(x) as tf.Tensor3D;
}
