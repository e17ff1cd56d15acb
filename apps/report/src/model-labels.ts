import { canonicalJson } from './canonical-json';
import type { Logger } from './logger';
import { modelLabelSplit, modelSettingsNotRecorded } from './messages';
import type { ResultRow } from './results';

/** Label suffix of rows that record no training settings while other rows of their label do. */
export const SETTINGS_NOT_RECORDED = 'settings not recorded';

/**
 * Gives rows that share a model label, but whose models were trained with different settings
 * or on different data, labels of their own, so that the leaderboard never averages one
 * model's seeds with another's.
 *
 * A row label names the model and its variant only (`sasrec`, `sasrec-mqa`), not base settings
 * such as `model.heads` or `training.epochs`. Within one (dataset, task, label) the rows are
 * grouped by their {@link ResultRow.trainedSettings} (which the runner writes in a canonical
 * form) and data fingerprint. When there is more than one group, each row's label gets the
 * values that differ between the groups, for example `sasrec (model.heads=2)`, and a warning
 * names them. Rows that record no settings keep the plain label when the whole label has
 * none (with a warning that they cannot be checked), and are labelled
 * `(settings not recorded)` otherwise.
 *
 * @param rows - Rows in file order; they are not changed.
 * @param logger - Receives one warning per label that was split or could not be checked.
 * @returns The rows in the same order, relabelled where needed.
 */
export function separateModelLabels(rows: readonly ResultRow[], logger: Logger): ResultRow[] {
  // Group the settings of each (dataset, task, label); null stands for rows without settings.
  const groups = new Map<string, Map<string, Record<string, unknown> | null>>();
  for (const row of rows) {
    const labelKey = JSON.stringify([row.dataset, row.task, row.model]);
    const settings = groups.get(labelKey) ?? new Map<string, Record<string, unknown> | null>();
    const identity = identityOf(row);
    settings.set(canonicalJson(identity), identity);
    groups.set(labelKey, settings);
  }

  // Name the differing settings of each label that covers more than one trained model.
  const relabel = new Map<string, Map<string, string>>();
  for (const [labelKey, settings] of groups) {
    const [dataset, , model] = JSON.parse(labelKey) as [string, string, string];
    const known = [...settings.values()].filter((value): value is Record<string, unknown> => value !== null);
    if (known.length === 0) {
      logger.warn(modelSettingsNotRecorded(dataset, model));
      continue;
    }
    if (settings.size < 2) {
      continue;
    }
    const fields = differingFields(known);
    const labels = new Map<string, string>();
    for (const [key, value] of settings) {
      if (value === null) {
        labels.set(key, `${model} (${SETTINGS_NOT_RECORDED})`);
      } else {
        labels.set(key, fields.length === 0 ? model : `${model} (${describeSettings(value, fields)})`);
      }
    }
    relabel.set(labelKey, labels);
    logger.warn(modelLabelSplit(dataset, model, fields, [...labels.values()].sort()));
  }

  return rows.map((row) => {
    const labels = relabel.get(JSON.stringify([row.dataset, row.task, row.model]));
    return labels === undefined ? row : { ...row, model: labels.get(canonicalJson(identityOf(row))) as string };
  });
}

/** Returns what identifies a row's trained model: its settings and, when known, the first 12 hex digits of its data fingerprint; null without settings. */
function identityOf(row: ResultRow): Record<string, unknown> | null {
  if (row.trainedSettings === null) {
    return null;
  }
  return row.dataFingerprint === null ? { ...row.trainedSettings } : { ...row.trainedSettings, data: { fingerprint: row.dataFingerprint.slice(0, 12) } };
}

/** Lists, sorted, the dotted names of the second-level fields (`model.heads`) whose values are not the same in every settings object. */
function differingFields(settings: readonly Readonly<Record<string, unknown>>[]): string[] {
  const names = new Set<string>();
  for (const value of settings) {
    for (const section of Object.keys(value)) {
      const inner = value[section];
      if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
        Object.keys(inner).forEach((name) => names.add(`${section}.${name}`));
      } else {
        names.add(section);
      }
    }
  }
  return [...names].filter((name) => new Set(settings.map((value) => canonicalJson(valueAt(value, name)))).size > 1).sort();
}

/** Reads a dotted field of at most two levels; undefined when absent. */
function valueAt(settings: Readonly<Record<string, unknown>>, name: string): unknown {
  const [section, field] = name.split('.', 2);
  const inner = settings[section];
  if (field === undefined) {
    return inner;
  }
  return typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>)[field] : undefined;
}

/** Formats the differing fields of one settings object: `model.heads=2, training.loss=bce`; an absent field reads `unset`. */
function describeSettings(settings: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  return fields
    .map((name) => {
      const value = valueAt(settings, name);
      if (value === undefined) {
        return `${name}=unset`;
      }
      return `${name}=${typeof value === 'string' ? value : canonicalJson(value)}`;
    })
    .join(', ');
}
