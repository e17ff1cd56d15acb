import * as tf from '@tensorflow/tfjs';
import { invalidArgument } from '../messages';
import { l2Normalize, layerNorm } from '../ops/layers';
import { matMul2d } from '../ops/matmul';
import type { SequentialModel } from '../model/types';
import type { SeededRandom } from '../random';
import { RWKV_DEFAULTS, resolveRecurrentConfig, type RwkvConfig } from './config';
import { RecurrentModel, type LayerRun } from './recurrent-model';
import { VariableFactory, ones, zeros } from './weights';
import { parallelWkvIsSafe, wkvParallel, wkvRecurrent } from './wkv';

/** Layer-norm epsilon of the RWKV blocks. */
const NORM_EPSILON = 1e-5;

/**
 * Stand-in for −∞ as the running maximum exponent of an empty WKV state. It is finite, so
 * that `0 · p` stays 0 in the masked state update, and `exp(p − q)` underflows to exactly 0.
 */
export const EMPTY_EXPONENT = -1e30;

/** Width of the channel-mixing hidden layer as a multiple of d. */
const CHANNEL_MIX_RATIO = 4;

/** Trainable tensors of one RWKV block. */
interface RwkvBlockWeights {
  /** Layer norm before time mixing, `[d]`. */
  timeNormScale: tf.Variable;
  timeNormShift: tf.Variable;
  /** Token-shift mixing of the key, value and receptance inputs, `[d]` each. */
  timeMixKey: tf.Variable;
  timeMixValue: tf.Variable;
  timeMixReceptance: tf.Variable;
  /** Per-channel decay parameter; the decay is `w = exp(timeDecay)`, `[d]`. */
  timeDecay: tf.Variable;
  /** Per-channel bonus u of the current token, `[d]`. */
  timeFirst: tf.Variable;
  /** Key, value, receptance and output projections of time mixing, `[d, d]`. */
  keyKernel: tf.Variable;
  valueKernel: tf.Variable;
  receptanceKernel: tf.Variable;
  outputKernel: tf.Variable;
  /** Layer norm before channel mixing, `[d]`. */
  channelNormScale: tf.Variable;
  channelNormShift: tf.Variable;
  /** Token-shift mixing of the channel-mixing key and receptance inputs, `[d]` each. */
  channelMixKey: tf.Variable;
  channelMixReceptance: tf.Variable;
  /** Channel-mixing key `[d, 4d]`, value `[4d, d]` and receptance `[d, d]` projections. */
  channelKeyKernel: tf.Variable;
  channelValueKernel: tf.Variable;
  channelReceptanceKernel: tf.Variable;
}

/**
 * Creates an RWKV-style recurrent model with weights drawn from `seed`.
 *
 * The item embedding goes through a layer norm and `layers` RWKV blocks, then a final layer
 * norm. Scores are dot products with the item embedding table, L2-normalised with
 * `l2NormalizeEmbeddings` (the default). Each block computes `x += TimeMix(LN(x))` and
 * `x += ChannelMix(LN(x))`. Both mix each token's input with the previous token's (token
 * shift): `mix(μ) = μ ⊙ x_t + (1 − μ) ⊙ x_{t−1}`. Time mixing computes `k, v, r` from such
 * mixes and per channel
 * `wkv_t = (Σ_{i<t} e^{−(t−1−i)w + k_i} v_i + e^{u + k_t} v_t) / (Σ_{i<t} e^{−(t−1−i)w + k_i} + e^{u + k_t})`,
 * with decay `w = exp(timeDecay) > 0` and bonus u, and outputs `(σ(r) ⊙ wkv) W_o`. Channel
 * mixing outputs `σ(r') ⊙ (max(k', 0)² W_v')` with a hidden width of 4d.
 *
 * The WKV sums run as a recurrence over a numerator a, a denominator b and their shared
 * exponent p (the numerically stable form: a and b are stored divided by e^p, and p is the
 * running maximum exponent). So the per-user state of a block is 5d float32 numbers: the two
 * token-shift inputs, a, b and p; see {@link RecurrentModel} for how it travels in a KVCache.
 * Prefill and append run the recurrence step by step. A padded batch from the empty state
 * (training, `forwardLast`, `forwardLastBatch`) computes WKV in a parallel form over time
 * instead, with the same result up to float32 rounding (`wkvParallel` in `wkv.ts`).
 *
 * @see Bo Peng et al., "RWKV: Reinventing RNNs for the Transformer Era", Findings of EMNLP 2023, arXiv:2305.13048.
 * @param config - `itemCount` is required; the defaults are {@link RWKV_DEFAULTS}.
 * @param seed - seed of the weight initialisation.
 * @throws RangeError naming an invalid configuration field.
 */
export function createRwkv(config: Partial<RwkvConfig> & { itemCount: number }, seed: number): SequentialModel {
  if (!Number.isFinite(seed)) {
    throw new RangeError(invalidArgument('createRwkv', 'seed', 'a finite number', String(seed)));
  }
  return new Rwkv(resolveRecurrentConfig('createRwkv', config, RWKV_DEFAULTS), seed);
}

/** RWKV-style model with a constant-size cached state; see {@link createRwkv}. */
export class Rwkv extends RecurrentModel {
  readonly kind = 'rwkv' as const;
  private readonly blocks: RwkvBlockWeights[];
  /** Item embedding table, `[nItems + 1, d]`; row 0 (padding) starts at zero. */
  private readonly itemTable: tf.Variable;
  /** Layer norm of the embeddings and after the last block, `[d]` each. */
  private readonly inputNorm: { scale: tf.Variable; shift: tf.Variable };
  private readonly finalNorm: { scale: tf.Variable; shift: tf.Variable };

  constructor(config: RwkvConfig, seed: number) {
    const d = config.hiddenSize;
    const inner = CHANNEL_MIX_RATIO * d;
    const factory = new VariableFactory(seed);
    const itemEmbedding = factory.make('item_embedding', [config.itemCount + 1, d], factory.itemEmbedding(d));
    const inputNorm = { scale: factory.make('input_norm/scale', [d], ones), shift: factory.make('input_norm/shift', [d], zeros) };
    const blocks: RwkvBlockWeights[] = [];
    for (let layer = 0; layer < config.layers; layer++) {
      // Per-channel ramps: lower blocks and lower channels decay fast, higher ones slowly.
      const depth = config.layers > 1 ? layer / (config.layers - 1) : 0; // 0 at the first block, 1 at the last
      const remaining = 1 - layer / config.layers; // 1 at the first block, 1/layers at the last
      const ramp = (exponent: number, offset = 0) => (values: Float32Array) => {
        for (let c = 0; c < d; c++) {
          values[c] = Math.pow(c / d, exponent) + offset;
        }
      };
      const prefix = `rwkv_${layer}/`;
      blocks.push({
        timeNormScale: factory.make(`${prefix}time_norm/scale`, [d], ones),
        timeNormShift: factory.make(`${prefix}time_norm/shift`, [d], zeros),
        timeMixKey: factory.make(`${prefix}time_mix/key`, [d], ramp(remaining)),
        timeMixValue: factory.make(`${prefix}time_mix/value`, [d], ramp(remaining, 0.3 * depth)),
        timeMixReceptance: factory.make(`${prefix}time_mix/receptance`, [d], ramp(0.5 * remaining)),
        timeDecay: factory.make(`${prefix}time_decay`, [d], (values) => {
          for (let c = 0; c < d; c++) {
            values[c] = -5 + 8 * Math.pow(c / (d - 1), 0.7 + 1.3 * depth);
          }
        }),
        timeFirst: factory.make(`${prefix}time_first`, [d], (values) => {
          for (let c = 0; c < d; c++) {
            values[c] = Math.log(0.3) + 0.5 * (((c + 1) % 3) - 1);
          }
        }),
        keyKernel: factory.make(`${prefix}key/kernel`, [d, d], factory.normal(Math.sqrt(1 / d))),
        valueKernel: factory.make(`${prefix}value/kernel`, [d, d], factory.normal(Math.sqrt(1 / d))),
        receptanceKernel: factory.make(`${prefix}receptance/kernel`, [d, d], factory.normal(Math.sqrt(1 / d))),
        outputKernel: factory.make(`${prefix}output/kernel`, [d, d], factory.normal(Math.sqrt(1 / d))),
        channelNormScale: factory.make(`${prefix}channel_norm/scale`, [d], ones),
        channelNormShift: factory.make(`${prefix}channel_norm/shift`, [d], zeros),
        channelMixKey: factory.make(`${prefix}channel_mix/key`, [d], ramp(remaining)),
        channelMixReceptance: factory.make(`${prefix}channel_mix/receptance`, [d], ramp(remaining)),
        channelKeyKernel: factory.make(`${prefix}channel_key/kernel`, [d, inner], factory.normal(Math.sqrt(1 / d))),
        channelValueKernel: factory.make(`${prefix}channel_value/kernel`, [inner, d], factory.normal(Math.sqrt(1 / inner))),
        channelReceptanceKernel: factory.make(`${prefix}channel_receptance/kernel`, [d, d], factory.normal(Math.sqrt(1 / d))),
      });
    }
    const finalNorm = { scale: factory.make('final_norm/scale', [d], ones), shift: factory.make('final_norm/shift', [d], zeros) };
    super(config, factory.variables, itemEmbedding);
    this.blocks = blocks;
    this.itemTable = itemEmbedding;
    this.inputNorm = inputNorm;
    this.finalNorm = finalNorm;
  }

  protected get label(): string {
    return 'Rwkv';
  }

  /** Per block: time-mixing shift, channel-mixing shift, a, b and p, d numbers each. */
  protected get stateWidth(): number {
    return 5 * this.config.hiddenSize;
  }

  /** Key width of the state head: the two token-shift inputs are its keys, and a, b and p its values. */
  protected get stateKeyWidth(): number {
    return 2 * this.config.hiddenSize;
  }

  protected initialState(): Float32Array {
    const d = this.config.hiddenSize;
    const state = new Float32Array(5 * d); // [shift, shift, a, b, p] × d
    state.fill(EMPTY_EXPONENT, 4 * d);
    return state;
  }

  protected embed(items: tf.Tensor1D): tf.Tensor2D {
    const rows = tf.gather(this.itemTable, items) as tf.Tensor2D; // [n, d]
    return layerNorm(rows, this.inputNorm.scale as tf.Tensor1D, this.inputNorm.shift as tf.Tensor1D, NORM_EPSILON);
  }

  protected finalOutput(x: tf.Tensor2D): tf.Tensor2D {
    const normed = layerNorm(x, this.finalNorm.scale as tf.Tensor1D, this.finalNorm.shift as tf.Tensor1D, NORM_EPSILON);
    return this.normalizesEmbeddings ? l2Normalize(normed) : normed;
  }

  /**
   * Runs one block. A padded step leaves a, b and p unchanged, and a padded token's input is
   * zero for the next token's shift, which equals the empty shift state. With `parallel`, WKV
   * runs in its parallel form when the keys pass `parallelWkvIsSafe`, and no state is returned.
   * Otherwise it runs the recurrence.
   * NOTE: the returned shift states are the last row's inputs, so they are right only for
   * unpadded or left-padded rows. Serving runs unpadded single rows, and training reads no state.
   */
  protected runLayer(layer: number, x: tf.Tensor3D, mask: tf.Tensor3D, state: tf.Tensor2D, random: SeededRandom | null, parallel: boolean): LayerRun {
    void random;
    const [batch, len, d] = x.shape;
    const block = this.blocks[layer];
    const stateParts = tf.split(state, 5, 1) as tf.Tensor2D[]; // 5 × [batch, d]

    // Time mixing: projections of every token, then WKV.
    const timeInput = this.normed(x, block.timeNormScale, block.timeNormShift); // [batch, len, d]
    const timePrevious = shifted(tf.mul(timeInput, mask) as tf.Tensor3D, stateParts[0]); // [batch, len, d]
    const keys = project(mixed(timeInput, timePrevious, block.timeMixKey), block.keyKernel); // [batch, len, d]
    const values = project(mixed(timeInput, timePrevious, block.timeMixValue), block.valueKernel); // [batch, len, d]
    const receptance = tf.sigmoid(project(mixed(timeInput, timePrevious, block.timeMixReceptance), block.receptanceKernel)) as tf.Tensor3D; // [batch, len, d]
    const timeDecay = block.timeDecay as tf.Tensor1D;
    const timeFirst = block.timeFirst as tf.Tensor1D;
    const inParallel = parallel && parallelWkvIsSafe(keys, timeFirst);
    const wkv = inParallel ? { output: wkvParallel(keys, values, mask, timeDecay, timeFirst), state: null } : wkvRecurrent(keys, values, mask, timeDecay, timeFirst, stateParts.slice(2)); // [batch, len, d], and a, b and p after the recurrence
    const attended = project(tf.mul(receptance, wkv.output) as tf.Tensor3D, block.outputKernel); // [batch, len, d]
    const afterTime = tf.add(x, attended) as tf.Tensor3D;

    // Channel mixing.
    const channelInput = this.normed(afterTime, block.channelNormScale, block.channelNormShift); // [batch, len, d]
    const channelPrevious = shifted(tf.mul(channelInput, mask) as tf.Tensor3D, stateParts[1]); // [batch, len, d]
    const hiddenKeys = tf.square(tf.relu(project(mixed(channelInput, channelPrevious, block.channelMixKey), block.channelKeyKernel))) as tf.Tensor3D; // [batch, len, 4d]
    const channelValues = project(hiddenKeys, block.channelValueKernel); // [batch, len, d]
    const channelGate = tf.sigmoid(project(mixed(channelInput, channelPrevious, block.channelMixReceptance), block.channelReceptanceKernel)); // [batch, len, d]
    const output = tf.add(afterTime, tf.mul(channelGate, channelValues)) as tf.Tensor3D;

    // New state: the last token's shift inputs and the WKV state, unless the parallel form ran.
    if (wkv.state === null) {
      return { output, state: null };
    }
    const lastRow = (tensor: tf.Tensor3D): tf.Tensor2D => tf.reshape(tf.slice(tensor, [0, len - 1, 0], [batch, 1, d]), [batch, d]);
    const nextState = tf.concat([lastRow(timeInput), lastRow(channelInput), ...wkv.state], 1) as tf.Tensor2D; // [batch, 5d]
    return { output, state: nextState };
  }

  /** Layer norm over the last axis of `[batch, len, d]`. */
  private normed(x: tf.Tensor3D, scale: tf.Variable, shift: tf.Variable): tf.Tensor3D {
    const [batch, len, d] = x.shape;
    const flat = tf.reshape(x, [batch * len, d]) as tf.Tensor2D;
    return tf.reshape(layerNorm(flat, scale as tf.Tensor1D, shift as tf.Tensor1D, NORM_EPSILON), [batch, len, d]);
  }
}

/** Previous token's input at every step, `[batch, len, d]`: `previous` at step 0, then `x` shifted by one. */
function shifted(x: tf.Tensor3D, previous: tf.Tensor2D): tf.Tensor3D {
  const [batch, len, d] = x.shape;
  const first = tf.reshape(previous, [batch, 1, d]) as tf.Tensor3D;
  return len === 1 ? first : (tf.concat([first, tf.slice(x, [0, 0, 0], [batch, len - 1, d])], 1) as tf.Tensor3D);
}

/** Token-shift mix `μ ⊙ x + (1 − μ) ⊙ previous`, `[batch, len, d]`. */
function mixed(x: tf.Tensor3D, previous: tf.Tensor3D, mix: tf.Variable): tf.Tensor3D {
  return tf.add(previous, tf.mul(mix, tf.sub(x, previous))) as tf.Tensor3D;
}

/** `x · kernel` over the last axis, `[batch, len, out]`. */
function project(x: tf.Tensor3D, kernel: tf.Variable): tf.Tensor3D {
  const [batch, len, width] = x.shape;
  const out = kernel.shape[1] as number;
  return tf.reshape(matMul2d(tf.reshape(x, [batch * len, width]) as tf.Tensor2D, kernel as tf.Tensor2D), [batch, len, out]);
}
