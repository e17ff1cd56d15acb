import * as compression from './index';

describe('package exports', () => {
  it('exports the public API from the package root', () => {
    const names = [
      'keptTokenCount',
      'createStrategy',
      'listMethods',
      'STRATEGY_REGISTRY',
      'ScoreBasedStrategy',
      'FullStrategy',
      'WindowStrategy',
      'StreamingLLMStrategy',
      'RandomStrategy',
      'KnormStrategy',
      'H2OStrategy',
      'TOVAStrategy',
      'SnapKVStrategy',
      'PyramidKVStrategy',
      'UniformQuantizationStrategy',
      'KiviStrategy',
      'IntactKVStrategy',
      'ChainStrategy',
      'WindowGlobalStrategy',
      'MergingStrategy',
      'CaMMergeStrategy',
      'KMeansStrategy',
      'SvdStrategy',
      'LowRankStorage',
      'lowRankStorageBytes',
      'GpuKernels',
      'quantizeCodesReference',
      'accumulateScoresReference',
      'pyramidBudgets',
      'Float32Storage',
      'Float16Storage',
      'QuantizedStorage',
      'ConcatStorage',
      'float32StorageBytes',
      'float16StorageBytes',
      'quantizedStorageBytes',
      'cacheBytes',
      'createEmptyCache',
      'compressStreaming',
      'compressAfterChunk',
      'createRandomCache',
      'createSyntheticStats',
      'silentLogger',
    ];
    const missing = names.filter((name) => !(name in compression));
    expect(missing).toEqual([]);
  });
});
