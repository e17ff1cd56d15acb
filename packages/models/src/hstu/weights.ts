import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../model/types';
import { SeededRandom } from '../random';
import { kvHeadsOf, latentSizeOf } from '../variants/head-sharing';
import type { HstuConfig } from './config';

/** Trainable tensors of one HSTU layer. */
export interface HstuLayerWeights {
  /**
   * Fused projection to U, V, Q, K, `[d, heads · (2 · dv + 2 · dqk)]` (no bias). With
   * `kvHeads` the V and K column blocks have `kvHeads` heads; with `kvLatentSize` the kernel
   * contains U and Q only, `[d, heads · (dv + dqk)]`; with `lsh` it contains U, V and Q,
   * `[d, heads · (2 · dv + dqk)]`, because the keys are the normalised queries.
   */
  projectionKernel: tf.Variable;
  /** Down-projection to the multi-head latent attention latent, `[d, r]`; `null` without `kvLatentSize`. */
  kvDownKernel: tf.Variable | null;
  /** Up-projection from the latent to V and K, `[r, kvHeads · (dv + dqk)]`; `null` without `kvLatentSize`. */
  kvUpKernel: tf.Variable | null;
  /** Output projection, `[heads · dv, d]`, with bias `[d]`. */
  outputKernel: tf.Variable;
  outputBias: tf.Variable;
  /** Attention bias per relative position i − j, `[maxLength]`. */
  positionBias: tf.Variable;
  /** Attention bias per logarithmic time bucket of t_i − t_j, `[timeBuckets + 1]`. */
  timeBias: tf.Variable;
  /** Causal Linformer projections E of the keys and F of the values, `[projectedRows, blockSize]`; `null` without `linformer`. */
  linformerKeyKernel: tf.Variable | null;
  linformerValueKernel: tf.Variable | null;
}

/** Trainable tensors of an HSTU model. */
export interface HstuWeights {
  /** Item embedding table, `[nItems + 1, d]`; row 0 (padding) starts at zero. */
  itemEmbedding: tf.Variable;
  /** Learned absolute position embedding, `[maxLength, d]`. */
  positionEmbedding: tf.Variable;
  layers: HstuLayerWeights[];
  /** Activation Beacon embedding, `[beaconsPerChunk, d]`; `null` without `beacon`. */
  beaconEmbedding: tf.Variable | null;
}

/**
 * Creates HSTU's weights from a seed. Item embeddings are normal with standard deviation
 * 0.02, truncated at two deviations, and position embeddings the same with deviation
 * sqrt(1/d). The fused projection and the attention biases are normal with deviation 0.02,
 * output kernels Xavier-normal, and output biases zero.
 *
 * @returns the weights and the same tensors as a named list in checkpoint order.
 */
export function createHstuWeights(config: HstuConfig, seed: number): { weights: HstuWeights; variables: NamedVariable[] } {
  const random = new SeededRandom(seed);
  const { hiddenSize: d, heads, queryKeySize: dqk, valueSize: dv } = config;
  const variables: NamedVariable[] = [];
  const make = (name: string, shape: number[], fill: (values: Float32Array) => void): tf.Variable => {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(values);
    const variable = tf.variable(tf.tensor(values, shape, 'float32'), true);
    variables.push({ name, variable });
    return variable;
  };
  const normal = (std: number, truncate: boolean) => (values: Float32Array) => {
    for (let i = 0; i < values.length; i++) {
      values[i] = truncate ? random.truncatedNormal(std) : random.normal() * std;
    }
  };

  // Embeddings; the padding row starts at zero.
  const itemEmbedding = make('item_embedding', [config.itemCount + 1, d], (values) => {
    normal(0.02, true)(values);
    values.fill(0, 0, d);
  });
  const positionEmbedding = make('position_embedding', [config.maxLength, d], normal(Math.sqrt(1 / d), true));

  // Layers.
  const layers: HstuLayerWeights[] = [];
  const kvHeads = kvHeadsOf(config);
  const latent = latentSizeOf(config);
  const keyWidth = config.lsh === undefined ? kvHeads * dqk : 0;
  const projectionWidth = heads * (dv + dqk) + (latent === null ? kvHeads * dv + keyWidth : 0);
  for (let layer = 0; layer < config.layers; layer++) {
    const prefix = `layer_${layer}/`;
    layers.push({
      projectionKernel: make(`${prefix}uvqk/kernel`, [d, projectionWidth], normal(0.02, false)),
      kvDownKernel: latent === null ? null : make(`${prefix}kv_down/kernel`, [d, latent], normal(0.02, false)),
      kvUpKernel: latent === null ? null : make(`${prefix}kv_up/kernel`, [latent, kvHeads * (dv + dqk)], normal(0.02, false)),
      outputKernel: make(`${prefix}output/kernel`, [heads * dv, d], normal(Math.sqrt(2 / (heads * dv + d)), false)),
      outputBias: make(`${prefix}output/bias`, [d], () => undefined),
      positionBias: make(`${prefix}relative_position_bias`, [config.maxLength], normal(0.02, false)),
      timeBias: make(`${prefix}time_bucket_bias`, [config.timeBuckets + 1], normal(0.02, false)),
      linformerKeyKernel: null,
      linformerValueKernel: null,
    });
  }

  // Beacon embedding, drawn after the layers so that the other weights do not depend on the beacon setting.
  const beaconEmbedding = config.beacon === undefined ? null : make('beacon_embedding', [config.beacon.beaconsPerChunk, d], normal(Math.sqrt(1 / d), true));

  // Linformer projections, drawn last for the same reason: Xavier-normal over [projectedRows, blockSize].
  if (config.linformer !== undefined) {
    const { blockSize, projectedRows } = config.linformer;
    layers.forEach((layer, index) => {
      layer.linformerKeyKernel = make(`layer_${index}/linformer_key/kernel`, [projectedRows, blockSize], normal(Math.sqrt(2 / (projectedRows + blockSize)), false));
      layer.linformerValueKernel = make(`layer_${index}/linformer_value/kernel`, [projectedRows, blockSize], normal(Math.sqrt(2 / (projectedRows + blockSize)), false));
    });
  }
  return { weights: { itemEmbedding, positionEmbedding, layers, beaconEmbedding }, variables };
}
