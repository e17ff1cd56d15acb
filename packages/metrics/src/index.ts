// Public API of @malloc/metrics: ranking, CTR, latency, capacity and statistics.

export { rankOfTarget, rankAmongCandidates } from './rank';
export type { RankOptions } from './rank';
export { DEFAULT_KS, metricsFromRank, rankingMetrics } from './ranking-metrics';
export type { RankingMetric, RankingMetricKind } from './ranking-metrics';
export { RankingAccumulator } from './ranking-accumulator';
export type { RankingProtocol } from './ranking-accumulator';
export { topK } from './top-k';
export type { TopKOptions } from './top-k';
export { sampleNegatives } from './sampling';
export { auc, gauc, logLoss, logLossFromLogits } from './ctr';
export type { GaucResult, LogLossOptions } from './ctr';
export { summarizeLatency, percentile } from './latency';
export type { LatencySummary, LatencyOptions } from './latency';
export { bootstrapMeanCI } from './confidence-interval';
export type { ConfidenceInterval, BootstrapOptions } from './confidence-interval';
export { pairedTest } from './paired-test';
export type { PairedTestResult, PairedTestOptions } from './paired-test';
export { kvCacheBytes, planFleetCache } from './kv-capacity';
export type { KVLayerShape, KVCacheShape, KVCacheBytes, FleetCacheInput, FleetCachePlan } from './kv-capacity';
export type { ItemScores } from './validation';
export { sasrecMacs, hstuMacs, requestMacs } from './macs';
export type {
  Architecture,
  AttentionModelConfig,
  InferencePhase,
  MacCount,
  MacTerm,
  ModelDimensions,
  RequestMacs,
  RequestProtocol,
} from './macs';
export { DEFAULT_CURVE_LENGTHS, complexityCurve, methodCacheBytes } from './complexity';
export type { CacheMethod, ComplexityCurveInput, ComplexityPoint, MethodCacheBytes, QuantizationAxis } from './complexity';
export { MODEL_PRESETS, planCapacity, formatPlan, formatBytes } from './capacity-planner';
export type { CapacityInput, CapacityPlan, ModelPresetName } from './capacity-planner';
