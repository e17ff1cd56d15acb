import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { l2Normalize } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import type { SequentialModel } from '../model/types';
import type { SeededRandom } from '../random';
import { GRU4REC_DEFAULTS, resolveRecurrentConfig, type Gru4RecConfig } from './config';
import { RecurrentModel, type LayerRun } from './recurrent-model';
import { VariableFactory, zeros } from './weights';

/** Trainable tensors of one GRU layer. Gate columns are ordered update z, reset r, candidate n. */
interface GruLayerWeights {
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

  protected runLayer(layer: number, x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, random: SeededRandom | null): LayerRun {
    void random;
    const [batch, len, d] = x.shape;
    const weights = this.layerWeights[layer];

    // Input projections of all steps at once, [batch, len, 3d].
    const projected = tf.reshape(tf.add(matMul2d(tf.reshape(x, [batch * len, d]) as tf.Tensor2D, weights.inputKernel as tf.Tensor2D), weights.inputBias), [batch, len, 3 * d]);
    const gateKernel = tf.slice(weights.recurrentKernel, [0, 0], [d, 2 * d]) as tf.Tensor2D; // [d, 2d]
    const candidateKernel = tf.slice(weights.recurrentKernel, [0, 2 * d], [d, d]) as tf.Tensor2D; // [d, d]

    // Step through time; a padded step keeps h.
    let h = state; // [batch, d]
    const outputs: tf.Tensor3D[] = [];
    for (let t = 0; t < len; t++) {
      const step = tf.reshape(tf.slice(projected, [0, t, 0], [batch, 1, 3 * d]), [batch, 3 * d]) as tf.Tensor2D; // [batch, 3d]
      const keep = tf.reshape(tf.slice(mask, [0, t, 0], [batch, 1, 1]), [batch, 1]); // [batch, 1]
      const gates = tf.sigmoid(tf.add(tf.slice(step, [0, 0], [batch, 2 * d]), matMul2d(h, gateKernel))); // [batch, 2d]
      const update = tf.slice(gates, [0, 0], [batch, d]); // [batch, d]
      const reset = tf.slice(gates, [0, d], [batch, d]); // [batch, d]
      const candidate = tanhOf(tf.add(tf.slice(step, [0, 2 * d], [batch, d]), matMul2d(tf.mul(reset, h) as tf.Tensor2D, candidateKernel))); // [batch, d]
      const next = tf.add(h, tf.mul(update, tf.sub(candidate, h))); // (1 − z) ⊙ h + z ⊙ n
      h = tf.add(tf.mul(keep, next), tf.mul(tf.sub(1, keep), h)) as tf.Tensor2D;
      outputs.push(tf.reshape(h, [batch, 1, d]) as tf.Tensor3D);
    }
    const output = outputs.length === 1 ? outputs[0] : (tf.concat(outputs, 1) as tf.Tensor3D); // [batch, len, d]
    return { output, state: h };
  }
}

/** tanh(a) = 2σ(2a) − 1, built from kernels that every backend of this package has. */
function tanhOf(a: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(a, 2)), 2), 1);
}
