import { formatValue, invalidArgument, missingParameter, unknownParameter, unknownStrategy } from '../messages';
import type { CompressionContext, CompressionStrategy } from '../strategy';
import { CaMMergeStrategy } from './cam-merge';
import { ChainStrategy } from './chain';
import { FullStrategy } from './full';
import { H2OStrategy } from './h2o';
import { HeadAdaptiveStrategy } from './head-adaptive';
import { IntactKVStrategy } from './intactkv';
import { KiviStrategy } from './kivi';
import { KMeansStrategy } from './kmeans';
import { KnormStrategy } from './knorm';
import { PyramidKVStrategy } from './pyramidkv';
import { RandomStrategy } from './random';
import { SharedBasisStrategy } from './shared-basis';
import type { TokenBudgetedStrategy } from './score-based-strategy';
import { SnapKVStrategy, type SnapKVPooling } from './snapkv';
import { StreamingLLMStrategy } from './streaming-llm';
import { SvdStrategy } from './svd';
import { TOVAStrategy } from './tova';
import { UniformQuantizationStrategy } from './uniform-quantization';
import { WindowStrategy } from './window';
import { WindowGlobalStrategy } from './window-global';
import type { QuantizationAxis, QuantizationBits } from '../storage/quantized-storage';
import { fractionOfTokens } from '../budget';

/** Level at which a method compresses the cache, following the benchmark's taxonomy. */
export type Granularity = 'token' | 'head' | 'precision' | 'low-rank' | 'sequence' | 'architecture' | 'combined' | 'reference';

/** Inputs a method reads besides the budget; the runner records attention statistics only when a method reads them. */
export type MethodInput = 'keys' | 'values' | 'accumulated-attention' | 'window-attention' | 'positions';

/** One parameter that {@link createStrategy} accepts for a method. */
export interface ParameterInfo {
  readonly name: string;
  /** JSON type of the value; `integer` is a number that must be whole. */
  readonly type: 'number' | 'integer' | 'string';
  /** Whether the parameter has no default and must be given. */
  readonly required: boolean;
  /** Value used when the parameter is absent; `undefined` when it is required. */
  readonly defaultValue?: number | string;
  /** The accepted values, when the parameter is an enumeration. */
  readonly values?: readonly (number | string)[];
  /** Meaning of the parameter, with its unit and range. */
  readonly description: string;
}

/** Description of one registered method, for the runner, the report and the README table. */
export interface MethodInfo {
  /** Registry id, for example `snapkv`. */
  readonly id: string;
  /** Display name, for example `SnapKV`. */
  readonly name: string;
  readonly granularity: Granularity;
  /** Family within the granularity, for example `token-pruning` or `quantisation`. */
  readonly family: string;
  /** Whether the method needs a trained model variant; every method registered here is training-free. */
  readonly needsTraining: boolean;
  /** Inputs read besides the budget. */
  readonly reads: readonly MethodInput[];
  /** Short citation: authors, venue, year and arXiv id. */
  readonly paper: string;
  /**
   * Parameters accepted by {@link createStrategy}. Every registered method lists them, and an
   * empty list means none. The field is optional so that callers can describe rows that are
   * not strategies, such as the runner's `recompute` reference.
   */
  readonly parameters?: readonly ParameterInfo[];
  /**
   * Whether the strategy must be calibrated once on training users' caches (its
   * `calibrate` method) before it compresses; absent means false.
   */
  readonly calibration?: boolean;
}

/** A registry entry: a factory of fresh instances and the method's description. */
export interface StrategyEntry {
  /** Creates a fresh strategy from parameters already checked against `describe.parameters`. */
  create(params: Readonly<Record<string, unknown>>): CompressionStrategy;
  readonly describe: MethodInfo;
}

const compressionRatio: ParameterInfo = {
  name: 'compressionRatio',
  type: 'number',
  required: true,
  description: "Fraction of the history's tokens removed, 0 ≤ r < 1; each layer keeps max(1, ⌊len · (1 − r)⌋) tokens per head.",
};

const observationWindow: readonly ParameterInfo[] = [
  { name: 'window', type: 'integer', required: false, defaultValue: 16, description: 'Number of newest history tokens whose queries vote (the observation window), ≥ 1.' },
  { name: 'kernelSize', type: 'integer', required: false, defaultValue: 5, description: 'Width of the pooling of the votes along positions, an odd integer ≥ 1.' },
  { name: 'pooling', type: 'string', required: false, defaultValue: 'avg', values: ['avg', 'max'], description: 'Pooling of the votes along positions.' },
];

const recentFraction: ParameterInfo = { name: 'recentFraction', type: 'number', required: false, defaultValue: 0.5, description: 'Fraction of the kept budget reserved for the newest tokens, in [0, 1].' };

const headFloor: ParameterInfo = {
  name: 'alpha',
  type: 'number',
  required: false,
  defaultValue: 0.2,
  description: "Safeguard of the head-adaptive split: every KV head keeps at least max(1, ⌊alpha · B⌋) tokens, B being the layer's uniform budget per head, in [0, 1].",
};

const quantizationLayout: readonly ParameterInfo[] = [
  { name: 'groupSize', type: 'integer', required: false, defaultValue: 32, description: 'Numbers per group sharing one float16 scale and zero point, ≥ 1.' },
  { name: 'axis', type: 'string', required: false, defaultValue: 'per-token', values: ['per-token', 'per-channel'], description: 'Direction of the groups: channels of one token, or tokens of one channel.' },
];

function uniformQuantizationEntry(bits: QuantizationBits): StrategyEntry {
  return {
    create: (params) => new UniformQuantizationStrategy({ bits, groupSize: params.groupSize as number | undefined, axis: params.axis as QuantizationAxis | undefined }),
    describe: {
      id: `int${bits}`,
      name: `INT${bits}`,
      granularity: 'precision',
      family: 'quantisation',
      needsTraining: false,
      reads: ['keys', 'values'],
      paper: 'Jacob et al., CVPR 2018, arXiv 1712.05877',
      parameters: quantizationLayout,
    },
  };
}

/** Union of the inputs of two methods, in the order of the first then the second. */
function unionOfReads(first: readonly MethodInput[], second: readonly MethodInput[]): MethodInput[] {
  return [...first, ...second.filter((input) => !first.includes(input))];
}

/**
 * Builds the entry of a chain: the pruning entry at the given ratio, then the precision
 * entry with its defaults. Only `compressionRatio` is accepted, for the pruning part.
 */
function chainEntry(pruning: StrategyEntry, precision: StrategyEntry): StrategyEntry {
  const id = `${pruning.describe.id}+${precision.describe.id}`;
  return {
    create: (params) => new ChainStrategy({ pruning: pruning.create({ compressionRatio: params.compressionRatio }) as TokenBudgetedStrategy, precision: precision.create({}), id }),
    describe: {
      id,
      name: `${pruning.describe.name} + ${precision.describe.name}`,
      granularity: 'combined',
      family: 'pruning+quantisation',
      needsTraining: false,
      reads: unionOfReads(pruning.describe.reads, precision.describe.reads),
      paper: `${pruning.describe.paper}; ${precision.describe.paper}`,
      parameters: [compressionRatio],
    },
  };
}

const baseEntries: readonly StrategyEntry[] = [
  {
    create: () => new FullStrategy(),
    describe: { id: 'full', name: 'Full cache', granularity: 'reference', family: 'reference', needsTraining: false, reads: [], paper: 'Vaswani et al., NeurIPS 2017, arXiv 1706.03762', parameters: [] },
  },
  {
    create: (params) => new WindowStrategy({ compressionRatio: params.compressionRatio as number }),
    describe: { id: 'window', name: 'Sliding window', granularity: 'token', family: 'token-pruning', needsTraining: false, reads: ['positions'], paper: 'Beltagy et al., arXiv 2004.05150, 2020', parameters: [compressionRatio] },
  },
  {
    create: (params) => new StreamingLLMStrategy({ compressionRatio: params.compressionRatio as number, sinks: params.sinks as number | undefined }),
    describe: {
      id: 'streaming-llm',
      name: 'StreamingLLM',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: ['positions'],
      paper: 'Xiao et al., ICLR 2024, arXiv 2309.17453',
      parameters: [compressionRatio, { name: 'sinks', type: 'integer', required: false, defaultValue: 4, description: 'Number of oldest history tokens kept as attention sinks, ≥ 0.' }],
    },
  },
  {
    create: (params) => new RandomStrategy({ compressionRatio: params.compressionRatio as number, seed: params.seed as number | undefined }),
    describe: {
      id: 'random',
      name: 'Random',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: [],
      paper: 'NVIDIA kvpress RandomPress; Devoto et al., arXiv 2510.00636, 2025',
      parameters: [compressionRatio, { name: 'seed', type: 'integer', required: false, defaultValue: 0, description: 'Seed of the pseudo-random generator, an integer in [0, 2^32 − 1].' }],
    },
  },
  {
    create: (params) => new KnormStrategy({ compressionRatio: params.compressionRatio as number }),
    describe: { id: 'knorm', name: 'Knorm', granularity: 'token', family: 'token-pruning', needsTraining: false, reads: ['keys'], paper: 'Devoto et al., EMNLP 2024, arXiv 2406.11430', parameters: [compressionRatio] },
  },
  {
    create: (params) => new H2OStrategy({ compressionRatio: params.compressionRatio as number, recentFraction: params.recentFraction as number | undefined }),
    describe: {
      id: 'h2o',
      name: 'H2O',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: ['accumulated-attention', 'positions'],
      paper: 'Zhang et al., NeurIPS 2023, arXiv 2306.14048',
      parameters: [compressionRatio, recentFraction],
    },
  },
  {
    create: (params) => new TOVAStrategy({ compressionRatio: params.compressionRatio as number }),
    describe: { id: 'tova', name: 'TOVA', granularity: 'token', family: 'token-pruning', needsTraining: false, reads: ['window-attention', 'positions'], paper: 'Oren et al., EMNLP 2024, arXiv 2401.06104', parameters: [compressionRatio] },
  },
  {
    create: (params) =>
      new SnapKVStrategy({
        compressionRatio: params.compressionRatio as number,
        window: params.window as number | undefined,
        kernelSize: params.kernelSize as number | undefined,
        pooling: params.pooling as SnapKVPooling | undefined,
      }),
    describe: {
      id: 'snapkv',
      name: 'SnapKV',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: ['window-attention', 'positions'],
      paper: 'Li et al., NeurIPS 2024, arXiv 2404.14469',
      parameters: [compressionRatio, ...observationWindow],
    },
  },
  {
    create: (params) =>
      new PyramidKVStrategy({
        compressionRatio: params.compressionRatio as number,
        beta: params.beta as number | undefined,
        window: params.window as number | undefined,
        kernelSize: params.kernelSize as number | undefined,
        pooling: params.pooling as SnapKVPooling | undefined,
      }),
    describe: {
      id: 'pyramidkv',
      name: 'PyramidKV',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: ['window-attention', 'positions'],
      paper: 'Cai et al., arXiv 2406.02069, 2024',
      parameters: [
        compressionRatio,
        { name: 'beta', type: 'number', required: false, defaultValue: 20, description: "Steepness of the per-layer budgets: the deepest layer gets the average divided by beta, ≥ 1." },
        ...observationWindow,
      ],
    },
  },
  uniformQuantizationEntry(8),
  uniformQuantizationEntry(4),
  uniformQuantizationEntry(2),
  {
    create: (params) => new KiviStrategy({ bits: params.bits as QuantizationBits | undefined, groupSize: params.groupSize as number | undefined, residual: params.residual as number | undefined }),
    describe: {
      id: 'kivi',
      name: 'KIVI',
      granularity: 'precision',
      family: 'quantisation',
      needsTraining: false,
      reads: ['keys', 'values', 'positions'],
      paper: 'Liu et al., ICML 2024, arXiv 2402.02750',
      parameters: [
        { name: 'bits', type: 'integer', required: false, defaultValue: 2, values: [2, 4, 8], description: 'Bits per code.' },
        { name: 'groupSize', type: 'integer', required: false, defaultValue: 32, description: 'Tokens per key group (per channel) and channels per value group (per token), ≥ 1.' },
        { name: 'residual', type: 'integer', required: false, defaultValue: 32, description: 'Minimum number of newest tokens kept in float32, ≥ 0.' },
      ],
    },
  },
  {
    create: (params) =>
      new IntactKVStrategy({
        bits: params.bits as QuantizationBits | undefined,
        groupSize: params.groupSize as number | undefined,
        pivots: params.pivots as number | undefined,
        sinks: params.sinks as number | undefined,
      }),
    describe: {
      id: 'intactkv',
      name: 'IntactKV',
      granularity: 'precision',
      family: 'quantisation',
      needsTraining: false,
      reads: ['keys', 'values', 'accumulated-attention', 'positions'],
      paper: 'Liu et al., Findings of ACL 2024, arXiv 2403.01241',
      parameters: [
        { name: 'bits', type: 'integer', required: false, defaultValue: 4, values: [2, 4, 8], description: 'Bits per code of the tokens that are not pivots.' },
        { name: 'groupSize', type: 'integer', required: false, defaultValue: 32, description: 'Channels per quantisation group of one token, ≥ 1.' },
        { name: 'pivots', type: 'integer', required: false, defaultValue: 4, description: 'Pivot tokens kept in float32 per head, sinks included, ≥ 0.' },
        { name: 'sinks', type: 'integer', required: false, defaultValue: 1, description: 'Oldest history tokens that are always pivots, in [0, pivots].' },
      ],
    },
  },
  {
    create: (params) => new WindowGlobalStrategy({ compressionRatio: params.compressionRatio as number, globalTokens: params.globalTokens as number | undefined }),
    describe: {
      id: 'window-global',
      name: 'Window + global',
      granularity: 'token',
      family: 'token-pruning',
      needsTraining: false,
      reads: ['accumulated-attention', 'positions'],
      paper: 'Beltagy et al., arXiv 2004.05150, 2020',
      parameters: [compressionRatio, { name: 'globalTokens', type: 'integer', required: false, defaultValue: 4, description: 'Global tokens per head chosen by accumulated attention, ≥ 0; the rest of the budget is the recent window.' }],
    },
  },
  {
    create: (params) => new CaMMergeStrategy({ compressionRatio: params.compressionRatio as number }),
    describe: {
      id: 'cam-merge',
      name: 'CaM merge',
      granularity: 'token',
      family: 'token-merging',
      needsTraining: false,
      reads: ['keys', 'values', 'accumulated-attention', 'positions'],
      paper: 'Zhang et al., ICML 2024 (CaM); Wan et al., ICLR 2025, arXiv 2406.13035 (D2O)',
      parameters: [compressionRatio],
    },
  },
  {
    create: (params) => new KMeansStrategy({ compressionRatio: params.compressionRatio as number, seed: params.seed as number | undefined, iterations: params.iterations as number | undefined }),
    describe: {
      id: 'kmeans',
      name: 'k-means',
      granularity: 'token',
      family: 'token-merging',
      needsTraining: false,
      reads: ['keys', 'values', 'positions'],
      paper: 'Arthur and Vassilvitskii, SODA 2007 (k-means++)',
      parameters: [
        compressionRatio,
        { name: 'seed', type: 'integer', required: false, defaultValue: 0, description: 'Seed of the k-means++ initialisation, an integer in [0, 2^32 − 1].' },
        { name: 'iterations', type: 'integer', required: false, defaultValue: 10, description: 'Lloyd iterations after the initialisation, ≥ 1.' },
      ],
    },
  },
  {
    create: (params) => new SvdStrategy({ rank: params.rank as number | undefined, compressionRatio: params.compressionRatio as number | undefined }),
    describe: {
      id: 'svd',
      name: 'Truncated SVD',
      granularity: 'low-rank',
      family: 'low-rank',
      needsTraining: false,
      reads: ['keys', 'values'],
      paper: 'Sun et al., arXiv 2410.21465, 2024 (ShadowKV)',
      parameters: [
        {
          name: 'compressionRatio',
          type: 'number',
          required: false,
          description: 'Fraction of the rank removed, 0 ≤ r < 1: a block of width dHead gets rank max(1, round(dHead · (1 − r))). Not with rank.',
        },
        { name: 'rank', type: 'integer', required: false, description: 'Rank of every key and value block, ≥ 1; without rank and compressionRatio, max(1, ⌊dHead / 4⌋). Not with compressionRatio.' },
      ],
    },
  },
  {
    create: (params) => new SharedBasisStrategy({ rank: params.rank as number | undefined, compressionRatio: params.compressionRatio as number | undefined }),
    describe: {
      id: 'shared-basis',
      name: 'Shared basis',
      granularity: 'low-rank',
      family: 'low-rank',
      needsTraining: false,
      calibration: true,
      reads: ['keys', 'values'],
      paper: 'Li et al., ICLR 2026, arXiv 2601.19178 (CollectiveKV)',
      parameters: [
        {
          name: 'compressionRatio',
          type: 'number',
          required: false,
          description: 'Fraction of the rank removed, 0 ≤ r < 1: a block of width dHead gets rank max(1, round(dHead · (1 − r))). Not with rank.',
        },
        { name: 'rank', type: 'integer', required: false, description: 'Rank of the shared basis of every key and value block, ≥ 1; without rank and compressionRatio, max(1, ⌊dHead / 4⌋). Not with compressionRatio.' },
      ],
    },
  },
  {
    create: (params) => {
      const base = new SnapKVStrategy({
        compressionRatio: params.compressionRatio as number,
        window: params.window as number | undefined,
        kernelSize: params.kernelSize as number | undefined,
        pooling: params.pooling as SnapKVPooling | undefined,
      });
      // SnapKV always keeps its observation window: min(window, recorded window queries, len).
      const reservedTokens = (context: CompressionContext, _layer: number, len: number): number => Math.min(base.settings.window, context.stats?.windowSize ?? base.settings.window, len);
      return new HeadAdaptiveStrategy({ id: 'ada-snapkv', base, alpha: params.alpha as number | undefined, reservedTokens });
    },
    describe: {
      id: 'ada-snapkv',
      name: 'Ada-SnapKV',
      granularity: 'combined',
      family: 'head-adaptive',
      needsTraining: false,
      reads: ['window-attention', 'positions'],
      paper: 'Feng et al., arXiv 2407.11550, 2024 (Ada-KV); Li et al., NeurIPS 2024, arXiv 2404.14469 (SnapKV)',
      parameters: [compressionRatio, ...observationWindow, headFloor],
    },
  },
  {
    create: (params) => {
      const base = new H2OStrategy({ compressionRatio: params.compressionRatio as number, recentFraction: params.recentFraction as number | undefined });
      // H2O always keeps its recent window: ⌊budget · recentFraction⌋ newest tokens.
      const reservedTokens = (_context: CompressionContext, _layer: number, _len: number, budget: number): number => fractionOfTokens(budget, base.recentFraction);
      return new HeadAdaptiveStrategy({ id: 'ada-h2o', base, alpha: params.alpha as number | undefined, reservedTokens });
    },
    describe: {
      id: 'ada-h2o',
      name: 'Ada-H2O',
      granularity: 'combined',
      family: 'head-adaptive',
      needsTraining: false,
      reads: ['accumulated-attention', 'positions'],
      paper: 'Feng et al., arXiv 2407.11550, 2024 (Ada-KV); Zhang et al., NeurIPS 2023, arXiv 2306.14048 (H2O)',
      parameters: [compressionRatio, recentFraction, headFloor],
    },
  },
];

/** Looks up an entry of {@link baseEntries} while the registry is being built. */
function baseEntry(id: string): StrategyEntry {
  const entry = baseEntries.find((candidate) => candidate.describe.id === id);
  if (entry === undefined) {
    throw new RangeError(unknownStrategy(id, baseEntries.map((candidate) => candidate.describe.id)));
  }
  return entry;
}

const entries: readonly StrategyEntry[] = [
  ...baseEntries,
  chainEntry(baseEntry('snapkv'), baseEntry('kivi')),
  chainEntry(baseEntry('window'), baseEntry('int8')),
  chainEntry(baseEntry('streaming-llm'), baseEntry('int4')),
];

/**
 * Registry of every training-free method, from id to a factory of fresh instances and a
 * description. Listed explicitly: adding a method means adding one entry here.
 */
export const STRATEGY_REGISTRY: ReadonlyMap<string, StrategyEntry> = new Map(entries.map((entry) => [entry.describe.id, entry]));

/**
 * Creates a fresh strategy from its registry id and parameters, as a run configuration
 * states them. Parameters are checked against the method's {@link ParameterInfo} list
 * (unknown or missing keys, JSON types, enumerations) and then by the strategy's
 * constructor (ranges).
 *
 * @param id - registry id, for example `snapkv`; see {@link listMethods}.
 * @param params - parameter values by name; absent optional ones take their defaults.
 * @throws RangeError when the id or a parameter key is unknown, a required parameter is
 * missing, or a value is out of range.
 * @throws TypeError when a value has the wrong JSON type.
 * @example
 * const snapkv = createStrategy('snapkv', { compressionRatio: 0.75, window: 8 });
 */
export function createStrategy(id: string, params: Readonly<Record<string, unknown>> = {}): CompressionStrategy {
  const entry = STRATEGY_REGISTRY.get(id);
  if (entry === undefined) {
    throw new RangeError(unknownStrategy(id, [...STRATEGY_REGISTRY.keys()]));
  }
  const where = `createStrategy(${JSON.stringify(id)})`;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new TypeError(invalidArgument(where, 'params', 'an object of parameter values', formatValue(params)));
  }

  // Every key must be a known parameter, and every required parameter present.
  const parameters = entry.describe.parameters ?? [];
  const names = parameters.map((parameter) => parameter.name);
  for (const key of Object.keys(params)) {
    if (!names.includes(key)) {
      throw new RangeError(unknownParameter(id, key, names));
    }
  }
  for (const parameter of parameters) {
    const value = params[parameter.name];
    if (value === undefined) {
      if (parameter.required) {
        throw new RangeError(missingParameter(id, parameter.name));
      }
      continue;
    }
    checkParameter(where, parameter, value);
  }
  return entry.create(params);
}

/**
 * Describes every registered method, in registry order.
 *
 * @example
 * listMethods().filter((method) => method.family === 'token-pruning').map((method) => method.id);
 */
export function listMethods(): MethodInfo[] {
  return [...STRATEGY_REGISTRY.values()].map((entry) => entry.describe);
}

function checkParameter(where: string, parameter: ParameterInfo, value: unknown): void {
  const expectedType = parameter.type === 'string' ? 'string' : 'number';
  if (typeof value !== expectedType) {
    throw new TypeError(invalidArgument(where, parameter.name, `a ${parameter.type}`, formatValue(value)));
  }
  if (parameter.type === 'integer' && !Number.isInteger(value)) {
    throw new RangeError(invalidArgument(where, parameter.name, 'an integer', formatValue(value)));
  }
  if (parameter.values !== undefined && !parameter.values.includes(value as number | string)) {
    throw new RangeError(invalidArgument(where, parameter.name, `one of ${parameter.values.map((item) => formatValue(item)).join(', ')}`, formatValue(value)));
  }
}
