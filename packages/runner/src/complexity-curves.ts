import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { complexityCurve, DEFAULT_CURVE_LENGTHS, type AttentionModelConfig, type CacheMethod } from '@malloc/metrics';
import { resolveHstuConfig, resolveSasRecConfig, sequenceCacheBytes, sequenceKeptTokens, variantRequestMacs, type ModelConfig, type VariantMacsConfig } from '@malloc/models';
import type { RunConfig } from './config';
import { modelRowLabel } from './model-variants';

/** Name of the analytical complexity curves that `malloc bench` writes beside results.jsonl. */
export const COMPLEXITY_FILE = 'complexity.json';

/** One curve in the format the leaderboard's complexity page reads. */
export interface ComplexityCurveRecord {
  dataset: string;
  model: string;
  task: string;
  family: string;
  strategy: string;
  setting: string;
  measure: string;
  unit: string;
  points: { historyLength: number; value: number }[];
}

/**
 * Computes the analytical curves of one run's models against history length (1 to 16,384).
 * They are the bytes per user and MACs per request of the float32 `full` cache and the MACs of
 * `recompute`. For each compression ratio of the run they add the bytes and MACs of a cache
 * that keeps max(1, ⌊len · (1 − r)⌋) tokens with their positions, as score-based pruning does.
 * A variant (MLA, beacon, Linformer, LSH) gets the `full` and `recompute` curves of
 * {@link variantCurves}. GRU4Rec and RWKV get none.
 */
export function complexityCurves(config: RunConfig, datasetName: string, itemCount: number, hasTimestamps: boolean): ComplexityCurveRecord[] {
  const settings = config.model;
  if (settings.kvLatentSize !== undefined || settings.beacon !== undefined || settings.linformer !== undefined || settings.lsh !== undefined) {
    return variantCurves(config, datasetName, itemCount, hasTimestamps);
  }
  const records: ComplexityCurveRecord[] = [];
  for (const model of config.models) {
    if (model !== 'sasrec' && model !== 'hstu') {
      continue;
    }
    const dimensions: AttentionModelConfig = { layers: settings.layers, hiddenSize: settings.hiddenSize, heads: settings.heads, itemCount, ...(settings.kvHeads === undefined ? {} : { kvHeads: settings.kvHeads }) };
    const timestamps = model === 'hstu' && hasTimestamps && settings.timeBias !== false;
    const curve = (strategy: string, family: string, setting: string, method: CacheMethod): void => {
      const points = complexityCurve({ model, config: dimensions, method: { ...method, timestamps } });
      // Curves carry the row label, so that a GQA or MQA run never replaces the base model's curves.
      const base = { dataset: datasetName, model: modelRowLabel(model, settings), task: config.task, family, strategy, setting };
      if (strategy === 'recompute') {
        records.push({ ...base, measure: 'MACs per request (analytical)', unit: 'MACs', points: points.map((point) => ({ historyLength: point.length, value: point.macsWithoutCache })) });
        return;
      }
      records.push({ ...base, measure: 'bytes per user (analytical)', unit: 'bytes', points: points.map((point) => ({ historyLength: point.length, value: point.bytesPerUser })) });
      records.push({ ...base, measure: 'MACs per request (analytical)', unit: 'MACs', points: points.map((point) => ({ historyLength: point.length, value: point.macsPerRequest })) });
    };

    // The uncompressed cache, the cacheless reference, then one pruned cache per ratio.
    curve('full', 'reference', '', {});
    curve('recompute', 'reference', '', {});
    for (const ratio of config.compressionRatios) {
      if (ratio > 0) {
        curve('token pruning', 'token-pruning', `compressionRatio=${ratio}`, { ratio });
      }
    }
  }
  return records;
}

/**
 * Computes the analytical curves of a variant model (MLA, beacon, Linformer or LSH) against
 * history length (1 to 16,384). They are the bytes per user and MACs per request of the
 * uncompressed cache and the MACs of `recompute`, from `sequenceCacheBytes` and
 * `variantRequestMacs` of `@malloc/models` with the expected LSH bucket sizes. A beacon or
 * Linformer cache stores `sequenceKeptTokens` rows. Pruned caches get no curve, because pruning
 * a condensed cache changes which rows the next chunk condenses.
 */
export function variantCurves(config: RunConfig, datasetName: string, itemCount: number, hasTimestamps: boolean): ComplexityCurveRecord[] {
  const records: ComplexityCurveRecord[] = [];
  for (const model of config.models) {
    if (model !== 'sasrec' && model !== 'hstu') {
      continue;
    }

    // The model's configuration as training builds it: HSTU heads have width hiddenSize / heads.
    const headWidth = config.model.hiddenSize / config.model.heads;
    const modelConfig: ModelConfig =
      model === 'sasrec' ? resolveSasRecConfig({ itemCount, ...config.model }) : resolveHstuConfig({ itemCount, ...config.model, queryKeySize: headWidth, valueSize: headWidth });
    const timestamps = model === 'hstu' && hasTimestamps && config.model.timeBias !== false;
    const points = DEFAULT_CURVE_LENGTHS.map((length) => {
      const cachedRows = sequenceKeptTokens(modelConfig, length);
      const macs = variantRequestMacs(model, modelConfig as VariantMacsConfig, { seenTokens: length, cachedRows, requestLength: 1 });
      return { length, bytes: sequenceCacheBytes(modelConfig, length, { timestamps }), withCache: macs.withCache, withoutCache: macs.withoutCache };
    });

    // The uncompressed cache, then the cacheless reference, under the variant's row label so
    // that they never replace the base model's curves.
    const base = { dataset: datasetName, model: modelRowLabel(model, config.model), task: config.task, family: 'reference', setting: '' };
    records.push({ ...base, strategy: 'full', measure: 'bytes per user (analytical)', unit: 'bytes', points: points.map((point) => ({ historyLength: point.length, value: point.bytes })) });
    records.push({ ...base, strategy: 'full', measure: 'MACs per request (analytical)', unit: 'MACs', points: points.map((point) => ({ historyLength: point.length, value: point.withCache })) });
    records.push({ ...base, strategy: 'recompute', measure: 'MACs per request (analytical)', unit: 'MACs', points: points.map((point) => ({ historyLength: point.length, value: point.withoutCache })) });
  }
  return records;
}

/**
 * Writes `<out>/complexity.json`, replacing the curves of the same dataset, model, task,
 * strategy, setting and measure and keeping every other curve, so that runs of other datasets
 * or models in the same folder keep theirs. The file is derived, not a result, and it is
 * written through a temporary file and a rename.
 *
 * @returns the path written, or null when there was no curve to write.
 * @throws Error naming the file when an existing complexity.json is not valid JSON.
 */
export function writeComplexityCurves(out: string, curves: readonly ComplexityCurveRecord[]): string | null {
  if (curves.length === 0) {
    return null;
  }
  const path = join(out, COMPLEXITY_FILE);
  const keyOf = (curve: ComplexityCurveRecord): string => JSON.stringify([curve.dataset, curve.model, curve.task, curve.strategy, curve.setting, curve.measure]);

  // Keep the curves of earlier runs that this run does not recompute.
  let kept: ComplexityCurveRecord[] = [];
  if (existsSync(path)) {
    let parsed: { curves?: ComplexityCurveRecord[] };
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8')) as { curves?: ComplexityCurveRecord[] };
    } catch (error) {
      throw new Error(`Invalid ${path}: ${(error as Error).message}. Expected the JSON that malloc bench writes; move the file away to start a new one.`);
    }
    const replaced = new Set(curves.map(keyOf));
    kept = (parsed.curves ?? []).filter((curve) => !replaced.has(keyOf(curve)));
  }

  const temporary = join(out, `.${COMPLEXITY_FILE}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify({ schemaVersion: 1, curves: [...kept, ...curves] }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return path;
}
