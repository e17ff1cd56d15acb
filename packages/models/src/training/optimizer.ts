import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../model/types';

/** Settings of {@link AdamW}. */
export interface AdamWOptions {
  learningRate: number;
  /** Decoupled weight decay: each step multiplies every weight by 1 - learningRate · weightDecay. */
  weightDecay: number;
  /** Default value: 0.9 */
  beta1?: number;
  /** Default value: 0.98 (generative-recommenders' setting) */
  beta2?: number;
  /** Default value: 1e-8 */
  epsilon?: number;
}

/** Optimizer moments and step count, as plain arrays for checkpoints. */
export interface AdamWState {
  step: number;
  /** First moments, one `[size]` array per variable in order. */
  firstMoments: Float32Array[];
  /** Second moments, one `[size]` array per variable in order. */
  secondMoments: Float32Array[];
}

/**
 * Adam with decoupled weight decay, written with plain tensor ops so that it runs on every
 * backend: `p ← p·(1 − lr·λ) − lr · m̂ / (√v̂ + ε)` with bias-corrected moments, the update
 * of torch.optim.AdamW.
 *
 * @see Ilya Loshchilov and Frank Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, arXiv:1711.05101.
 */
export class AdamW {
  private readonly first: tf.Variable[];
  private readonly second: tf.Variable[];
  private step = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly variables: readonly NamedVariable[],
    private readonly options: AdamWOptions,
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.98;
    this.epsilon = options.epsilon ?? 1e-8;
    this.first = variables.map((entry) => zeroVariable(entry.variable));
    this.second = variables.map((entry) => zeroVariable(entry.variable));
  }

  /**
   * Applies one update.
   *
   * @param gradients - one gradient per variable, same order and shapes; consumed (disposed).
   */
  apply(gradients: readonly tf.Tensor[]): void {
    this.step += 1;
    const { learningRate, weightDecay } = this.options;
    const firstCorrection = 1 - Math.pow(this.beta1, this.step);
    const secondCorrection = 1 - Math.pow(this.beta2, this.step);
    tf.tidy(() => {
      this.variables.forEach((entry, index) => {
        const gradient = gradients[index];
        const first = tf.add(tf.mul(this.first[index], this.beta1), tf.mul(gradient, 1 - this.beta1));
        const second = tf.add(tf.mul(this.second[index], this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const denominator = tf.add(tf.sqrt(tf.div(second, secondCorrection)), this.epsilon);
        const update = tf.div(tf.mul(first, learningRate / firstCorrection), denominator);
        const decayed = weightDecay === 0 ? entry.variable : tf.mul(entry.variable, 1 - learningRate * weightDecay);
        entry.variable.assign(tf.sub(decayed, update));
        this.first[index].assign(first);
        this.second[index].assign(second);
      });
    });
    gradients.forEach((gradient) => gradient.dispose());
  }

  /** Copies the moments and step count out, for a checkpoint. */
  getState(): AdamWState {
    return {
      step: this.step,
      firstMoments: this.first.map((moment) => moment.dataSync() as Float32Array),
      secondMoments: this.second.map((moment) => moment.dataSync() as Float32Array),
    };
  }

  /** Restores moments and step count written by {@link getState}. */
  setState(state: AdamWState): void {
    this.step = state.step;
    tf.tidy(() => {
      this.first.forEach((moment, index) => moment.assign(tf.tensor(state.firstMoments[index], moment.shape)));
      this.second.forEach((moment, index) => moment.assign(tf.tensor(state.secondMoments[index], moment.shape)));
    });
  }

  /** Releases the moment tensors. */
  dispose(): void {
    this.first.forEach((moment) => moment.dispose());
    this.second.forEach((moment) => moment.dispose());
  }
}

/**
 * Creates a non-trainable variable of zeros shaped like `like`. The zeros tensor is disposed
 * once the variable references its data, so creating an optimizer leaves no tensor behind.
 */
function zeroVariable(like: tf.Variable): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}
