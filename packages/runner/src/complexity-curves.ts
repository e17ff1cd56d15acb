import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { complexityCurve, type AttentionModelConfig, type CacheMethod } from '@malloc/metrics';
import type { RunConfig } from './config';

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
 * Only plain SASRec and HSTU have an analytical model, so variants and other models get none.
 */
export function complexityCurves(config: RunConfig, datasetName: string, itemCount: number, hasTimestamps: boolean): ComplexityCurveRecord[] {
  const settings = config.model;
  if (settings.kvLatentSize !== undefined || settings.beacon !== undefined || settings.linformer !== undefined || settings.lsh !== undefined) {
    return [];
  }
  const records: ComplexityCurveRecord[] = [];
  for (const model of config.models) {
    if (model !== 'sasrec' && model !== 'hstu') {
      continue;
    }
    const dimensions: AttentionModelConfig = { layers: settings.layers, hiddenSize: settings.hiddenSize, heads: settings.heads, itemCount, ...(settings.kvHeads === undefined ? {} : { kvHeads: settings.kvHeads }) };
    const timestamps = model === 'hstu' && hasTimestamps;
    const curve = (strategy: string, family: string, setting: string, method: CacheMethod): void => {
      const points = complexityCurve({ model, config: dimensions, method: { ...method, timestamps } });
      const base = { dataset: datasetName, model, task: config.task, family, strategy, setting };
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
