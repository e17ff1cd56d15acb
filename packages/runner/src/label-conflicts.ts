import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from './config';
import { modelRowLabel } from './model-variants';
import type { ResultRow } from './results-store';
import { differingSettings, trainedSettings } from './trained-settings';

/** Rows of one model label that an earlier run trained with other settings. */
export interface LabelConflict {
  /** The rows' `model` field, for example `sasrec`. */
  model: string;
  /** The earlier run whose configuration differs. */
  runId: string;
  /** Dotted names of the settings that differ, for example `model.heads`. */
  fields: string[];
}

/** Result of {@link findLabelConflicts}: the conflicts and the configurations that could not be read. */
export interface LabelCheck {
  conflicts: LabelConflict[];
  /** Saved run configurations that could not be read or parsed, each with the reason; their runs are not compared. */
  unreadable: { path: string; reason: string }[];
}

/**
 * Finds rows in a results file that carry one of this run's model labels on the same dataset
 * and task but come from a run whose model was trained with other settings (compared in the
 * canonical form of {@link trainedSettings}, so defaults spelled out and `training.workers`
 * make no difference). A row label names the model and its variant only, so the report has to
 * show such rows as separate models. The earlier settings are those a row recorded in
 * `training.settings`; for rows from before rows recorded them, they are read from
 * `<out>/runs/<runId>/config.json`. A run without that file is skipped, and a file that
 * cannot be read or parsed is listed in `unreadable`.
 *
 * @param out - the results folder.
 * @param rows - the rows already in its `results.jsonl`.
 * @param config - this run's resolved configuration.
 * @returns one conflict per (label, earlier run), in the order the rows appear.
 */
export function findLabelConflicts(out: string, rows: readonly ResultRow[], config: RunConfig): LabelCheck {
  const check: LabelCheck = { conflicts: [], unreadable: [] };
  const modelIds = new Map(config.models.map((modelId) => [modelRowLabel(modelId, config.model), modelId]));
  const task = config.task ?? 'retrieval';
  const seen = new Set<string>();

  for (const row of rows) {
    const modelId = modelIds.get(row.model);
    const key = `${row.model}\u0000${row.runId}`;
    if (row.dataset !== config.dataset || row.task !== task || modelId === undefined || seen.has(key)) {
      continue;
    }
    seen.add(key);

    // Compare the settings that change the trained model: those the row recorded, else those of its run's configuration.
    let earlierSettings = recordedSettings(row);
    if (earlierSettings === null) {
      const path = join(out, 'runs', row.runId, 'config.json');
      if (!existsSync(path)) {
        continue;
      }
      const earlier = readRunConfig(path);
      if (typeof earlier === 'string') {
        if (!check.unreadable.some((entry) => entry.path === path)) {
          check.unreadable.push({ path, reason: earlier });
        }
        continue;
      }
      earlierSettings = trainedSettings(earlier, modelId);
    }
    const fields = differingSettings(earlierSettings, trainedSettings(config, modelId));
    if (fields.length > 0) {
      check.conflicts.push({ model: row.model, runId: row.runId, fields });
    }
  }
  return check;
}

/** Returns the `training.settings` that a row recorded, or null for a row written before rows recorded them. */
function recordedSettings(row: ResultRow): Record<string, unknown> | null {
  const settings = row.training?.settings;
  const isObject = (field: unknown): field is Record<string, unknown> => typeof field === 'object' && field !== null && !Array.isArray(field);
  return isObject(settings) && isObject(settings.model) && isObject(settings.training) ? settings : null;
}

/**
 * Reads a saved run configuration; returns the reason as a string when it cannot be used. A
 * configuration without `training.negativeSampling` predates the option, whose runs drew
 * shared negatives, so it reads as `'shared'`.
 */
function readRunConfig(path: string): RunConfig | string {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return (error as Error).message;
  }
  const isObject = (field: unknown): boolean => typeof field === 'object' && field !== null && !Array.isArray(field);
  if (!isObject(value) || !isObject((value as RunConfig).model) || !isObject((value as RunConfig).training)) {
    return 'expected a JSON object with the objects model and training';
  }
  const config = value as RunConfig;
  return { ...config, training: { ...config.training, negativeSampling: config.training.negativeSampling ?? 'shared' }, evaluation: config.evaluation ?? {} };
}
