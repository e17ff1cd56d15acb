import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { l2Normalize } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import type { SequentialModel } from '../model/types';
import type { SeededRandom } from '../random';
import { GRU4REC_DEFAULTS, resolveRecurrentConfig, type Gru4RecConfig } from './config';
import { RecurrentModel, type LayerRun } from './recurrent-model';
import { unstackSteps } from './steps';
import { VariableFactory, zeros } from './weights';

/** Trainable tensors of one GRU layer. Gate columns are ordered update z, reset r, candidate n. */
export interface GruLayerWeights {
  /** Input kernel `[d, 3d]`. */
  inputKernel: tf.Variable;
  /** Input bias `[3d]`. */
  inputBias: tf.Variable;
  /** Recurrent kernel `[d, 3d]`. */
  recurrentKernel: tf.Variable;
}

/**
 * Creates a GRU4Rec model with weights drawn from `seed`.
 *
 * Item embeddings feed `layers` layers of gated recurrent units (GRU), and the last layer's
 * output at position t is the hidden state that predicts item t+1. Scores are dot products with the item
 * embedding table (tied, as SASRec here); with `l2NormalizeEmbeddings` (the default) both
 * sides are L2-normalised. One GRU step, per layer, with σ the logistic function:
 * `z = σ(x W_z + h U_z + b_z)`, `r = σ(x W_r + h U_r + b_r)`,
 * `n = tanh(x W_n + b_n + (r ⊙ h) U_n)`, `h' = (1 − z) ⊙ h + z ⊙ n`.
 *
 * Deviations from paper: the output layer is the item embedding table instead of a separate
 * one, and training uses this package's losses (sampled softmax, BCE, full cross-entropy) on
 * every position of a padded batch instead of session-parallel mini-batches. A padding step
 * carries the state through unchanged, so left and right padding do not change the state.
 * tanh is computed as `2σ(2a) − 1`, because Tanh is not among the kernels that `initBackend`
 * checks at start (`REQUIRED_KERNELS`), while Sigmoid is.
 *
 * The per-user state is h of every layer, `layers · d` float32 numbers; see
 * {@link RecurrentModel} for how it travels in a KVCache.
 *
 * @see Balázs Hidasi, Alexandros Karatzoglou, Linas Baltrunas and Domonkos Tikk, "Session-based Recommendations with Recurrent Neural Networks", ICLR 2016, arXiv:1511.06939.
 * @param config - `itemCount` is required; the defaults are {@link GRU4REC_DEFAULTS}.
 * @param seed - seed of the weight initialisation.
 * @throws RangeError naming an invalid configuration field.
 */
export function createGru4Rec(config: Partial<Gru4RecConfig> & { itemCount: number }, seed: number): SequentialModel {
  if (!Number.isFinite(seed)) {
    throw new RangeError(invalidArgument('createGru4Rec', 'seed', 'a finite number', String(seed)));
  }
  return new Gru4Rec(resolveRecurrentConfig('createGru4Rec', config, GRU4REC_DEFAULTS), seed);
}

/** GRU4Rec with a constant-size cached state; see {@link createGru4Rec}. */
export class Gru4Rec extends RecurrentModel {
  readonly kind = 'gru4rec' as const;
  private readonly layerWeights: GruLayerWeights[];
  /** Item embedding table, `[nItems + 1, d]`; row 0 (padding) starts at zero. */
  private readonly itemTable: tf.Variable;

  constructor(config: Gru4RecConfig, seed: number) {
    const d = config.hiddenSize;
    const factory = new VariableFactory(seed);
    const itemEmbedding = factory.make('item_embedding', [config.itemCount + 1, d], factory.itemEmbedding(d));
    const layers: GruLayerWeights[] = [];
    for (let layer = 0; layer < config.layers; layer++) {
      // Xavier-normal per gate: fan-in d, fan-out d.
      const prefix = `gru_${layer}/`;
      layers.push({
        inputKernel: factory.make(`${prefix}input/kernel`, [d, 3 * d], factory.normal(Math.sqrt(1 / d))),
        inputBias: factory.make(`${prefix}input/bias`, [3 * d], zeros),
        recurrentKernel: factory.make(`${prefix}recurrent/kernel`, [d, 3 * d], factory.normal(Math.sqrt(1 / d))),
      });
    }
    super(config, factory.variables, itemEmbedding);
    this.layerWeights = layers;
    this.itemTable = itemEmbedding;
  }

  protected get label(): string {
    return 'Gru4Rec';
  }

  protected get stateWidth(): number {
    return this.config.hiddenSize;
  }

  /** Key width of the state head: the first ⌊d/2⌋ numbers of h are its keys and the rest its values. */
  protected get stateKeyWidth(): number {
    return Math.floor(this.config.hiddenSize / 2);
  }

  protected initialState(): Float32Array {
    return new Float32Array(this.config.hiddenSize);
  }

  protected embed(items: tf.Tensor1D): tf.Tensor2D {
    return tf.gather(this.itemTable, items) as tf.Tensor2D;
  }

  protected finalOutput(x: tf.Tensor2D): tf.Tensor2D {
    return this.normalizesEmbeddings ? l2Normalize(x) : x;
  }

  /** Runs one GRU layer step by step. `parallel` is ignored, because the GRU has no parallel form. */
  protected runLayer(layer: number, x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, random: SeededRandom | null, parallel: boolean): LayerRun {
    void random;
    void parallel;
    return runGruLayer(x, mask, state, this.layerWeights[layer]);
  }
}

/**
 * Runs one GRU layer over a `[batch, len]` block. The input projections of every step and gate
 * are one product, and the recurrence runs time-major with a hand-written backward pass
 * (`gruRecurrenceWithGradient`). The recurrent kernel stays two products per step (`h U_zr`
 * and `(r ⊙ h) U_n`), because the reset gate acts on h before the candidate product.
 *
 * @param x - `[batch, len, d]`.
 * @param mask - 1 at real items and 0 at padding, `[batch, len, 1]`; a padded step keeps h.
 * @param state - h before the first step, `[batch, d]`.
 * @returns the output h of every step `[batch, len, d]` and h after the last step.
 */
export function runGruLayer(x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, weights: GruLayerWeights): { output: tf.Tensor3D; state: tf.Tensor2D } {
  const [batch, len, d] = x.shape;

  // Input projections of all steps at once, time-major: [len, batch, 3d].
  const timeMajor = tf.reshape(tf.transpose(x, [1, 0, 2]), [len * batch, d]) as tf.Tensor2D; // [len · batch, d]
  const projected = tf.add(matMul2d(timeMajor, weights.inputKernel as tf.Tensor2D), weights.inputBias); // [len · batch, 3d]
  const [gateInputs, candidateInputs] = tf.split(tf.reshape(projected, [len, batch, 3 * d]), [2 * d, d], 2) as tf.Tensor3D[]; // [len, batch, 2d], [len, batch, d]
  const [gateKernel, candidateKernel] = tf.split(weights.recurrentKernel, [2 * d, d], 1) as tf.Tensor2D[]; // [d, 2d], [d, d]

  // tanh(a) = 2σ(2a) − 1, so the candidate's input and kernel are doubled once here.
  const keep = tf.transpose(mask, [1, 0, 2]) as tf.Tensor3D; // [len, batch, 1]
  const doubledCandidateInputs = tf.mul(candidateInputs, 2) as tf.Tensor3D; // [len, batch, d]
  const doubledCandidateKernel = tf.mul(candidateKernel, 2) as tf.Tensor2D; // [d, d]
  const outputs = gruRecurrence(gateInputs, doubledCandidateInputs, keep, state, gateKernel, doubledCandidateKernel); // [len, batch, d]
  const output = tf.transpose(outputs, [1, 0, 2]) as tf.Tensor3D; // [batch, len, d]
  const h = tf.reshape(tf.slice(outputs, [len - 1, 0, 0], [1, batch, d]), [batch, d]) as tf.Tensor2D;
  return { output, state: h };
}

type SaveFunction = (tensors: tf.Tensor[]) => void;
type GradientFunction = Parameters<typeof tf.customGrad>[0];

/** Tensors of one forward step that the backward pass reads, `[batch, ·]` each, in the order the forward pass saves them. */
const STEP_FIELDS = ['previous', 'keep', 'keptUpdate', 'change', 'reset', 'resetPrevious', 'gateSlopes', 'candidateSlope'] as const;
type GruStepRecord = Record<(typeof STEP_FIELDS)[number], tf.Tensor2D>;

/**
 * GRU recurrence over `len` steps with a hand-written backward pass through time. The forward
 * pass runs outside the gradient tape and saves the {@link STEP_FIELDS} of every step. Among
 * them are the gates' slopes `[z (1 − z), r (1 − r)]` and the candidate's slope 2 s (1 − s),
 * where `n = 2s − 1` and `s = σ(a)` of the doubled pre-activation a. The backward pass runs
 * the steps in reverse with about 15 small ops each, and computes each kernel's gradient as
 * one product over all steps.
 *
 * Inputs, time-major: gate inputs `[len, batch, 2d]` (`x W_zr + b_zr`), doubled candidate
 * inputs `[len, batch, d]` (`2 (x W_n + b_n)`), keep `[len, batch, 1]`, h before the first
 * step `[batch, d]`, the gate kernel `[d, 2d]` and the doubled candidate kernel `[d, d]`.
 * Output: h after every step, `[len, batch, d]`. The keep mask gets a zero gradient.
 */
const gruRecurrenceWithGradient = tf.customGrad(((gateInputs: tf.Tensor3D, candidateInputs: tf.Tensor3D, keep: tf.Tensor3D, state: tf.Tensor2D, gateKernel: tf.Tensor2D, candidateKernel: tf.Tensor2D, save: SaveFunction) => {
  const records: GruStepRecord[] = [];
  const outputs = forwardThroughTime(gateInputs, candidateInputs, keep, state, gateKernel, candidateKernel, records);

  // Tensors made in a custom forward pass survive it only through save().
  save([gateKernel, candidateKernel, ...records.flatMap((record) => STEP_FIELDS.map((field) => record[field]))]);
  return {
    value: tf.stack(outputs),
    gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => backwardThroughTime(dy, saved, keep.shape),
  };
}) as unknown as GradientFunction);

/**
 * Forward pass of {@link gruRecurrenceWithGradient}: h after every step. With `records`, it
 * also appends per step what the backward pass reads.
 */
function forwardThroughTime(gateInputs: tf.Tensor3D, candidateInputs: tf.Tensor3D, keep: tf.Tensor3D, state: tf.Tensor2D, gateKernel: tf.Tensor2D, candidateKernel: tf.Tensor2D, records: GruStepRecord[] | null): tf.Tensor2D[] {
  const len = candidateInputs.shape[0];
  const gateSteps = unstackSteps<tf.Tensor2D>(gateInputs); // len × [batch, 2d]
  const candidateSteps = unstackSteps<tf.Tensor2D>(candidateInputs); // len × [batch, d]
  const keepSteps = unstackSteps<tf.Tensor2D>(keep); // len × [batch, 1]
  const one = tf.scalar(1);
  const two = tf.scalar(2);

  // Forward: h' = h + keep ⊙ z ⊙ (n − h), which is (1 − z) ⊙ h + z ⊙ n at a real step and h at padding.
  let h = state; // [batch, d]
  const outputs: tf.Tensor2D[] = [];
  for (let t = 0; t < len; t++) {
    const gates = tf.sigmoid(tf.add(gateSteps[t], tf.matMul(h, gateKernel))) as tf.Tensor2D; // [batch, 2d]
    const [update, reset] = tf.split(gates, 2, 1) as tf.Tensor2D[]; // [batch, d] each
    const resetPrevious = tf.mul(reset, h) as tf.Tensor2D; // r ⊙ h
    const doubledCandidate = tf.sigmoid(tf.add(candidateSteps[t], tf.matMul(resetPrevious, candidateKernel))) as tf.Tensor2D; // s, [batch, d]
    const change = tf.sub(tf.sub(tf.mul(doubledCandidate, two), one), h) as tf.Tensor2D; // n − h
    const keptUpdate = tf.mul(keepSteps[t], update) as tf.Tensor2D; // keep ⊙ z
    if (records !== null) {
      const gateSlopes = tf.mul(gates, tf.sub(one, gates)) as tf.Tensor2D; // [batch, 2d]
      const candidateSlope = tf.mul(tf.mul(doubledCandidate, tf.sub(one, doubledCandidate)), two) as tf.Tensor2D; // [batch, d]
      records.push({ previous: h, keep: keepSteps[t], keptUpdate, change, reset, resetPrevious, gateSlopes, candidateSlope });
    }
    h = tf.add(h, tf.mul(keptUpdate, change)) as tf.Tensor2D;
    outputs.push(h);
  }
  return outputs;
}

/**
 * Backward pass of {@link gruRecurrenceWithGradient}.
 *
 * @param dy - gradient of h after every step, `[len, batch, d]`.
 * @param saved - the kernels, then the {@link STEP_FIELDS} of every step.
 * @param keepShape - shape of the keep input, `[len, batch, 1]`, for its zero gradient.
 * @returns gradients of the gate inputs, candidate inputs, keep, state, gate kernel and candidate kernel.
 */
function backwardThroughTime(dy: tf.Tensor3D, saved: tf.Tensor[], keepShape: number[]): tf.Tensor[] {
  const [len, batch, d] = dy.shape;
  const [gateKernel, candidateKernel] = saved as tf.Tensor2D[];
  const record = (t: number, field: (typeof STEP_FIELDS)[number]): tf.Tensor2D => saved[2 + t * STEP_FIELDS.length + STEP_FIELDS.indexOf(field)] as tf.Tensor2D;
  const gateKernelTransposed = tf.transpose(gateKernel); // [2d, d]
  const candidateKernelTransposed = tf.transpose(candidateKernel); // [d, d]
  const outputGradients = unstackSteps<tf.Tensor2D>(dy); // len × [batch, d]

  // Steps in reverse. carry is the gradient of h before the step that was just processed.
  let carry: tf.Tensor2D = tf.zeros([batch, d]);
  const gateGradients: tf.Tensor2D[] = new Array<tf.Tensor2D>(len); // of the gate pre-activations, [batch, 2d]
  const candidateGradients: tf.Tensor2D[] = new Array<tf.Tensor2D>(len); // of the doubled candidate pre-activation, [batch, d]
  for (let t = len - 1; t >= 0; t--) {
    const dh = tf.add(outputGradients[t], carry) as tf.Tensor2D; // of h after step t
    const dCandidate = tf.mul(dh, record(t, 'keptUpdate')); // of n
    const dUpdate = tf.mul(tf.mul(dh, record(t, 'keep')), record(t, 'change')); // of z
    const dCandidatePre = tf.mul(dCandidate, record(t, 'candidateSlope')) as tf.Tensor2D;
    const dResetPrevious = tf.matMul(dCandidatePre, candidateKernelTransposed); // of r ⊙ h
    const dReset = tf.mul(dResetPrevious, record(t, 'previous')); // of r
    const dGatePre = tf.mul(tf.concat([dUpdate, dReset], 1), record(t, 'gateSlopes')) as tf.Tensor2D;
    candidateGradients[t] = dCandidatePre;
    gateGradients[t] = dGatePre;

    // h enters h' directly (1 − keep ⊙ z), through r ⊙ h and through both gates.
    const direct = tf.sub(dh, dCandidate);
    carry = tf.add(tf.add(direct, tf.mul(dResetPrevious, record(t, 'reset'))), tf.matMul(dGatePre, gateKernelTransposed)) as tf.Tensor2D;
  }

  // Kernel gradients, one product over all steps: h^T · dGatePre and (r ⊙ h)^T · dCandidatePre.
  const stepsOf = (field: (typeof STEP_FIELDS)[number]): tf.Tensor2D => tf.reshape(tf.stack(Array.from({ length: len }, (_, t) => record(t, field))), [len * batch, d]) as tf.Tensor2D;
  const gateInputGradients = tf.stack(gateGradients) as tf.Tensor3D; // [len, batch, 2d]
  const candidateInputGradients = tf.stack(candidateGradients) as tf.Tensor3D; // [len, batch, d]
  const gateKernelGradient = tf.matMul(tf.transpose(stepsOf('previous')), tf.reshape(gateInputGradients, [len * batch, 2 * d])); // [d, 2d]
  const candidateKernelGradient = tf.matMul(tf.transpose(stepsOf('resetPrevious')), tf.reshape(candidateInputGradients, [len * batch, d])); // [d, d]
  return [gateInputGradients, candidateInputGradients, tf.zeros(keepShape), carry, gateKernelGradient, candidateKernelGradient];
}

/**
 * Runs {@link gruRecurrenceWithGradient}, or the same forward pass without a custom gradient
 * when no gradient is recorded (inference).
 */
function gruRecurrence(gateInputs: tf.Tensor3D, candidateInputs: tf.Tensor3D, keep: tf.Tensor3D, state: tf.Tensor2D, gateKernel: tf.Tensor2D, candidateKernel: tf.Tensor2D): tf.Tensor3D {
  if (!tf.engine().isTapeOn()) {
    return tf.stack(forwardThroughTime(gateInputs, candidateInputs, keep, state, gateKernel, candidateKernel, null)) as tf.Tensor3D;
  }
  return (gruRecurrenceWithGradient as unknown as (...inputs: tf.Tensor[]) => tf.Tensor3D)(gateInputs, candidateInputs, keep, state, gateKernel, candidateKernel);
}
