import { parseArgs } from 'node:util';
import { listMethods } from '@malloc/compression';
import { MODEL_PRESETS, formatPlan, planCapacity, type CacheMethod, type CapacityPlan, type ModelPresetName } from '@malloc/metrics';
import { invalidOption } from './messages';

/** Options of `malloc plan`. */
export interface PlanRequest {
  users: number;
  meanLength: number;
  model: string;
  /** Method id from `malloc methods`; `full` when absent. */
  method?: string;
  /** Fraction of tokens removed, for token methods. */
  ratio?: number;
  /** Group size of integer codes. Default value: 32. */
  group?: number;
}

const PRECISION_BITS: Readonly<Record<string, number>> = { int8: 8, int4: 4, int2: 2 };

/**
 * Sizes the cache of a fleet and the compute per request for one model preset and method:
 * the capacity planner behind `malloc plan`.
 *
 * @throws RangeError for an unknown model preset or method, or a method that needs `--ratio`.
 */
export function planFromRequest(request: PlanRequest): { plan: CapacityPlan; text: string } {
  if (!Object.hasOwn(MODEL_PRESETS, request.model)) {
    throw new RangeError(invalidOption('--model', request.model, `one of ${Object.keys(MODEL_PRESETS).join(', ')}`));
  }
  const method = cacheMethodFor(request);
  const plan = planCapacity({ users: request.users, meanLength: request.meanLength, model: request.model as ModelPresetName, method });
  return { plan, text: formatPlan(plan) };
}

/** Translates a registry method id into the bytes rule of the planner. */
export function cacheMethodFor(request: PlanRequest): CacheMethod {
  const id = request.method ?? 'full';
  if (id === 'full') {
    return { name: 'full' };
  }
  const bits = PRECISION_BITS[id];
  if (bits !== undefined) {
    return { name: id, bits, group: request.group ?? 32 };
  }
  const info = listMethods().find((method) => method.id === id);
  if (info === undefined || info.granularity !== 'token') {
    const accepted = ['full', ...Object.keys(PRECISION_BITS), ...listMethods().filter((method) => method.granularity === 'token').map((method) => method.id)];
    throw new RangeError(invalidOption('--method', id, `one of ${accepted.join(', ')}`));
  }
  if (request.ratio === undefined) {
    throw new RangeError(invalidOption('--ratio', '', `the fraction of tokens ${id} removes, in [0, 1)`));
  }
  // A sliding window keeps one contiguous run, so its positions stay implicit (no bytes).
  return { name: `${id} (ratio ${request.ratio})`, ratio: request.ratio, contiguous: id === 'window' };
}

/** Runs `malloc plan`: parses its options and prints the plan. */
export function planCommand(args: string[], stdout: (text: string) => void): number {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      users: { type: 'string' },
      'mean-length': { type: 'string' },
      model: { type: 'string' },
      method: { type: 'string' },
      ratio: { type: 'string' },
      group: { type: 'string' },
    },
  });
  const request: PlanRequest = {
    users: requiredNumber('--users', values.users, 'a number of users ≥ 0, for example 1e9'),
    meanLength: Math.round(requiredNumber('--mean-length', values['mean-length'], 'the mean history length in items ≥ 0, for example 2000')),
    model: values.model ?? 'sasrec-ml1m',
    ...(values.method === undefined ? {} : { method: values.method }),
    ...(values.ratio === undefined ? {} : { ratio: requiredNumber('--ratio', values.ratio, 'a fraction in [0, 1)') }),
    ...(values.group === undefined ? {} : { group: requiredNumber('--group', values.group, 'a positive integer group size') }),
  };
  stdout(`${planFromRequest(request).text}\n`);
  return 0;
}

function requiredNumber(option: string, text: string | undefined, expected: string): number {
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(invalidOption(option, text ?? '', expected));
  }
  return value;
}
