import type { MethodInfo } from '@malloc/compression';
import type { ModelSettings, TaskName } from './config';
import { queryTimeWithCtr, queryTimeWithoutTimeBias, sequenceVariantModel } from './messages';

/**
 * Taxonomy entries of the head-level model variants. They are not compression strategies:
 * a run selects one with `model.kvHeads` or `model.kvLatentSize`, trains that model and
 * evaluates every strategy on its cache, so its rows sit on the same leaderboard.
 */
export const HEAD_VARIANT_METHODS: readonly MethodInfo[] = [
  {
    id: 'mqa',
    name: 'Multi-query attention',
    granularity: 'head',
    family: 'kv-head-sharing',
    needsTraining: true,
    reads: [],
    paper: 'Shazeer, 2019, arXiv 1911.02150. Model variant: set model.kvHeads to 1.',
  },
  {
    id: 'gqa',
    name: 'Grouped-query attention',
    granularity: 'head',
    family: 'kv-head-sharing',
    needsTraining: true,
    reads: [],
    paper: 'Ainslie et al., EMNLP 2023, arXiv 2305.13245. Model variant: set model.kvHeads to a divisor of heads.',
  },
  {
    id: 'mla',
    name: 'Multi-head latent attention',
    granularity: 'head',
    family: 'shared-low-rank-latent',
    needsTraining: true,
    reads: [],
    paper: 'DeepSeek-AI, DeepSeek-V2, 2024, arXiv 2405.04434. Model variant: set model.kvLatentSize to the latent width.',
  },
];

/**
 * Taxonomy entries of the recurrent models. Like the head-level variants they are not
 * compression strategies: a run lists them in `models`, and their constant-size state is
 * evaluated with the strategies `full` and `recompute` only.
 */
export const RECURRENT_MODEL_METHODS: readonly MethodInfo[] = [
  {
    id: 'gru4rec',
    name: 'GRU4Rec (recurrent state)',
    granularity: 'architecture',
    family: 'recurrent-state',
    needsTraining: true,
    reads: [],
    paper: 'Hidasi et al., ICLR 2016, arXiv 1511.06939. Model: add gru4rec to models; its state is layers × d floats.',
  },
  {
    id: 'rwkv',
    name: 'RWKV-style linear recurrence',
    granularity: 'architecture',
    family: 'recurrent-state',
    needsTraining: true,
    reads: [],
    paper: 'Peng et al., Findings of EMNLP 2023, arXiv 2305.13048. Model: add rwkv to models; its state is layers × 5d floats.',
  },
];

/** Ids of {@link RECURRENT_MODEL_METHODS}. */
export const RECURRENT_MODEL_METHOD_IDS: ReadonlySet<string> = new Set(RECURRENT_MODEL_METHODS.map((method) => method.id));

/**
 * Taxonomy entries of the sequence-level and learned-token model variants of SASRec and HSTU. Like the
 * head-level variants, a run selects one with `model.beacon`, `model.linformer` or `model.lsh`, trains that
 * model and evaluates every strategy on its cache.
 */
export const SEQUENCE_VARIANT_METHODS: readonly MethodInfo[] = [
  {
    id: 'beacon',
    name: 'Activation Beacon',
    granularity: 'token',
    family: 'learned-memory',
    needsTraining: true,
    reads: [],
    paper: 'Zhang et al., 2024, arXiv 2401.03462. Model variant (SASRec, HSTU): set model.beacon to { chunkSize, beaconsPerChunk }.',
  },
  {
    id: 'linformer',
    name: 'Causal Linformer projection',
    granularity: 'sequence',
    family: 'length-projection',
    needsTraining: true,
    reads: [],
    paper: 'Wang et al., 2020, arXiv 2006.04768, projected per block for causal caching. Model variant (SASRec, HSTU): set model.linformer to { blockSize, projectedRows }.',
  },
  {
    id: 'lsh',
    name: 'Reformer LSH attention',
    granularity: 'sequence',
    family: 'lsh-bucketing',
    needsTraining: true,
    reads: [],
    paper: 'Kitaev et al., ICLR 2020, arXiv 2001.04451. Model variant (SASRec, HSTU): set model.lsh to { buckets, seed }.',
  },
];

/** Ids of {@link HEAD_VARIANT_METHODS} and {@link SEQUENCE_VARIANT_METHODS}, which are model variants rather than strategies. */
export const HEAD_VARIANT_IDS: ReadonlySet<string> = new Set([...HEAD_VARIANT_METHODS, ...SEQUENCE_VARIANT_METHODS].map((method) => method.id));

/** Models that implement the sequence-level variants `model.beacon`, `model.linformer` and `model.lsh`. */
const SEQUENCE_VARIANT_MODELS: ReadonlySet<string> = new Set(['sasrec', 'hstu']);

/**
 * Checks that every model of a run implements the sequence-level variant its settings select.
 *
 * @throws RangeError naming the first model and the field it does not implement.
 */
export function checkSequenceVariantModels(models: readonly string[], settings: ModelSettings): void {
  for (const field of ['beacon', 'linformer', 'lsh'] as const) {
    if (settings[field] === undefined) {
      continue;
    }
    const unsupported = models.find((model) => !SEQUENCE_VARIANT_MODELS.has(model));
    if (unsupported !== undefined) {
      throw new RangeError(sequenceVariantModel(unsupported, `model.${field}`, [...SEQUENCE_VARIANT_MODELS]));
    }
  }
}

/**
 * Checks that `model.timeBias` and `model.queryTime`, when set, apply to every model of the
 * run, because only HSTU has a time bias. `queryTime: 'next'` also needs the time bias on and
 * the retrieval task, because a click head scores each candidate at its own time.
 *
 * @throws RangeError naming the first model without a time bias, or the conflicting fields.
 */
export function checkTimeBiasModels(models: readonly string[], settings: ModelSettings, task: TaskName = 'retrieval'): void {
  for (const field of ['timeBias', 'queryTime'] as const) {
    const unsupported = settings[field] === undefined ? undefined : models.find((model) => model !== 'hstu');
    if (unsupported !== undefined) {
      throw new RangeError(sequenceVariantModel(unsupported, `model.${field}`, ['hstu']));
    }
  }
  if (settings.queryTime === 'next' && settings.timeBias === false) {
    throw new RangeError(queryTimeWithoutTimeBias());
  }
  if (settings.queryTime === 'next' && task === 'ctr') {
    throw new RangeError(queryTimeWithCtr());
  }
}

/**
 * Builds the `model` field of a results row: the model id, followed by the head-level
 * variant and the sequence-level variant when the run sets them. Examples: `sasrec`,
 * `sasrec-mqa`, `hstu-gqa2` (2 key/value heads), `sasrec-mla16` (latent width 16),
 * `sasrec-mla16-kv2` (a latent projected up to 2 key/value heads), `sasrec-beacon16x2`
 * (chunks of 16 items, 2 beacons each), `sasrec-gqa2-linformer16x4` (blocks of 16 tokens
 * projected to 4 rows), `hstu-notime` (HSTU with `timeBias: false`) and `hstu-nexttime` (HSTU
 * with `queryTime: 'next'`). `kvHeads` equal to
 * `heads` is the base model and adds nothing.
 *
 * Base settings (`heads`, `hiddenSize`, `layers`, `maxLength`) are not in the label, so rows
 * of two base configurations in one results file share labels and cell keys. The resume check
 * separates them by configuration hash, `runBench` warns when it finds such rows
 * (`findLabelConflicts`), and each row records its `training.settings`, from which the report
 * gives such rows separate labels.
 */
export function modelRowLabel(modelId: string, settings: ModelSettings): string {
  // The recurrent models ignore the attention and sequence variant fields, so their rows carry the plain id.
  if (RECURRENT_MODEL_METHOD_IDS.has(modelId)) {
    return modelId;
  }
  let time = '';
  if (settings.timeBias === false) {
    time = '-notime';
  } else if (settings.queryTime === 'next') {
    time = '-nexttime';
  }
  return `${headVariantLabel(modelId, settings)}${sequenceVariantSuffix(settings)}${time}`;
}

/** Returns the model id followed by the head-level variant, if any. */
function headVariantLabel(modelId: string, settings: ModelSettings): string {
  const kvHeads = settings.kvHeads ?? settings.heads;
  if (settings.kvLatentSize !== undefined) {
    const heads = kvHeads === settings.heads ? '' : `-kv${kvHeads}`;
    return `${modelId}-mla${settings.kvLatentSize}${heads}`;
  }
  if (kvHeads === settings.heads) {
    return modelId;
  }
  return kvHeads === 1 ? `${modelId}-mqa` : `${modelId}-gqa${kvHeads}`;
}

/** Returns the label suffix of a sequence-level variant: `-beacon16x2`, `-linformer16x4`, `-lsh8` (`-lsh8s3` with seed 3) or nothing. */
function sequenceVariantSuffix(settings: ModelSettings): string {
  if (settings.beacon !== undefined) {
    return `-beacon${settings.beacon.chunkSize}x${settings.beacon.beaconsPerChunk}`;
  }
  if (settings.linformer !== undefined) {
    return `-linformer${settings.linformer.blockSize}x${settings.linformer.projectedRows}`;
  }
  if (settings.lsh !== undefined) {
    const seed = (settings.lsh.seed ?? 0) === 0 ? '' : `s${settings.lsh.seed}`;
    return `-lsh${settings.lsh.buckets}${seed}`;
  }
  return '';
}
