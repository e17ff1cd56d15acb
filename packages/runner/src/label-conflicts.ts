import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from './config';
import type { ResultRow } from './results-store';

/** The `model` and `training` sections of a run configuration that determine the trained model. */
export interface TrainedSettings {
  model: Record<string, unknown>;
  training: Record<string, unknown>;
}

/** Rows of one model label that an earlier run trained with other settings. */
export interface LabelConflict {
  /** The rows' `model` field, for example `sasrec`. */
  model: string;
  /** The earlier run whose configuration differs. */
  runId: string;
  /** Dotted names of the settings that differ, for example `model.heads`. */
  fields: string[];
}

/**
 * Finds rows in a results file that carry one of this run's model labels on the same dataset
 * but come from a run whose model or training settings differ (`training.workers` aside, which
 * does not change what is trained). A row label names the model and its variant only, so the
 * leaderboard would average such rows with this run's over seeds. Earlier runs are read from
 * `<out>/runs/<runId>/config.json`; a run without that file is skipped.
 *
 * @param out - the results folder.
 * @param rows - the rows already in its `results.jsonl`.
 * @param config - this run's resolved configuration.
 * @param labels - the model labels this run writes.
 * @returns one conflict per (label, earlier run), in the order the rows appear.
 */
export function findLabelConflicts(out: string, rows: readonly ResultRow[], config: RunConfig, labels: readonly string[]): LabelConflict[] {
  const conflicts: LabelConflict[] = [];
  const seen = new Set<string>();
  const current = trainedSettings(config);

  for (const row of rows) {
    const key = `${row.model}\u0000${row.runId}`;
    if (row.dataset !== config.dataset || !labels.includes(row.model) || seen.has(key)) {
      continue;
    }
    seen.add(key);

    // Compare the settings that change the trained model.
    const path = join(out, 'runs', row.runId, 'config.json');
    if (!existsSync(path)) {
      continue;
    }
    const earlier = trainedSettings(JSON.parse(readFileSync(path, 'utf8')) as RunConfig);
    const fields = differingFields(earlier, current);
    if (fields.length > 0) {
      conflicts.push({ model: row.model, runId: row.runId, fields });
    }
  }
  return conflicts;
}

/**
 * Returns the settings that determine a trained model: the `model` and `training` sections of
 * a configuration, without `training.workers` (data-parallel workers split each batch but train
 * the same model). Every results row carries them as `training.settings`, so that a report can
 * tell apart rows whose labels agree but whose models were trained otherwise.
 */
export function trainedSettings(config: RunConfig): TrainedSettings {
  const { workers: _workers, ...training } = config.training ?? {};
  return { model: { ...(config.model ?? {}) }, training };
}

/** Lists, sorted, the dotted names of the second-level fields whose JSON differs between two settings objects. */
function differingFields(a: TrainedSettings, b: TrainedSettings): string[] {
  const fields: string[] = [];
  for (const section of ['model', 'training'] as const) {
    const names = new Set([...Object.keys(a[section]), ...Object.keys(b[section])]);
    for (const name of names) {
      if (JSON.stringify(a[section][name]) !== JSON.stringify(b[section][name])) {
        fields.push(`${section}.${name}`);
      }
    }
  }
  return fields.sort();
}
