import type { SyntheticOptions } from '@malloc/data';
import type { NegativeSampling } from '@malloc/models';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml } from 'yaml';
import configSchema from './config-schema.json';
import { configFileUnreadable, invalidConfig, unknownPreset } from './messages';
import { PRESETS, PRESET_IDS } from './presets';

/** Backends a run may request. */
export type BackendRequest = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/**
 * Task of a run. `retrieval` ranks the whole catalogue for the next item. `ctr` scores the
 * user's held-out impressions with a click head (target-aware, M-FALCON serving).
 */
export type TaskName = 'retrieval' | 'ctr';

/** Model size shared by every model of a run. */
export interface ModelSettings {
  maxLength: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  dropout: number;
  /** Key/value heads (GQA; 1 is MQA); unset means `heads`. Left out of the defaults so that configuration hashes stay unchanged. */
  kvHeads?: number;
  /** Width of the MLA latent cached per token and layer; unset means no latent. */
  kvLatentSize?: number;
  /** Activation Beacon memory of SASRec and HSTU: chunks of `chunkSize` items condensed into `beaconsPerChunk` learned tokens; unset means none. */
  beacon?: { chunkSize: number; beaconsPerChunk: number };
  /** Causal Linformer projection of SASRec and HSTU: blocks of `blockSize` tokens projected to `projectedRows` rows; unset means none. */
  linformer?: { blockSize: number; projectedRows: number };
  /** Reformer-style LSH attention of SASRec and HSTU: `buckets` hash buckets per layer and head, rotations drawn from `seed`; unset means full attention. */
  lsh?: { buckets: number; seed?: number };
  /** HSTU only: `false` ignores timestamps in training and serving, so every time difference is 0; unset means `true`. */
  timeBias?: boolean;
  /**
   * HSTU only: the time from which a query measures its time differences, `'own'` (its item's)
   * or `'next'` (the next item's, or the request's for the last item, as generative-recommenders);
   * unset means `'own'`.
   */
  queryTime?: 'own' | 'next';
}

/** Training settings; config-schema.json documents each key and its default. */
export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  learningRate: number;
  loss: 'sampled-softmax' | 'bce' | 'full-ce';
  negatives: number;
  /**
   * Negative sampling of sampled softmax (see `NegativeSampling` of `@malloc/models`). Saved
   * run configurations always contain it, so one without it predates the option and trained
   * with `'shared'`. Hashes take it as `canonicalTraining` (trained-settings.ts) writes it.
   */
  negativeSampling: NegativeSampling;
  temperature: number;
  weightDecay: number;
  patience: number | null;
  validationUsers: number | null;
  /**
   * Trains on each user's validation item as well and keeps the last epoch (see
   * `trainingEnd` in train-on-validation.ts); unset means false. Left out of the defaults so
   * that configuration hashes stay unchanged.
   */
  trainOnValidation?: boolean;
  /**
   * Replicas of the model that train in parallel, each in its own thread (see `TrainOptions.workers`
   * of `@malloc/models`); unset means 1. Left out of the defaults so that configuration hashes
   * stay unchanged.
   */
  workers?: number;
}

/** Evaluation settings; config-schema.json documents each key and its default. */
export interface EvaluationSettings {
  maxUsers: number | null;
  requestLength: number;
  ks: number[];
  excludeHistory: boolean;
  statsWindow: number;
  warmupUsers: number;
  bootstrapResamples: number;
  sampleSeed: number;
  /**
   * CTR task: the user's last interactions held out as impressions (and as many before them
   * for validation). Left out of the defaults so that retrieval configurations keep their
   * hash. Unset means 10.
   */
  impressions?: number;
  /** CTR task: a rating at or above it is a click when the dataset has no label column. Unset means 4. */
  clickThreshold?: number;
  /**
   * `one-shot` compresses once after the history's prefill, and `streaming` feeds the history
   * in chunks and compresses after every chunk. Unset means `one-shot`. It is left out of the
   * defaults, like the keys below, so that earlier configurations keep their hash.
   */
  protocol?: 'one-shot' | 'streaming';
  /** Streaming protocol: items per chunk; unset means 16. */
  chunkSize?: number;
  /** Training users whose caches calibrate methods that need calibration (`shared-basis`); unset means 256. */
  calibrationUsers?: number;
}

/** Parameters of the synthetic generator, passed through to `generateSynthetic` of `@malloc/data`. */
export type SyntheticSettings = SyntheticOptions;

/** A fully resolved run configuration, saved beside the results of every run. */
export interface RunConfig {
  preset: string;
  task: TaskName;
  dataset: string;
  dataDir: string | null;
  out: string;
  models: string[];
  strategies: string[];
  compressionRatios: number[];
  seeds: number[];
  backend: BackendRequest;
  report: boolean;
  model: ModelSettings;
  training: TrainingSettings;
  evaluation: EvaluationSettings;
  synthetic: SyntheticSettings;
}

/** A partial configuration: what a preset, a file or the command line sets. */
export type RunConfigInput = {
  [K in keyof RunConfig]?: RunConfig[K] extends readonly unknown[] ? RunConfig[K] : RunConfig[K] extends object ? Partial<RunConfig[K]> : RunConfig[K];
};

/** Defaults, the lowest level of precedence. */
export const DEFAULT_CONFIG: Readonly<RunConfig> = {
  preset: 'quick',
  task: 'retrieval',
  dataset: 'synthetic',
  dataDir: null,
  out: 'results',
  models: ['sasrec'],
  strategies: ['full', 'recompute', 'window', 'streaming-llm'],
  compressionRatios: [0.5, 0.75, 0.875],
  seeds: [1],
  backend: 'auto',
  report: true,
  model: { maxLength: 200, hiddenSize: 50, layers: 2, heads: 1, dropout: 0.2 },
  training: {
    epochs: 12,
    batchSize: 32,
    learningRate: 1e-3,
    loss: 'sampled-softmax',
    negatives: 128,
    negativeSampling: 'per-position',
    temperature: 0.05,
    weightDecay: 0,
    patience: null,
    validationUsers: 1000,
  },
  evaluation: {
    maxUsers: null,
    requestLength: 1,
    ks: [1, 10, 50, 200],
    excludeHistory: true,
    statsWindow: 16,
    warmupUsers: 3,
    bootstrapResamples: 1000,
    sampleSeed: 0,
  },
  synthetic: {},
};

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateInput = ajv.compile<RunConfigInput>(configSchema);

/**
 * Checks a partial configuration against the published schema (config-schema.json).
 *
 * @param source - where the input came from, for messages (`--config run.yaml`, `command line`).
 * @throws TypeError listing every invalid key with what was expected and received.
 */
export function validateConfigInput(input: unknown, source: string): RunConfigInput {
  if (validateInput(input)) {
    return input;
  }
  const problems = (validateInput.errors ?? []).map((error) => {
    const path = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).replace(/\//g, '.');
    const extra = error.keyword === 'additionalProperties' ? ` '${String(error.params.additionalProperty)}'${keyHint(String(error.params.additionalProperty), error.instancePath)}` : '';
    const allowed = error.keyword === 'enum' ? ` (${(error.params.allowedValues as unknown[]).join(', ')})` : '';
    return `${path}: ${error.message ?? 'is invalid'}${extra}${allowed}`;
  });
  throw new TypeError(invalidConfig(source, problems));
}

/** Config keys of the command-line options whose names differ, for "did you mean" hints. */
const CLI_OPTION_KEYS: Readonly<Record<string, string>> = {
  ratios: 'compressionRatios',
  seed: 'seeds',
  'data-dir': 'dataDir',
  users: 'evaluation.maxUsers',
  epochs: 'training.epochs',
  'train-workers': 'training.workers',
  'no-report': 'report',
};

/** Suggests the right key for an unknown one: a command-line name, or a near-miss of a valid key. */
function keyHint(key: string, instancePath: string): string {
  if (instancePath === '' && Object.hasOwn(CLI_OPTION_KEYS, key)) {
    return ` (the config key is '${CLI_OPTION_KEYS[key]}')`;
  }
  const section = instancePath === '' ? configSchema : (configSchema.properties as Record<string, { properties?: object }>)[instancePath.slice(1)];
  const valid = Object.keys(section?.properties ?? {});
  const near = valid.find((candidate) => editDistance(candidate.toLowerCase(), key.toLowerCase()) <= 2);
  return near === undefined ? ` (valid keys: ${valid.join(', ')})` : ` (did you mean '${near}'?)`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Reads a JSON or YAML config file. YAML is parsed as data only: no tags, no code.
 *
 * @throws Error naming the file when it cannot be read or parsed, TypeError when invalid.
 */
export function readConfigFile(path: string): RunConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(configFileUnreadable(path, (error as Error).message));
  }
  let parsed: unknown;
  try {
    const extension = extname(path).toLowerCase();
    parsed = extension === '.yaml' || extension === '.yml' ? parseYaml(text, { customTags: [], merge: false }) : JSON.parse(text);
  } catch (error) {
    throw new Error(configFileUnreadable(path, (error as Error).message));
  }
  return validateConfigInput(parsed, `--config ${path}`);
}

/**
 * Resolves the configuration of a run: defaults < preset < file < command line.
 * Nested sections (model, training, evaluation, synthetic) merge key by key; lists replace.
 *
 * @throws RangeError for an unknown preset id.
 */
export function resolveConfig(fileInput: RunConfigInput | null, cliInput: RunConfigInput): RunConfig {
  const presetId = cliInput.preset ?? fileInput?.preset ?? DEFAULT_CONFIG.preset;
  const preset = PRESETS[presetId];
  if (preset === undefined) {
    throw new RangeError(unknownPreset(presetId, PRESET_IDS));
  }

  let config = structuredClone(DEFAULT_CONFIG) as RunConfig;
  for (const layer of [preset, fileInput ?? {}, cliInput]) {
    config = mergeConfig(config, layer);
  }
  config.preset = presetId;
  return config;
}

function mergeConfig(base: RunConfig, layer: RunConfigInput): RunConfig {
  const merged = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) {
      continue;
    }
    const current = merged[key];
    const bothSections = isSection(current) && isSection(value);
    merged[key] = bothSections ? { ...current, ...value } : structuredClone(value);
  }
  return merged as unknown as RunConfig;
}

function isSection(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
