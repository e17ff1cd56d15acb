import type { GPU, IKernelFunctionThis, IKernelRunShortcut } from 'gpu.js';
import { invalidArgument, invalidShape } from '../messages';
import { quantizationGroupCount, QuantizedStorage, type QuantizationOptions } from '../storage/quantized-storage';
import { groupParameters, packCodes, type GroupParameters, type GroupRanges } from './reference';

/** Compile-time constants of the group kernels. */
interface GroupConstants {
  [key: string]: number;
  rows: number;
  cols: number;
  groupSize: number;
  groupsPerRow: number;
  perToken: number;
  levels: number;
}

/** Compile-time constants of the score kernel. */
interface ScoreConstants {
  [key: string]: number;
  queries: number;
  len: number;
}

type GroupThis = IKernelFunctionThis<GroupConstants>;

// Kernel bodies. gpu.js translates their source, so they use only arithmetic, Math, loops
// with constant bounds and `this.thread` / `this.constants`.

function groupMinimumKernel(this: GroupThis, data: number[]): number {
  const g = this.thread.x;
  let first = 0;
  let stride = 1;
  let limit = 0;
  if (this.constants.perToken === 1) {
    const column = (g % this.constants.groupsPerRow) * this.constants.groupSize;
    first = Math.floor(g / this.constants.groupsPerRow) * this.constants.cols + column;
    limit = Math.min(this.constants.groupSize, this.constants.cols - column);
  } else {
    const row = Math.floor(g / this.constants.cols) * this.constants.groupSize;
    first = row * this.constants.cols + (g % this.constants.cols);
    stride = this.constants.cols;
    limit = Math.min(this.constants.groupSize, this.constants.rows - row);
  }
  let result = data[first];
  for (let k = 1; k < this.constants.groupSize; k++) {
    if (k < limit) {
      result = Math.min(result, data[first + k * stride]);
    }
  }
  return result;
}

function groupMaximumKernel(this: GroupThis, data: number[]): number {
  const g = this.thread.x;
  let first = 0;
  let stride = 1;
  let limit = 0;
  if (this.constants.perToken === 1) {
    const column = (g % this.constants.groupsPerRow) * this.constants.groupSize;
    first = Math.floor(g / this.constants.groupsPerRow) * this.constants.cols + column;
    limit = Math.min(this.constants.groupSize, this.constants.cols - column);
  } else {
    const row = Math.floor(g / this.constants.cols) * this.constants.groupSize;
    first = row * this.constants.cols + (g % this.constants.cols);
    stride = this.constants.cols;
    limit = Math.min(this.constants.groupSize, this.constants.rows - row);
  }
  let result = data[first];
  for (let k = 1; k < this.constants.groupSize; k++) {
    if (k < limit) {
      result = Math.max(result, data[first + k * stride]);
    }
  }
  return result;
}

function quantizeKernel(this: GroupThis, data: number[], zeros: number[], scales: number[]): number {
  const i = this.thread.x;
  let g = 0;
  if (this.constants.perToken === 1) {
    g = Math.floor(i / this.constants.cols) * this.constants.groupsPerRow + Math.floor((i % this.constants.cols) / this.constants.groupSize);
  } else {
    g = Math.floor(Math.floor(i / this.constants.cols) / this.constants.groupSize) * this.constants.cols + (i % this.constants.cols);
  }
  const scale = scales[g];
  if (scale === 0) {
    return 0;
  }
  return Math.min(this.constants.levels, Math.max(0, Math.round((data[i] - zeros[g]) / scale)));
}

function dequantizeKernel(this: GroupThis, codes: number[], zeros: number[], scales: number[]): number {
  const i = this.thread.x;
  let g = 0;
  if (this.constants.perToken === 1) {
    g = Math.floor(i / this.constants.cols) * this.constants.groupsPerRow + Math.floor((i % this.constants.cols) / this.constants.groupSize);
  } else {
    g = Math.floor(Math.floor(i / this.constants.cols) / this.constants.groupSize) * this.constants.cols + (i % this.constants.cols);
  }
  return zeros[g] + codes[i] * scales[g];
}

function accumulateKernel(this: IKernelFunctionThis<ScoreConstants>, block: number[]): number {
  let sum = 0;
  for (let q = 0; q < this.constants.queries; q++) {
    sum += block[q * this.constants.len + this.thread.x];
  }
  return sum;
}

/**
 * gpu.js versions of the quantisation and score kernels, with the same inputs and outputs as
 * their plain TypeScript references in `reference.ts`.
 *
 * gpu.js picks its backend when the instance is created. In Node 20 without a GL context it
 * runs its WebAssembly mode (`webasm`), which computes in float32. A code can then differ by
 * one from the float64 reference when `(x − zero) / scale` lies within float32 rounding of a
 * half-integer, and sums differ in the last bits. Kernels are compiled on first use for each
 * shape and group layout, then reused; compilation takes tens of milliseconds.
 *
 * gpu.js is loaded when the first instance is created, not when the package is imported.
 *
 * @example
 * const kernels = new GpuKernels();
 * const storage = kernels.encode(keys, 200, 64, { bits: 4, groupSize: 32, axis: 'per-token' });
 * kernels.destroy();
 */
export class GpuKernels {
  private readonly gpu: GPU;
  private readonly kernels = new Map<string, IKernelRunShortcut>();

  constructor() {
    // Loaded here so that importing the package does not load gpu.js.
    const { GPU: GpuConstructor } = require('gpu.js') as typeof import('gpu.js');
    this.gpu = new GpuConstructor();
  }

  /** Backend that gpu.js chose, for example `webasm`. */
  get mode(): string {
    return String(this.gpu.mode);
  }

  /**
   * Computes the minimum and maximum of every quantisation group.
   *
   * @param data - `[rows, cols]` row-major.
   * @throws RangeError when `data` does not hold `rows · cols` numbers.
   */
  groupRanges(data: Float32Array, rows: number, cols: number, options: QuantizationOptions): GroupRanges {
    if (data.length !== rows * cols) {
      throw new RangeError(invalidShape('GpuKernels.groupRanges', 'data', [rows, cols], data.length));
    }
    const groups = quantizationGroupCount(rows, cols, options);
    if (groups === 0) {
      return { minimum: new Float32Array(0), maximum: new Float32Array(0) };
    }
    const constants = groupConstants(rows, cols, options);
    const minimum = this.kernel('minimum', groupMinimumKernel, constants, groups)(data) as Float32Array; // [groups]
    const maximum = this.kernel('maximum', groupMaximumKernel, constants, groups)(data) as Float32Array; // [groups]
    return { minimum: Float32Array.from(minimum), maximum: Float32Array.from(maximum) };
  }

  /**
   * Computes the code of every number, as `quantizeCodesReference` does.
   *
   * @param data - `[rows, cols]` row-major.
   * @returns `[rows · cols]` codes, one byte each.
   */
  quantizeCodes(data: Float32Array, cols: number, options: QuantizationOptions, parameters: GroupParameters): Uint8Array {
    if (data.length === 0) {
      return new Uint8Array(0);
    }
    const constants = groupConstants(data.length / cols, cols, options);
    const codes = this.kernel('quantize', quantizeKernel, constants, data.length)(data, parameters.zeroValues, parameters.scaleValues) as Float32Array;
    return Uint8Array.from(codes);
  }

  /**
   * Decodes codes: `zero + code · scale` per number, as `dequantizeReference` does.
   *
   * @param codes - `[rows · cols]` codes, one byte each.
   * @returns `[rows, cols]` row-major.
   */
  dequantize(codes: Uint8Array, cols: number, options: QuantizationOptions, parameters: GroupParameters): Float32Array {
    if (codes.length === 0) {
      return new Float32Array(0);
    }
    const constants = groupConstants(codes.length / cols, cols, options);
    const values = this.kernel('dequantize', dequantizeKernel, constants, codes.length)(Float32Array.from(codes), parameters.zeroValues, parameters.scaleValues) as Float32Array;
    return Float32Array.from(values);
  }

  /**
   * Sums a block of attention weights along its queries, as `accumulateScoresReference` does.
   *
   * @param block - `[queries, len]` row-major.
   * @returns `[len]`.
   * @throws RangeError when `block` does not hold `queries · len` numbers.
   */
  accumulateScores(block: Float32Array, queries: number, len: number): Float32Array {
    if (block.length !== queries * len) {
      throw new RangeError(invalidShape('GpuKernels.accumulateScores', 'block', [queries, len], block.length));
    }
    if (len === 0) {
      return new Float32Array(0);
    }
    const constants: ScoreConstants = { queries, len };
    return Float32Array.from(this.kernel('accumulate', accumulateKernel, constants, len)(block) as Float32Array);
  }

  /**
   * Quantises a block with the kernels into a `QuantizedStorage`: ranges on the kernel, zero
   * points and scales in TypeScript, codes on the kernel, packing in TypeScript.
   *
   * @param data - `[rows, cols]` row-major.
   * @throws RangeError when a number is not finite or a group's range does not fit in float16.
   */
  encode(data: Float32Array, rows: number, cols: number, options: QuantizationOptions): QuantizedStorage {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new RangeError(invalidArgument('GpuKernels.encode', 'data', 'finite numbers', `${data[i]} at index ${i}`));
      }
    }
    const parameters = groupParameters(this.groupRanges(data, rows, cols, options), options.bits);
    for (let g = 0; g < parameters.zeros.length; g++) {
      if (!Number.isFinite(parameters.zeroValues[g]) || !Number.isFinite(parameters.scaleValues[g])) {
        throw new RangeError(invalidArgument('GpuKernels.encode', 'data', 'groups whose minimum and scale fit in float16', `group ${g}`));
      }
    }
    const codes = this.quantizeCodes(data, cols, options, parameters);
    return new QuantizedStorage(packCodes(codes, options.bits), parameters.scales, parameters.zeros, rows, cols, options);
  }

  /** Releases the kernels and the gpu.js instance. */
  destroy(): void {
    for (const kernel of this.kernels.values()) {
      void kernel.destroy();
    }
    this.kernels.clear();
    void this.gpu.destroy();
  }

  private kernel(name: string, source: (...args: never[]) => number, constants: Record<string, number>, outputLength: number): IKernelRunShortcut {
    const key = `${name}:${JSON.stringify(constants)}`;
    let kernel = this.kernels.get(key);
    if (kernel === undefined) {
      kernel = this.gpu.createKernel(source as unknown as string, { constants, dynamicOutput: true, dynamicArguments: true, output: [outputLength] });
      this.kernels.set(key, kernel);
    }
    kernel.setOutput([outputLength]);
    return kernel;
  }
}

function groupConstants(rows: number, cols: number, options: QuantizationOptions): GroupConstants {
  return {
    rows,
    cols,
    groupSize: options.groupSize,
    groupsPerRow: Math.ceil(cols / options.groupSize),
    perToken: options.axis === 'per-token' ? 1 : 0,
    levels: 2 ** options.bits - 1,
  };
}
