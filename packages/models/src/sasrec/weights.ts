import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../model/types';
import { SeededRandom } from '../random';
import { kvHeadsOf, latentSizeOf } from '../variants/head-sharing';
import type { SasRecConfig } from './config';

/** Trainable tensors of one SASRec block. */
export interface SasRecBlockWeights {
  /** Layer norm before attention: scale and shift, `[d]`. */
  attentionNormScale: tf.Variable;
  attentionNormShift: tf.Variable;
  /**
   * Query, key, value and output projections, `[d, d]`, with biases `[d]`. With `kvHeads`
   * the key and value projections are `[d, kvHeads · dHead]`, and with `kvLatentSize` r they
   * project up from the latent, `[r, kvHeads · dHead]`.
   */
  queryKernel: tf.Variable;
  queryBias: tf.Variable;
  keyKernel: tf.Variable;
  keyBias: tf.Variable;
  valueKernel: tf.Variable;
  valueBias: tf.Variable;
  outputKernel: tf.Variable;
  outputBias: tf.Variable;
  /** Layer norm before the feed-forward network, `[d]`. */
  ffnNormScale: tf.Variable;
  ffnNormShift: tf.Variable;
  /** Point-wise feed-forward network, two `[d, d]` kernels with biases `[d]`. */
  ffnInnerKernel: tf.Variable;
  ffnInnerBias: tf.Variable;
  ffnOuterKernel: tf.Variable;
  ffnOuterBias: tf.Variable;
  /** Down-projection to the multi-head latent attention latent, `[d, r]`; `null` without `kvLatentSize`. */
  kvDownKernel: tf.Variable | null;
  /** Causal Linformer projections E of the keys and F of the values, `[projectedRows, blockSize]`; `null` without `linformer`. */
  linformerKeyKernel: tf.Variable | null;
  linformerValueKernel: tf.Variable | null;
}

/** Trainable tensors of a SASRec model. */
export interface SasRecWeights {
  /** Item embedding table, `[nItems + 1, d]`; row 0 (padding) starts at zero. */
  itemEmbedding: tf.Variable;
  /** Learned absolute position embedding, `[maxLength, d]`. */
  positionEmbedding: tf.Variable;
  blocks: SasRecBlockWeights[];
  /** Layer norm after the last block, `[d]`. */
  finalNormScale: tf.Variable;
  finalNormShift: tf.Variable;
  /** Activation Beacon embedding, `[beaconsPerChunk, d]`; `null` without `beacon`. */
  beaconEmbedding: tf.Variable | null;
}

/**
 * Creates SASRec's weights from a seed. Item embeddings are normal with standard deviation
 * 0.02, truncated at two deviations, and position embeddings the same with deviation
 * sqrt(1/d). Projection kernels are Xavier-normal (std sqrt(2 / (fanIn + fanOut))), biases
 * zero and layer-norm scales one.
 *
 * @returns the weights and the same tensors as a named list in checkpoint order.
 */
export function createSasRecWeights(config: SasRecConfig, seed: number): { weights: SasRecWeights; variables: NamedVariable[] } {
  const random = new SeededRandom(seed);
  const d = config.hiddenSize;
  const variables: NamedVariable[] = [];
  const make = (name: string, shape: number[], fill: (values: Float32Array) => void): tf.Variable => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(values);
    const variable = tf.variable(tf.tensor(values, shape, 'float32'), true);
    variables.push({ name, variable });
    return variable;
  };
  const truncated = (std: number) => (values: Float32Array) => {
    for (let i = 0; i < values.length; i++) {
      values[i] = random.truncatedNormal(std);
    }
  };
  const xavier = normalFill(random, Math.sqrt(2 / (d + d)));
  const latent = latentSizeOf(config);
  const kvInput = latent ?? d;
  const kvWidth = kvHeadsOf(config) * (d / config.heads);
  const kvXavier = normalFill(random, Math.sqrt(2 / (kvInput + kvWidth)));
  const zeros = (): void => undefined;
  const ones = (values: Float32Array): void => {
    values.fill(1);
  };

  // Embeddings; the padding row starts at zero.
  const itemEmbedding = make('item_embedding', [config.itemCount + 1, d], (values) => {
    truncated(0.02)(values);
    values.fill(0, 0, d);
  });
  const positionEmbedding = make('position_embedding', [config.maxLength, d], truncated(Math.sqrt(1 / d)));

  // Blocks.
  const blocks: SasRecBlockWeights[] = [];
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `block_${layer}/`;
    blocks.push({
      attentionNormScale: make(`${prefix}attention_norm/scale`, [d], ones),
      attentionNormShift: make(`${prefix}attention_norm/shift`, [d], zeros),
      queryKernel: make(`${prefix}query/kernel`, [d, d], xavier),
      queryBias: make(`${prefix}query/bias`, [d], zeros),
      kvDownKernel: latent === null ? null : make(`${prefix}kv_down/kernel`, [d, latent], normalFill(random, Math.sqrt(2 / (d + latent)))),
      keyKernel: make(`${prefix}key/kernel`, [kvInput, kvWidth], kvXavier),
      keyBias: make(`${prefix}key/bias`, [kvWidth], zeros),
      valueKernel: make(`${prefix}value/kernel`, [kvInput, kvWidth], kvXavier),
      valueBias: make(`${prefix}value/bias`, [kvWidth], zeros),
      outputKernel: make(`${prefix}output/kernel`, [d, d], xavier),
      outputBias: make(`${prefix}output/bias`, [d], zeros),
      ffnNormScale: make(`${prefix}ffn_norm/scale`, [d], ones),
      ffnNormShift: make(`${prefix}ffn_norm/shift`, [d], zeros),
      ffnInnerKernel: make(`${prefix}ffn_inner/kernel`, [d, d], xavier),
      ffnInnerBias: make(`${prefix}ffn_inner/bias`, [d], zeros),
      ffnOuterKernel: make(`${prefix}ffn_outer/kernel`, [d, d], xavier),
      ffnOuterBias: make(`${prefix}ffn_outer/bias`, [d], zeros),
      linformerKeyKernel: null,
      linformerValueKernel: null,
    });
  }

  // Final layer norm.
  const finalNormScale = make('final_norm/scale', [d], ones);
  const finalNormShift = make('final_norm/shift', [d], zeros);

  // Beacon embedding, drawn last so that the other weights do not depend on the beacon setting.
  const beaconEmbedding = config.beacon === undefined ? null : make('beacon_embedding', [config.beacon.beaconsPerChunk, d], truncated(Math.sqrt(1 / d)));

  // Linformer projections, drawn last for the same reason: Xavier-normal over [projectedRows, blockSize].
  if (config.linformer !== undefined) {
    const { blockSize, projectedRows } = config.linformer;
    const projectionFill = normalFill(random, Math.sqrt(2 / (projectedRows + blockSize)));
    blocks.forEach((block, layer) => {
      block.linformerKeyKernel = make(`block_${layer}/linformer_key/kernel`, [projectedRows, blockSize], projectionFill);
      block.linformerValueKernel = make(`block_${layer}/linformer_value/kernel`, [projectedRows, blockSize], projectionFill);
    });
  }
  return { weights: { itemEmbedding, positionEmbedding, blocks, finalNormScale, finalNormShift, beaconEmbedding }, variables };
}

function normalFill(random: SeededRandom, std: number): (values: Float32Array) => void {
  return (values) => {
    for (let i = 0; i < values.length; i++) {
      values[i] = random.normal() * std;
    }
  };
}
