import { canonicalJson } from '@malloc/report';
import type { RunConfig, TrainingSettings } from './config';
import { DEFAULT_CLICK_THRESHOLD, DEFAULT_IMPRESSIONS } from './evaluate-ctr';
import { RECURRENT_MODEL_METHOD_IDS } from './model-variants';
import { hashJson } from './provenance';

/**
 * The settings that determine a trained model, in a canonical form: two runs that train the
 * same model get equal settings, whatever defaults they spelled out. Every results row records
 * them as `training.settings`.
 */
export type TrainedSettings = {
  /** The model settings that the model reads. */
  model: Record<string, unknown>;
  /** The training settings without `training.workers`; `loss` is `ctr-bce` for the CTR task. */
  training: Record<string, unknown>;
  /** CTR task only: the held-out impressions per user and the rating threshold of a click. */
  ctr?: { impressions: number; clickThreshold: number };
};

/** Model fields that GRU4Rec and RWKV read; the attention fields do not change them. */
const RECURRENT_FIELDS = ['maxLength', 'hiddenSize', 'layers', 'dropout'] as const;

/**
 * Returns the canonical settings that train model `modelId` in a run.
 *
 * Fields are left out where they change nothing: `training.workers` (data-parallel workers
 * split each batch but train the same model), the attention fields of the recurrent models,
 * `kvHeads` equal to `heads`, `timeBias: true`, `queryTime: 'own'`, an LSH `seed` of 0 and shared negative
 * sampling (see {@link negativeSamplingKey}). The CTR task trains
 * with its own loss and with labels from `evaluation.impressions` and
 * `evaluation.clickThreshold`, so those replace `training.loss`.
 */
export function trainedSettings(config: RunConfig, modelId: string): TrainedSettings {
  const { workers: _workers, ...training } = canonicalTraining(config.training, config.task);
  const model = canonicalModelSettings(config.model, modelId);

  if (config.task === 'ctr') {
    const ctr = { impressions: config.evaluation.impressions ?? DEFAULT_IMPRESSIONS, clickThreshold: config.evaluation.clickThreshold ?? DEFAULT_CLICK_THRESHOLD };
    return { model, training: { ...training, loss: 'ctr-bce' }, ctr };
  }
  return { model, training };
}

/**
 * Computes the configuration hash that rows record as `provenance.configHash`: a hash of the
 * settings that change a row's numbers. A run skips the cells that already have an `ok` row
 * with its hash. Training settings enter as {@link canonicalTraining} writes them.
 */
export function runConfigHash(config: RunConfig): string {
  const synthetic = config.dataset === 'synthetic' ? config.synthetic : null;
  const task = config.task === 'ctr' ? { task: 'ctr' } : {};
  return hashJson({ dataset: config.dataset, model: config.model, training: canonicalTraining(config.training, config.task), evaluation: config.evaluation, synthetic, ...task });
}

/**
 * Returns the training settings as they enter configuration hashes, checkpoint keys and
 * trained settings: `negativeSampling` replaced by {@link negativeSamplingKey}, so that
 * `'shared'` gives the hashes of runs from before the option existed, and the two spellings
 * of the per-position default give one hash. `trainOnValidation` enters only when true, so
 * false and unset give the hashes of runs from before that option existed. When true it
 * replaces `validationUsers`, because such a training validates nothing.
 *
 * @param task - the run's task; the CTR task trains with its own loss and samples no negatives.
 */
export function canonicalTraining(training: TrainingSettings, task: RunConfig['task']): Record<string, unknown> {
  const { negativeSampling: _sampling, trainOnValidation, validationUsers, ...rest } = training;
  const validation = trainOnValidation === true ? { trainOnValidation: true } : { validationUsers };
  return task === 'ctr' ? { ...rest, ...validation } : { ...rest, ...negativeSamplingKey(training), ...validation };
}

/**
 * Returns the negative sampling of a next-item training as it enters checkpoint keys and
 * trained settings: `{ negativeSampling: 'per-position' }` when sampled softmax draws its negatives per
 * position (the default), and nothing for shared negatives or another loss. Runs from before
 * the option existed drew shared negatives and recorded no field, so their keys and settings
 * stay those of `'shared'`. The CTR task trains with its own loss and takes no key.
 */
export function negativeSamplingKey(training: Pick<TrainingSettings, 'loss'> & { negativeSampling?: TrainingSettings['negativeSampling'] }): { negativeSampling?: 'per-position' } {
  return training.loss === 'sampled-softmax' && (training.negativeSampling ?? 'per-position') === 'per-position' ? { negativeSampling: 'per-position' } : {};
}

/** Returns the model settings that model `modelId` reads, without fields at their default. */
function canonicalModelSettings(settings: RunConfig['model'], modelId: string): Record<string, unknown> {
  if (RECURRENT_MODEL_METHOD_IDS.has(modelId)) {
    return Object.fromEntries(RECURRENT_FIELDS.map((field) => [field, settings[field]]));
  }

  const { kvHeads, timeBias, queryTime, lsh, ...rest } = settings;
  const model: Record<string, unknown> = { ...rest };
  if (kvHeads !== undefined && kvHeads !== settings.heads) {
    model.kvHeads = kvHeads;
  }
  if (timeBias === false) {
    model.timeBias = false;
  }
  if (queryTime === 'next') {
    model.queryTime = 'next';
  }
  if (lsh !== undefined) {
    model.lsh = lsh.seed === undefined || lsh.seed === 0 ? { buckets: lsh.buckets } : { buckets: lsh.buckets, seed: lsh.seed };
  }
  return model;
}

/**
 * Lists, sorted, the dotted names of the second-level fields (`model.heads`) whose values
 * differ between two settings objects. Values are compared with the keys of every object
 * sorted, so key order does not matter.
 */
export function differingSettings(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): string[] {
  const fields: string[] = [];
  for (const section of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const left = asObject(a[section]);
    const right = asObject(b[section]);
    for (const name of new Set([...Object.keys(left), ...Object.keys(right)])) {
      if (canonicalJson(left[name]) !== canonicalJson(right[name])) {
        fields.push(`${section}.${name}`);
      }
    }
  }
  return fields.sort();
}

/** Returns a settings section as an object; a section that is absent or not an object reads as empty. */
function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
