import type { Logger } from './logger';
import { modelLabelSplit } from './messages';
import type { ResultRow } from './results';

/**
 * Gives rows that share a model label, but whose models were trained with different settings,
 * labels of their own, so that the leaderboard never averages one model's seeds with
 * another's.
 *
 * A row label names the model and its variant only (`sasrec`, `sasrec-mqa`), not base settings
 * such as `model.heads` or `training.epochs`. Within one (dataset, label) the rows are grouped
 * by their {@link ResultRow.trainedSettings}; when there is more than one group, each row's
 * label gets the values of the settings that differ between the groups, for example
 * `sasrec (model.heads=2)`, and a warning names them. Rows whose settings are unknown (written
 * before rows recorded them, with no saved run configuration) form a group of their own,
 * labelled `(settings unknown)` when other groups share its label.
 *
 * @param rows - Rows in file order; they are not changed.
 * @param logger - Receives one warning per label that was split.
 * @returns The rows in the same order, relabelled where needed.
 */
export function separateModelLabels(rows: readonly ResultRow[], logger: Logger): ResultRow[] {
  // Group the settings of each (dataset, label).
  const groups = new Map<string, Map<string, Readonly<Record<string, unknown>> | null>>();
  for (const row of rows) {
    const labelKey = JSON.stringify([row.dataset, row.model]);
    const settings = groups.get(labelKey) ?? new Map<string, Readonly<Record<string, unknown>> | null>();
    settings.set(jsonKey(row.trainedSettings), row.trainedSettings);
    groups.set(labelKey, settings);
  }

  // Name the differing settings of each label that covers more than one trained model.
  const relabel = new Map<string, Map<string, string>>();
  for (const [labelKey, settings] of groups) {
    if (settings.size < 2) {
      continue;
    }
    const [dataset, model] = JSON.parse(labelKey) as [string, string];
    const known = [...settings.values()].filter((value): value is Readonly<Record<string, unknown>> => value !== null);
    const fields = differingFields(known);
    const labels = new Map<string, string>();
    for (const [key, value] of settings) {
      labels.set(key, `${model} (${value === null ? 'settings unknown' : describeSettings(value, fields)})`);
    }
    relabel.set(labelKey, labels);
    logger.warn(modelLabelSplit(dataset, model, fields, [...labels.values()].sort()));
  }

  return rows.map((row) => {
    const labels = relabel.get(JSON.stringify([row.dataset, row.model]));
    return labels === undefined ? row : { ...row, model: labels.get(jsonKey(row.trainedSettings)) as string };
  });
}

/** Returns the JSON text of a value with the keys of every object sorted, or `undefined` for an absent value. */
function jsonKey(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeys);
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((key) => [key, sortKeys(object[key])]),
    );
  }
  return value;
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
  return [...names].filter((name) => new Set(settings.map((value) => jsonKey(valueAt(value, name)))).size > 1).sort();
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
  if (fields.length === 0) {
    return 'settings recorded';
  }
  return fields
    .map((name) => {
      const value = valueAt(settings, name);
      if (value === undefined) {
        return `${name}=unset`;
      }
      return `${name}=${typeof value === 'string' ? value : jsonKey(value)}`;
    })
    .join(', ');
}
