// A reusable set of item ids backed by one Uint8Array, so that masking a user's history does
// not copy the scores or allocate per call. Every public function that marks items clears
// its marks before it returns or throws, so the buffer is all zeros between calls. The
// functions that use it are synchronous, so no other caller can see the marks while they
// are set.

import { duplicateItem } from './messages';
import { requireArrayLike, requireInteger } from './validation';

/** One flag per item id. The buffer grows to the largest catalogue seen and never shrinks. */
let flags = new Uint8Array(1024); // [capacity]

/** Returns the shared flag buffer with room for ids 0..nItems, all flags cleared. */
function flagsFor(nItems: number): Uint8Array {
  if (flags.length <= nItems) {
    let capacity = flags.length;
    while (capacity <= nItems) {
      capacity *= 2;
    }
    flags = new Uint8Array(capacity);
  }
  return flags;
}

/** Marked item ids plus the bookkeeping needed to clear them again. */
export interface ItemMarks {
  /** Flags with `flags[id] === 1` when item `id` is marked. Only entries 0..nItems are meaningful. */
  readonly flags: Uint8Array; // [capacity ≥ nItems + 1]
  /** Number of distinct marked ids. */
  readonly distinct: number;
}

/**
 * Marks each id of `ids` (which may repeat) in the shared buffer and returns the buffer.
 * Ids must be integers in [minId, nItems]. Id 0 (padding) is accepted only when minId is 0,
 * and is never marked. `keep` is never marked either (use -1 for none). When `rejectDuplicates` is set, a repeated id
 * throws. On any error the marks set so far are cleared before the error propagates.
 * The caller must call `clearItemMarks(ids)` when done, normally in a `finally` block.
 */
export function markItems(
  where: string,
  argument: string,
  ids: unknown,
  nItems: number,
  options: { minId: 0 | 1; keep: number; rejectDuplicates: boolean },
): ItemMarks {
  requireArrayLike(where, argument, ids);
  const buffer = flagsFor(nItems);
  const list = ids as ArrayLike<unknown>;
  let distinct = 0;

  try {
    for (let i = 0; i < list.length; i += 1) {
      const id = list[i];
      requireInteger(where, `${argument}[${i}]`, id, options.minId, nItems);
      if (id === 0 || id === options.keep) {
        continue;
      }
      if (buffer[id] === 1) {
        if (options.rejectDuplicates) {
          throw new RangeError(duplicateItem(where, argument, id));
        }
        continue;
      }
      buffer[id] = 1;
      distinct += 1;
    }
  } catch (error) {
    clearItemMarks(list);
    throw error;
  }
  return { flags: buffer, distinct };
}

/** Clears the marks that `markItems(ids)` set. Ids outside the buffer are ignored. */
export function clearItemMarks(ids: ArrayLike<unknown>): void {
  for (let i = 0; i < ids.length; i += 1) {
    const id = ids[i];
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < flags.length) {
      flags[id] = 0;
    }
  }
}
