import type { InteractionLog, RawId } from './interaction-log';
import {
  emptyDataset,
  ratingThresholdWithoutRatings,
  stepDedupe,
  stepKCore,
  stepRatingThreshold,
  stepRemap,
  stepSort,
} from './messages';
import { resolvePreprocessOptions, type ResolvedPreprocessOptions } from './options';
import type { PreprocessOptions, SequenceDataset } from './types';

/** Name, files and format of a log, carried into {@link SequenceDataset.source}. */
export interface LogDescription {
  /** Dataset id, for example `'ml-1m'`. */
  name: string;
  /** Absolute paths of the files read; empty for generated data. */
  files: string[];
  /** Name of the input format. */
  format: string;
  /** Parameters of the source (file sizes, digests, generator settings); the resolved options are added. */
  params?: Record<string, unknown>;
  /** Report lines of the reading step, placed before the preprocessing lines. */
  steps?: string[];
}

/**
 * Turns an interaction log into chronological per-user sequences.
 *
 * The steps run in this order:
 * 1. Keep rows with `rating >= ratingThreshold`.
 * 2. Sort each user's rows by timestamp with a stable sort, so equal timestamps keep file
 *    order. Without timestamps the file order is the chronological order.
 * 3. Remove repeated (user, item) pairs according to `dedupe`.
 * 4. Apply k-core filtering until every user and item has its minimum.
 * 5. Renumber users as 0, 1, … and items as 1, 2, … in ascending order of their raw numeric
 *    ids, so 0 stays padding.
 *
 * Every step writes a line to `report.steps` and to the logger.
 *
 * @param log - Parsed rows.
 * @param description - Name, files and format of the log.
 * @param options - Preprocessing options; all steps are off by default.
 * @throws RangeError when an option is invalid, or when `ratingThreshold` is set but the log
 *   has no ratings.
 * @example
 * ```ts
 * const builder = new InteractionLogBuilder(true, false);
 * builder.add(7, 0, 100); // user 7, raw item 0, time 100
 * builder.add(7, 42, 50);
 * const dataset = buildSequenceDataset(builder.finish(), { name: 'toy', files: [], format: 'inline' });
 * // dataset.items = [2, 1]: raw item 42 (id 2) came first in time.
 * ```
 */
export function buildSequenceDataset(log: InteractionLog, description: LogDescription, options: PreprocessOptions = {}): SequenceDataset {
  const resolved = resolvePreprocessOptions('buildSequenceDataset', options);
  return preprocessLog('buildSequenceDataset', log, description, resolved);
}

/**
 * {@link buildSequenceDataset} with options already resolved; `where` names the public
 * function in error messages.
 */
export function preprocessLog(where: string, log: InteractionLog, description: LogDescription, options: ResolvedPreprocessOptions): SequenceDataset {
  const steps = [...(description.steps ?? [])];
  const note = (line: string): void => {
    steps.push(line);
    options.logger.info(`${description.name}: ${line}`);
  };

  // Rating threshold.
  checkRatingThreshold(where, options, log.ratings !== null, description.format);
  const kept = keepRatedRows(log, options.ratingThreshold); // [rows after threshold]
  const belowRatingThreshold = log.rowCount - kept.length;
  if (options.ratingThreshold !== null) {
    note(stepRatingThreshold(options.ratingThreshold, belowRatingThreshold, kept.length));
  }

  // Chronological order per user.
  const grouped = groupByUserChronologically(log, kept);
  note(stepSort(log.timestamps !== null));

  // De-duplication.
  const alive = new Uint8Array(grouped.order.length).fill(1); // [rows after threshold]
  const duplicatesRemoved = removeDuplicates(log, grouped, alive, options.dedupe);
  note(stepDedupe(options.dedupe, duplicatesRemoved));

  // k-core filtering to a fixed point.
  const kCore = applyKCore(log, grouped, alive, options.minUserInteractions, options.minItemInteractions);
  note(stepKCore(options.minUserInteractions, options.minItemInteractions, kCore.removed, kCore.passes));

  // Remap ids and build the CSR arrays.
  const dataset = remapToCsr(log, grouped, alive);
  const usersRemoved = log.rawUserIds.length - dataset.userCount;
  const itemsRemoved = log.rawItemIds.length - dataset.itemCount;
  note(stepRemap(dataset.userCount, dataset.itemCount, dataset.items.length, usersRemoved, itemsRemoved));
  if (dataset.items.length === 0) {
    options.logger.warn(emptyDataset(description.name, log.rowCount));
  }

  return {
    name: description.name,
    ...dataset,
    source: {
      files: description.files,
      format: description.format,
      params: {
        ...(description.params ?? {}),
        minItemInteractions: options.minItemInteractions,
        minUserInteractions: options.minUserInteractions,
        ratingThreshold: options.ratingThreshold,
        dedupe: options.dedupe,
        idOrder: 'ascending raw id; item 0 is padding',
      },
    },
    report: {
      rowsRead: log.rowCount,
      duplicatesRemoved,
      belowRatingThreshold,
      kCoreRemoved: kCore.removed,
      usersRemoved,
      itemsRemoved,
      steps,
    },
  };
}

/**
 * @throws RangeError when a rating threshold is set for a source without ratings, because
 *   ignoring the threshold would silently change the dataset.
 */
export function checkRatingThreshold(where: string, options: ResolvedPreprocessOptions, hasRatings: boolean, format: string): void {
  if (options.ratingThreshold !== null && !hasRatings) {
    throw new RangeError(ratingThresholdWithoutRatings(where, format));
  }
}

/** Row indices with `rating >= threshold`, in file order; every row when `threshold` is `null`. */
function keepRatedRows(log: InteractionLog, threshold: number | null): Int32Array {
  const rows = new Int32Array(log.rowCount); // [rows]
  let count = 0;
  for (let row = 0; row < log.rowCount; row++) {
    if (threshold === null || (log.ratings as Float32Array)[row] >= threshold) {
      rows[count++] = row;
    }
  }
  return rows.slice(0, count);
}

/** Rows grouped by provisional user: user `p` owns `order[starts[p] .. starts[p + 1])`. */
interface GroupedRows {
  /** Row indices, `[rows after threshold]`, chronological within each user. */
  order: Int32Array;
  /** Provisional item of each entry of `order`, `[rows after threshold]`, for sequential access. */
  items: Int32Array;
  /** Segment starts, `[provisional users + 1]`. */
  starts: Int32Array;
}

/**
 * Groups rows by user with a counting sort (stable, so file order survives), then sorts each
 * user's rows by timestamp, breaking ties by row index.
 */
function groupByUserChronologically(log: InteractionLog, rows: Int32Array): GroupedRows {
  // Count rows per user.
  const userTotal = log.rawUserIds.length;
  const starts = new Int32Array(userTotal + 1); // [users + 1]
  for (let k = 0; k < rows.length; k++) {
    starts[log.users[rows[k]] + 1]++;
  }
  for (let user = 0; user < userTotal; user++) {
    starts[user + 1] += starts[user];
  }

  // Place rows in file order within each user.
  const order = new Int32Array(rows.length); // [rows after threshold]
  const cursor = starts.slice(0, userTotal); // [users]
  for (let k = 0; k < rows.length; k++) {
    order[cursor[log.users[rows[k]]]++] = rows[k];
  }

  // Sort each user's rows by time where the file was not already in order.
  const timestamps = log.timestamps;
  if (timestamps !== null) {
    const byTimeThenRow = (a: number, b: number): number => timestamps[a] - timestamps[b] || a - b;
    for (let user = 0; user < userTotal; user++) {
      const segment = order.subarray(starts[user], starts[user + 1]);
      if (!isChronological(segment, timestamps)) {
        segment.sort(byTimeThenRow);
      }
    }
  }

  // Items in the same order, so later passes read memory sequentially.
  const items = new Int32Array(order.length); // [rows after threshold]
  for (let k = 0; k < order.length; k++) {
    items[k] = log.items[order[k]];
  }
  return { order, starts, items };
}

function isChronological(rows: Int32Array, timestamps: Float64Array): boolean {
  for (let k = 1; k < rows.length; k++) {
    if (timestamps[rows[k]] < timestamps[rows[k - 1]]) {
      return false;
    }
  }
  return true;
}

/**
 * Clears `alive` for repeated (user, item) rows: `'keep-first'` keeps the earliest row of each
 * pair, `'keep-last'` the latest. Returns the number of rows removed.
 */
function removeDuplicates(log: InteractionLog, grouped: GroupedRows, alive: Uint8Array, policy: ResolvedPreprocessOptions['dedupe']): number {
  if (policy === 'keep-all') {
    return 0;
  }
  const lastUserOfItem = new Int32Array(log.rawItemIds.length).fill(-1); // [items]
  const { starts, items } = grouped;
  let removed = 0;
  for (let user = 0; user + 1 < starts.length; user++) {
    const first = starts[user];
    const last = starts[user + 1] - 1;
    const step = policy === 'keep-first' ? 1 : -1;
    for (let k = policy === 'keep-first' ? first : last; k >= first && k <= last; k += step) {
      const item = items[k];
      if (lastUserOfItem[item] === user) {
        alive[k] = 0;
        removed++;
      } else {
        lastUserOfItem[item] = user;
      }
    }
  }
  return removed;
}

/**
 * Removes interactions of users with fewer than `minUser` and items with fewer than `minItem`
 * interactions, repeating until nothing changes. Any removal order reaches the same result,
 * the largest subset in which every user and item meets its minimum. `passes` counts the
 * passes that removed something.
 */
function applyKCore(
  log: InteractionLog,
  grouped: GroupedRows,
  alive: Uint8Array,
  minUser: number,
  minItem: number,
): { removed: number; passes: number } {
  if (minUser <= 0 && minItem <= 0) {
    return { removed: 0, passes: 0 };
  }
  const { starts, items } = grouped;
  const userTotal = log.rawUserIds.length;

  // Degrees of the rows still alive.
  const userDegree = new Int32Array(userTotal); // [users]
  const itemDegree = new Int32Array(log.rawItemIds.length); // [items]
  for (let user = 0; user < userTotal; user++) {
    for (let k = starts[user]; k < starts[user + 1]; k++) {
      if (alive[k] === 1) {
        userDegree[user]++;
        itemDegree[items[k]]++;
      }
    }
  }

  // Remove violating rows until a pass removes nothing.
  let removed = 0;
  let passes = 0;
  for (;;) {
    let removedThisPass = 0;
    for (let user = 0; user < userTotal; user++) {
      for (let k = starts[user]; k < starts[user + 1]; k++) {
        if (alive[k] === 1 && (userDegree[user] < minUser || itemDegree[items[k]] < minItem)) {
          alive[k] = 0;
          userDegree[user]--;
          itemDegree[items[k]]--;
          removedThisPass++;
        }
      }
    }
    if (removedThisPass === 0) {
      return { removed, passes };
    }
    removed += removedThisPass;
    passes++;
  }
}

type CsrArrays = Pick<SequenceDataset, 'userCount' | 'itemCount' | 'offsets' | 'items' | 'timestamps' | 'ratings' | 'labels' | 'rawUserIds' | 'rawItemIds'>;

/** Renumbers surviving users and items in ascending raw order and writes the CSR arrays. */
function remapToCsr(log: InteractionLog, grouped: GroupedRows, alive: Uint8Array): CsrArrays {
  const { order, starts } = grouped;

  // Surviving rows per provisional user and item.
  const rowsOfUser = new Int32Array(log.rawUserIds.length); // [provisional users]
  const itemSeen = new Uint8Array(log.rawItemIds.length); // [provisional items]
  for (let user = 0; user < rowsOfUser.length; user++) {
    for (let k = starts[user]; k < starts[user + 1]; k++) {
      if (alive[k] === 1) {
        rowsOfUser[user]++;
        itemSeen[grouped.items[k]] = 1;
      }
    }
  }

  // New ids in ascending raw order: users from 0, items from 1.
  const keptUsers = ascendingByRawId(log.rawUserIds, (user) => rowsOfUser[user] > 0);
  const keptItems = ascendingByRawId(log.rawItemIds, (item) => itemSeen[item] === 1);
  const itemIdOf = new Int32Array(log.rawItemIds.length); // [provisional items]
  keptItems.forEach((item, rank) => {
    itemIdOf[item] = rank + 1;
  });

  // CSR offsets, then each user's rows in chronological order.
  const offsets = new Int32Array(keptUsers.length + 1); // [userCount + 1]
  keptUsers.forEach((user, index) => {
    offsets[index + 1] = offsets[index] + rowsOfUser[user];
  });
  const total = offsets[keptUsers.length];
  const items = new Int32Array(total); // [interactions]
  const timestamps = log.timestamps === null ? null : new Float64Array(total); // [interactions]
  const ratings = log.ratings === null ? null : new Float32Array(total); // [interactions]
  const sourceLabels = log.labels ?? null;
  const labels = sourceLabels === null ? null : new Uint8Array(total); // [interactions]
  keptUsers.forEach((user, index) => {
    let target = offsets[index];
    for (let k = starts[user]; k < starts[user + 1]; k++) {
      if (alive[k] === 0) {
        continue;
      }
      const row = order[k];
      items[target] = itemIdOf[grouped.items[k]];
      if (timestamps !== null) {
        timestamps[target] = (log.timestamps as Float64Array)[row];
      }
      if (ratings !== null) {
        ratings[target] = (log.ratings as Float32Array)[row];
      }
      if (labels !== null) {
        labels[target] = (sourceLabels as Uint8Array)[row];
      }
      target++;
    }
  });

  return {
    userCount: keptUsers.length,
    itemCount: keptItems.length,
    offsets,
    items,
    timestamps,
    ratings,
    labels,
    rawUserIds: keptUsers.map((user) => String(log.rawUserIds[user])),
    rawItemIds: ['', ...keptItems.map((item) => String(log.rawItemIds[item]))],
  };
}

/**
 * Provisional indices that pass `keep`, sorted by raw id (raw ids are distinct). Numbers, and
 * strings that are all canonical integers (`'7'`, not `'007'`), sort numerically; any other
 * strings sort by UTF-16 code units, as `Array.prototype.sort` does.
 */
function ascendingByRawId(rawIds: readonly RawId[], keep: (index: number) => boolean): number[] {
  const indices: number[] = [];
  for (let index = 0; index < rawIds.length; index++) {
    if (keep(index)) {
      indices.push(index);
    }
  }
  if (rawIds.every((id) => typeof id === 'number' || CANONICAL_INTEGER.test(id))) {
    const numeric = rawIds.map(Number); // [provisional ids]
    return indices.sort((a, b) => numeric[a] - numeric[b]);
  }
  const text = rawIds.map(String); // [provisional ids]
  return indices.sort((a, b) => {
    if (text[a] === text[b]) {
      return 0;
    }
    return text[a] < text[b] ? -1 : 1;
  });
}

/** A decimal integer without leading zeros, of at most 15 digits, so that it is exact as a number. */
const CANONICAL_INTEGER = /^(0|[1-9][0-9]{0,14})$/;
