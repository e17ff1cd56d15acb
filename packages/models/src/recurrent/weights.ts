import * as tf from '@tensorflow/tfjs';
import type { NamedVariable } from '../model/types';
import { SeededRandom } from '../random';

/** Creates named variables in checkpoint order from values drawn by one seeded generator. */
export class VariableFactory {
  readonly variables: NamedVariable[] = [];
  readonly random: SeededRandom;

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }

  /** Creates a trainable variable of `shape` whose values `fill` writes (all zero when it writes nothing). */
  make(name: string, shape: number[], fill: (values: Float32Array) => void): tf.Variable {
    const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
    fill(values);
    const variable = tf.variable(tf.tensor(values, shape, 'float32'), true);
    this.variables.push({ name, variable });
    return variable;
  }

  /** Returns a fill of normal values with standard deviation `std`. */
  normal(std: number): (values: Float32Array) => void {
    return (values) => {
      for (let i = 0; i < values.length; i++) {
        values[i] = this.random.normal() * std;
      }
    };
  }

  /** Returns a fill of the item embedding: normal with deviation 0.02 truncated at two deviations, padding row `[0, d)` zero. */
  itemEmbedding(d: number): (values: Float32Array) => void {
    return (values) => {
      for (let i = d; i < values.length; i++) {
        values[i] = this.random.truncatedNormal(0.02);
      }
    };
  }
}

/** Fill that leaves every value zero. */
export function zeros(): void {
  return undefined;
}

/** Fill that sets every value to one. */
export function ones(values: Float32Array): void {
  values.fill(1);
}
