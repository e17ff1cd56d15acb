import { createStrategy, listMethods, type CompressionStrategy, type MethodInfo } from '@malloc/compression';
import { duplicateListEntry, invalidRatio, modelAsStrategy, modelVariantAsStrategy, unknownStrategy } from './messages';
import { HEAD_VARIANT_IDS, HEAD_VARIANT_METHODS, RECURRENT_MODEL_METHOD_IDS, RECURRENT_MODEL_METHODS, SEQUENCE_VARIANT_METHODS } from './model-variants';

/** Taxonomy entry of the `recompute` reference row, which stores only item ids (and their timestamps for HSTU). */
export const RECOMPUTE_METHOD: MethodInfo = {
  id: 'recompute',
  name: 'Recompute (no cache)',
  granularity: 'reference',
  family: 'reference',
  needsTraining: false,
  reads: [],
  paper: 'Reference row: the full forward pass over the history is recomputed for every request; only item ids (and their timestamps for HSTU) are stored.',
};

/** One strategy at one setting: a column of the grid, evaluated for every (model, seed). */
export interface CellPlan {
  strategy: string;
  params: Record<string, number | string | boolean>;
  setting: string;
  declaredRatio: number | null;
  method: MethodInfo;
  /** `cache`: prefill, compress, append; `recompute`: a full forward per request. */
  kind: 'cache' | 'recompute';
  /** Factory of a method passed to `planCells` as an extra method; absent for registry methods. */
  create?: (params: Record<string, number | string | boolean>) => CompressionStrategy;
}

/**
 * A method that is not in the compression registry, given to one run only (for example a test
 * strategy that throws). Its id must not be a registry id.
 */
export interface ExtraMethod {
  info: MethodInfo;
  create: (params: Record<string, number | string | boolean>) => CompressionStrategy;
}

/**
 * Lists all methods of the taxonomy: the compression registry and `recompute`. It also lists
 * the head-level model variants `mqa`, `gqa` and `mla` and the sequence-level variants
 * `beacon`, `linformer` and `lsh`, which a run selects through its model settings. Last come the
 * recurrent models `gru4rec` and `rwkv`, which a run lists in `models`.
 */
export function allMethods(): MethodInfo[] {
  return [...listMethods(), RECOMPUTE_METHOD, ...HEAD_VARIANT_METHODS, ...SEQUENCE_VARIANT_METHODS, ...RECURRENT_MODEL_METHODS];
}

/**
 * Expands strategy ids × compression ratios into cells. Reference and precision methods take
 * no ratio; every other method gets one cell per ratio. Creating each strategy once here
 * validates ids and parameters before any training starts.
 *
 * @throws RangeError for an unknown strategy id, a model variant id (`mqa`, `gqa`, `mla`, `beacon`, `linformer`, `lsh`) or a ratio outside [0, 1).
 */
export function planCells(strategies: readonly string[], ratios: readonly number[], extraMethods: readonly ExtraMethod[] = []): CellPlan[] {
  for (const ratio of ratios) {
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0 || ratio >= 1) {
      throw new RangeError(invalidRatio(ratio));
    }
  }
  rejectDuplicates('--strategies', strategies);
  rejectDuplicates('--ratios', ratios.map(String));
  const methods = new Map(allMethods().map((method) => [method.id, method]));
  const extras = new Map(extraMethods.filter((extra) => !methods.has(extra.info.id)).map((extra) => [extra.info.id, extra]));
  const cells: CellPlan[] = [];
  for (const id of strategies) {
    const method = methods.get(id) ?? extras.get(id)?.info;
    if (method === undefined) {
      throw new RangeError(unknownStrategy(id, [...methods.keys(), ...extras.keys()].filter((known) => !HEAD_VARIANT_IDS.has(known) && !RECURRENT_MODEL_METHOD_IDS.has(known))));
    }
    if (HEAD_VARIANT_IDS.has(id)) {
      throw new RangeError(modelVariantAsStrategy(id));
    }
    if (RECURRENT_MODEL_METHOD_IDS.has(id)) {
      throw new RangeError(modelAsStrategy(id));
    }
    const extra = extras.get(id);
    if (extra !== undefined) {
      cells.push(...planExtraCells(extra, ratios));
      continue;
    }
    if (id === 'recompute') {
      cells.push({ strategy: id, params: {}, setting: '', declaredRatio: null, method, kind: 'recompute' });
      continue;
    }
    if (method.granularity === 'reference' || method.granularity === 'precision') {
      createStrategy(id, {});
      cells.push({ strategy: id, params: {}, setting: '', declaredRatio: null, method, kind: 'cache' });
      continue;
    }
    for (const ratio of ratios) {
      const params = { compressionRatio: ratio };
      createStrategy(id, params);
      cells.push({ strategy: id, params, setting: `compressionRatio=${ratio}`, declaredRatio: ratio, method, kind: 'cache' });
    }
  }
  return cells;
}

function planExtraCells(extra: ExtraMethod, ratios: readonly number[]): CellPlan[] {
  const { info, create } = extra;
  if (info.granularity === 'reference' || info.granularity === 'precision') {
    return [{ strategy: info.id, params: {}, setting: '', declaredRatio: null, method: info, kind: 'cache', create }];
  }
  return ratios.map((ratio) => ({ strategy: info.id, params: { compressionRatio: ratio }, setting: `compressionRatio=${ratio}`, declaredRatio: ratio, method: info, kind: 'cache', create }));
}

function rejectDuplicates(option: string, values: readonly string[]): void {
  const seen = new Set<string>();
  for (const value of values) {
    if (seen.has(value)) {
      throw new RangeError(duplicateListEntry(option, value));
    }
    seen.add(value);
  }
}

/** Creates a fresh strategy instance for a cell (instances are never shared between cells). */
export function instantiate(cell: CellPlan): CompressionStrategy {
  return cell.create === undefined ? createStrategy(cell.strategy, cell.params) : cell.create(cell.params);
}

/**
 * Key of a cell in results: `dataset__model__strategy__setting__seedN`, followed for a cache
 * cell by `protocolSuffix` (empty for one-shot, `__streaming-c16` for streaming with chunks of
 * 16), so that rows of both protocols can share one results file.
 */
export function cellKey(dataset: string, model: string, cell: CellPlan, seed: number, protocolSuffix = ''): string {
  const suffix = cell.kind === 'cache' ? protocolSuffix : '';
  return `${dataset}__${model}__${cell.strategy}__${cell.setting === '' ? 'default' : cell.setting}__seed${seed}${suffix}`;
}

/** Whether any cell's method reads attention statistics recorded at prefill. */
export function needsAttentionStats(cells: readonly CellPlan[]): boolean {
  return cells.some((cell) => cell.method.reads.some((what) => what === 'accumulated-attention' || what === 'window-attention'));
}
