export * from './types';
export * from './logger';
export { DataFormatError, DatasetCacheError, DatasetDownloadError, DatasetNotFoundError } from './errors';
export { InteractionLogBuilder, type InteractionLog, type RawId } from './interaction-log';
export { buildSequenceDataset, type LogDescription } from './preprocess';
export {
  AMAZON_2018_RATINGS_FORMAT,
  AMAZON_RATINGS_FORMAT,
  DIN_BARS_CSV_FORMAT,
  DIN_SAMPLES_FORMAT,
  KUAIRAND_LOG_FORMAT,
  KUAIVIDEO_X1_FORMAT,
  MICROVIDEO_X1_FORMAT,
  YAMBDA_FORMAT,
  MOVIELENS_100K_FORMAT,
  MOVIELENS_10M_RATINGS_FORMAT,
  MOVIELENS_1M_RATINGS_FORMAT,
  MOVIELENS_CSV_RATINGS_FORMAT,
  SEQUENCE_FORMAT_DESCRIPTION,
  SEQUENCE_FORMAT_NAME,
  parseDelimitedFile,
  parseSequenceFile,
  type ColumnKind,
  type DelimitedFormat,
  type ParsedFile,
} from './formats';
export type { FileReadSummary } from './text-reader';
export { DATASET_IDS, loadDataset, loadInteractionFile, loadSequenceFile, type DatasetLoadOptions, type FileLoadOptions } from './loaders';
export { DATASET_CACHE_VERSION, loadDatasetCache, saveDatasetCache } from './cache';
export {
  loadAmazonRatings,
  loadDelimited,
  loadRecBoleInter,
  type AmazonRatingsOptions,
  type ColumnMapping,
  type ColumnRef,
  type DelimitedLoadOptions,
  type RecBoleFieldNames,
  type RecBoleLoadOptions,
} from './delimited-loaders';
export { loadKuaiRandLog } from './kuairand';
export { loadDinSamples, type DinLoadOptions } from './din';
export { loadKuaiVideo, loadMicroVideo, type BarsCtrFormat, type CtrFilePaths } from './bars-ctr';
export { loadYambda, type YambdaLoadOptions } from './yambda';
export { AMAZON_DETECTION_LINES, detectAmazonEdition, type AmazonEdition } from './amazon-edition';
export {
  SYNTHETIC_GENERATOR_VERSION,
  generateSynthetic,
  generateSyntheticCatalogue,
  type ResolvedSyntheticOptions,
  type SyntheticCatalogue,
  type SyntheticOptions,
} from './synthetic';
export { leaveOneOut, type EvalSplit, type LeaveOneOutSplit } from './split';
export { sampleUsers, temporalSplit, type TemporalCut, type TemporalSplit, type UserSample } from './temporal-split';
export { datasetStats, formatStats, type DatasetStats, type LengthStats } from './stats';
export {
  DATASET_ARCHIVES,
  downloadDataset,
  type DatasetArchive,
  type DownloadOptions,
  type DownloadResult,
  type FetchFunction,
} from './download';
export { extractZip, readZipEntries, type ZipEntry } from './zip';
