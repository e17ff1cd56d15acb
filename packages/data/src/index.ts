export * from './types';
export * from './logger';
export { DataFormatError, DatasetNotFoundError } from './errors';
export { InteractionLogBuilder, type InteractionLog } from './interaction-log';
export { buildSequenceDataset, type LogDescription } from './preprocess';
export {
  MOVIELENS_100K_FORMAT,
  MOVIELENS_1M_RATINGS_FORMAT,
  SEQUENCE_FORMAT_DESCRIPTION,
  SEQUENCE_FORMAT_NAME,
  parseDelimitedFile,
  parseSequenceFile,
  type ColumnKind,
  type DelimitedFormat,
  type ParsedFile,
} from './formats';
export type { FileReadSummary } from './text-reader';
export { DATASET_IDS, loadDataset, loadInteractionFile, loadSequenceFile, type FileLoadOptions } from './loaders';
export {
  SYNTHETIC_GENERATOR_VERSION,
  generateSynthetic,
  generateSyntheticCatalogue,
  type ResolvedSyntheticOptions,
  type SyntheticCatalogue,
  type SyntheticOptions,
} from './synthetic';
export { leaveOneOut, type EvalSplit, type LeaveOneOutSplit } from './split';
export { datasetStats, formatStats, type DatasetStats, type LengthStats } from './stats';
