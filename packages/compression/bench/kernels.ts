// Measures the throughput of the gpu.js kernels and their TypeScript references on the
// same inputs in one run. Run from the repository root:
//   npx tsx packages/compression/bench/kernels.ts
// Bytes counted per call: every float32 or byte read from the inputs plus every one written.
import { performance } from 'node:perf_hooks';
import {
  accumulateScoresReference,
  createSeededRandom,
  dequantizeReference,
  GpuKernels,
  groupParameters,
  groupRangesReference,
  quantizeCodesReference,
  type QuantizationOptions,
} from '../src/index';

const rows = 4096;
const cols = 256;
const queries = 64;
const len = 16384;
const warmups = 3;
const repeats = 10;
const options: QuantizationOptions = { bits: 4, groupSize: 32, axis: 'per-token' };

/** Times a call: the first call alone, then the median of `repeats` calls after `warmups`. */
function time(run: () => unknown): { firstMs: number; medianMs: number } {
  const start = performance.now();
  run();
  const firstMs = performance.now() - start;
  for (let i = 1; i < warmups; i++) {
    run();
  }
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const begin = performance.now();
    run();
    samples.push(performance.now() - begin);
  }
  samples.sort((a, b) => a - b);
  return { firstMs, medianMs: samples[Math.floor(repeats / 2)] };
}

function main(): void {
  const random = createSeededRandom(1);
  const data = Float32Array.from({ length: rows * cols }, () => random() * 4 - 2); // [rows, cols]
  const block = Float32Array.from({ length: queries * len }, () => random()); // [queries, len]
  const kernels = new GpuKernels();
  const parameters = groupParameters(groupRangesReference(data, rows, cols, options), options.bits);
  const codes = quantizeCodesReference(data, cols, options, parameters);
  const groups = parameters.zeros.length;
  const n = rows * cols;

  // Bytes moved per call by each operation.
  const rangeBytes = 4 * n + 2 * 4 * groups; // read data, write minimum and maximum
  const quantizeBytes = 4 * n + 2 * 4 * groups + n; // read data, zero points and scales, write one byte per code
  const dequantizeBytes = n + 2 * 4 * groups + 4 * n; // read codes, zero points and scales, write float32
  const accumulateBytes = 4 * queries * len + 4 * len; // read the block, write the sums

  const cases: { name: string; bytes: number; run: () => unknown }[] = [
    { name: 'group ranges (kernel)', bytes: rangeBytes, run: () => kernels.groupRanges(data, rows, cols, options) },
    { name: 'group ranges (reference)', bytes: rangeBytes, run: () => groupRangesReference(data, rows, cols, options) },
    { name: 'quantise codes (kernel)', bytes: quantizeBytes, run: () => kernels.quantizeCodes(data, cols, options, parameters) },
    { name: 'quantise codes (reference)', bytes: quantizeBytes, run: () => quantizeCodesReference(data, cols, options, parameters) },
    { name: 'dequantise (kernel)', bytes: dequantizeBytes, run: () => kernels.dequantize(codes, cols, options, parameters) },
    { name: 'dequantise (reference)', bytes: dequantizeBytes, run: () => dequantizeReference(codes, cols, options, parameters) },
    { name: 'accumulate scores (kernel)', bytes: accumulateBytes, run: () => kernels.accumulateScores(block, queries, len) },
    { name: 'accumulate scores (reference)', bytes: accumulateBytes, run: () => accumulateScoresReference(block, queries, len) },
  ];

  process.stdout.write(`gpu.js mode: ${kernels.mode}; quantisation block [${rows}, ${cols}], ${options.bits} bits, groups of ${options.groupSize} ${options.axis}; scores block [${queries}, ${len}]\n`);
  process.stdout.write(`${'operation'.padEnd(32)}${'first call ms'.padStart(15)}${'median ms'.padStart(12)}${'GB/s'.padStart(10)}\n`);
  for (const { name, bytes, run } of cases) {
    const { firstMs, medianMs } = time(run);
    const gigabytesPerSecond = bytes / (medianMs / 1000) / 1e9;
    process.stdout.write(`${name.padEnd(32)}${firstMs.toFixed(2).padStart(15)}${medianMs.toFixed(2).padStart(12)}${gigabytesPerSecond.toFixed(2).padStart(10)}\n`);
  }
  kernels.destroy();
}

main();
