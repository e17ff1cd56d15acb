import { createGru4Rec, createRwkv, initBackend, recurrentMacs, recurrentTokenMacs, type SequentialModel } from '../../src/index';
import type { TrainableModel } from '../../src/model/types';
import { expectClose } from '../tolerance';

// Independent float64 forward passes written from the model equations. Each counts the
// multiply-accumulates of its matrix products, to check the analytical MAC model.

const ITEMS = 30;
const D = 6;
const LAYERS = 2;

/** Counts the MACs of vector-matrix products. */
class Counter {
  macs = 0;

  /** `x · W` for `x` `[rows]` and `W` `[rows, cols]` row-major. */
  product(x: ArrayLike<number>, weights: Float32Array, rows: number, cols: number): number[] {
    const out = new Array<number>(cols).fill(0);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        out[j] += x[i] * weights[i * cols + j];
      }
    }
    this.macs += rows * cols;
    return out;
  }
}

function weightsOf(model: SequentialModel): Map<string, Float32Array> {
  return new Map((model as TrainableModel).variables.map((entry) => [entry.name, entry.variable.dataSync() as Float32Array]));
}

const sigmoid = (a: number): number => 1 / (1 + Math.exp(-a));

function layerNorm(x: number[], scale: Float32Array, shift: Float32Array, epsilon: number): number[] {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length;
  return x.map((value, i) => ((value - mean) / Math.sqrt(variance + epsilon)) * scale[i] + shift[i]);
}

/** GRU4Rec forward of a whole sequence; returns the last output. */
function gruReference(weights: Map<string, Float32Array>, items: Int32Array, counter: Counter): number[] {
  const table = weights.get('item_embedding') as Float32Array;
  let inputs = Array.from(items, (item) => Array.from(table.subarray(item * D, (item + 1) * D)));
  for (let layer = 0; layer < LAYERS; layer++) {
    const inputKernel = weights.get(`gru_${layer}/input/kernel`) as Float32Array;
    const inputBias = weights.get(`gru_${layer}/input/bias`) as Float32Array;
    const recurrent = weights.get(`gru_${layer}/recurrent/kernel`) as Float32Array; // [D, 3D]
    const gateKernel = Float32Array.from({ length: D * 2 * D }, (_, k) => recurrent[Math.floor(k / (2 * D)) * 3 * D + (k % (2 * D))]);
    const candidateKernel = Float32Array.from({ length: D * D }, (_, k) => recurrent[Math.floor(k / D) * 3 * D + 2 * D + (k % D)]);
    let h = new Array<number>(D).fill(0);
    const outputs: number[][] = [];
    for (const x of inputs) {
      const projected = counter.product(x, inputKernel, D, 3 * D).map((value, j) => value + inputBias[j]);
      const hidden = counter.product(h, gateKernel, D, 2 * D);
      const z = hidden.slice(0, D).map((value, j) => sigmoid(value + projected[j]));
      const r = hidden.slice(D).map((value, j) => sigmoid(value + projected[D + j]));
      const resetHidden = counter.product(h.map((value, j) => value * r[j]), candidateKernel, D, D);
      const n = resetHidden.map((value, j) => Math.tanh(value + projected[2 * D + j]));
      h = h.map((value, j) => (1 - z[j]) * value + z[j] * n[j]);
      outputs.push(h);
    }
    inputs = outputs;
  }
  return inputs[inputs.length - 1];
}

/** RWKV forward with the WKV sums taken directly (no running maximum); returns the last output. */
function rwkvReference(weights: Map<string, Float32Array>, items: Int32Array, counter: Counter): number[] {
  const w = (name: string): Float32Array => weights.get(name) as Float32Array;
  const table = w('item_embedding');
  let x = Array.from(items, (item) => layerNorm(Array.from(table.subarray(item * D, (item + 1) * D)), w('input_norm/scale'), w('input_norm/shift'), 1e-5));
  const mix = (current: number[], previous: number[], mu: Float32Array): number[] => current.map((value, j) => mu[j] * value + (1 - mu[j]) * previous[j]);
  for (let layer = 0; layer < LAYERS; layer++) {
    const p = `rwkv_${layer}/`;
    const timeInput = x.map((row) => layerNorm(row, w(`${p}time_norm/scale`), w(`${p}time_norm/shift`), 1e-5));
    const previous = (rows: number[][], t: number): number[] => (t === 0 ? new Array<number>(D).fill(0) : rows[t - 1]);
    const keys = timeInput.map((row, t) => counter.product(mix(row, previous(timeInput, t), w(`${p}time_mix/key`)), w(`${p}key/kernel`), D, D));
    const values = timeInput.map((row, t) => counter.product(mix(row, previous(timeInput, t), w(`${p}time_mix/value`)), w(`${p}value/kernel`), D, D));
    const receptance = timeInput.map((row, t) => counter.product(mix(row, previous(timeInput, t), w(`${p}time_mix/receptance`)), w(`${p}receptance/kernel`), D, D));
    const decay = Array.from(w(`${p}time_decay`), Math.exp);
    const bonus = w(`${p}time_first`);
    const afterTime = x.map((row, t) => {
      const wkv = new Array<number>(D).fill(0).map((_, c) => {
        let numerator = Math.exp(bonus[c] + keys[t][c]) * values[t][c];
        let denominator = Math.exp(bonus[c] + keys[t][c]);
        for (let i = 0; i < t; i++) {
          const weight = Math.exp(-(t - 1 - i) * decay[c] + keys[i][c]);
          numerator += weight * values[i][c];
          denominator += weight;
        }
        return numerator / denominator;
      });
      const attended = counter.product(wkv.map((value, c) => sigmoid(receptance[t][c]) * value), w(`${p}output/kernel`), D, D);
      return row.map((value, j) => value + attended[j]);
    });
    const channelInput = afterTime.map((row) => layerNorm(row, w(`${p}channel_norm/scale`), w(`${p}channel_norm/shift`), 1e-5));
    x = afterTime.map((row, t) => {
      const hiddenKeys = counter.product(mix(channelInput[t], previous(channelInput, t), w(`${p}channel_mix/key`)), w(`${p}channel_key/kernel`), D, 4 * D).map((value) => Math.max(value, 0) ** 2);
      const channelValues = counter.product(hiddenKeys, w(`${p}channel_value/kernel`), 4 * D, D);
      const gate = counter.product(mix(channelInput[t], previous(channelInput, t), w(`${p}channel_mix/receptance`)), w(`${p}channel_receptance/kernel`), D, D);
      return row.map((value, j) => value + sigmoid(gate[j]) * channelValues[j]);
    });
  }
  return layerNorm(x[x.length - 1], w('final_norm/scale'), w('final_norm/shift'), 1e-5);
}

/** Full-catalogue scoring with counted MACs: `itemCount · d`. */
function scoreReference(weights: Map<string, Float32Array>, hidden: number[], counter: Counter): void {
  const table = weights.get('item_embedding') as Float32Array;
  for (let item = 1; item <= ITEMS; item++) {
    counter.product(hidden, table.subarray(item * D, (item + 1) * D), D, 1);
  }
}

const cases: [('gru4rec' | 'rwkv'), () => SequentialModel, typeof gruReference][] = [
  ['gru4rec', () => createGru4Rec({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS, l2NormalizeEmbeddings: false }, 9), gruReference],
  ['rwkv', () => createRwkv({ itemCount: ITEMS, hiddenSize: D, layers: LAYERS, l2NormalizeEmbeddings: false }, 9), rwkvReference],
];

describe.each(cases)('%s against a float64 reference', (kind, create, reference) => {
  const history = Int32Array.from({ length: 12 }, (_, i) => ((i * 5) % ITEMS) + 1);
  let model: SequentialModel;
  let weights: Map<string, Float32Array>;

  beforeAll(async () => {
    await initBackend('cpu');
    model = create();
    weights = weightsOf(model);
  });

  afterAll(() => model.dispose());

  it('forward matches the reference', () => {
    const expected = reference(weights, history, new Counter());
    expectClose(model.forwardLast(history), expected, 1e-4);
  });

  it('counted MACs match recurrentMacs', () => {
    // The uncached request runs history and request from the start, then scores the catalogue.
    const counter = new Counter();
    const hidden = reference(weights, history, counter);
    scoreReference(weights, hidden, counter);
    const config = { layers: LAYERS, hiddenSize: D, itemCount: ITEMS };
    const analytical = recurrentMacs(kind, config, { historyLength: 11, requestLength: 1 });
    expect(Math.abs(analytical.withoutCache - counter.macs)).toBeLessThanOrEqual(0.01 * counter.macs);
    // The cached request costs one token and the scoring: GRU 2 · 6 · 36 + 30 · 6, RWKV 2 · 13 · 36 + 30 · 6.
    expect(analytical.withCache).toBe(kind === 'gru4rec' ? 2 * 6 * 36 + 180 : 2 * 13 * 36 + 180);
    expect(recurrentTokenMacs(kind, config) * 12 + 180).toBe(analytical.withoutCache);
  });
});

describe('recurrentMacs', () => {
  it('rejects an unknown kind and a negative length', () => {
    const config = { layers: 1, hiddenSize: 4, itemCount: 10 };
    expect(() => recurrentMacs('lstm' as 'rwkv', config, { historyLength: 1, requestLength: 1 })).toThrow(RangeError);
    expect(() => recurrentMacs('rwkv', config, { historyLength: -1, requestLength: 1 })).toThrow("recurrentMacs: invalid request.historyLength: expected an integer ≥ 0, received -1.");
  });
});
