export * from './kv-cache';
export * from './storage/tensor-storage';
export * from './storage/float32-storage';
export * from './storage/concat-storage';
export * from './storage/float16-storage';
export * from './storage/quantized-storage';
export * from './storage/low-rank-storage';
export * from './storage/shared-basis-storage';
export { FLOAT16_MAX, float16BitsToNumber, float32ToFloat16Bits, roundToFloat16 } from './storage/float16';
export { formatShape } from './messages';
export * from './logger';
export * from './strategy';
export { keptTokenCount, fractionOfTokens } from './budget';
export { createSeededRandom } from './prng';
export { selectTopK } from './top-k';
export * from './streaming';
export { ScoreBasedStrategy, protectTokens, layerLengths, type TokenBudgetedStrategy } from './strategies/score-based-strategy';
export * from './strategies/full';
export * from './strategies/window';
export * from './strategies/streaming-llm';
export * from './strategies/random';
export * from './strategies/knorm';
export * from './strategies/h2o';
export * from './strategies/tova';
export { SnapKVStrategy, poolAlongPositions, SNAPKV_POOLINGS, type SnapKVOptions, type SnapKVPooling, type ObservationWindowSettings } from './strategies/snapkv';
export * from './strategies/pyramidkv';
export * from './strategies/uniform-quantization';
export * from './strategies/kivi';
export * from './strategies/intactkv';
export * from './strategies/chain';
export * from './strategies/window-global';
export { MergingStrategy, readHeadTokens, type HeadTokens, type HeadLocation, type MergedEntries } from './strategies/merging-strategy';
export * from './strategies/cam-merge';
export * from './strategies/svd';
export * from './strategies/shared-basis';
export * from './strategies/head-adaptive';
export * from './strategies/layer-adaptive';
export { KMeansStrategy, clusterKeys, type KMeansOptions } from './strategies/kmeans';
export * from './strategies/index';
export { GpuKernels } from './kernels/gpu-kernels';
export {
  accumulateScoresReference,
  dequantizeReference,
  groupOfIndex,
  groupParameters,
  groupRangesReference,
  packCodes,
  quantizeCodesReference,
  type GroupParameters,
  type GroupRanges,
} from './kernels/reference';
export { createRandomCache, createSyntheticStats, type RandomCacheOptions } from './testing/random-cache';
