import type { HeadCache } from '../kv-cache';
import { ConcatStorage } from '../storage/concat-storage';
import { Float32Storage } from '../storage/float32-storage';
import type { TensorStorage } from '../storage/tensor-storage';

// Helpers of the precision strategies. After a precision strategy has run, a head's storage
// is an encoded prefix, followed by float32 rows once the model appends more tokens. These
// helpers find the float32 rows at the end, the only ones a precision strategy re-encodes.

/** A storage split into an encoded prefix and its trailing float32 rows. */
export interface Float32Tail {
  /** Parts before the float32 tail, in order; kept as they are. */
  readonly prefix: readonly TensorStorage[];
  /** `[tailRows, cols]` row-major float32 rows at the end of the storage. */
  readonly tail: Float32Array;
  readonly tailRows: number;
  readonly cols: number;
}

/** Splits a storage into its leading parts and the float32 rows at its end. */
export function splitFloat32Tail(storage: TensorStorage): Float32Tail {
  const parts = storage instanceof ConcatStorage ? flattenParts(storage) : [storage];
  let first = parts.length;
  while (first > 0 && parts[first - 1] instanceof Float32Storage) {
    first -= 1;
  }
  const tailParts = parts.slice(first) as Float32Storage[];
  const tailRows = tailParts.reduce((sum, part) => sum + part.rows, 0);
  const tail = new Float32Array(tailRows * storage.cols); // [tailRows, cols]
  let offset = 0;
  for (const part of tailParts) {
    tail.set(part.data, offset);
    offset += part.data.length;
  }
  return { prefix: parts.slice(0, first), tail, tailRows, cols: storage.cols };
}

/** Joins storage parts, skipping empty ones; a single part is returned as it is. */
export function joinParts(parts: readonly TensorStorage[], cols: number): TensorStorage {
  const nonEmpty = parts.filter((part) => part.rows > 0);
  if (nonEmpty.length === 0) {
    return new Float32Storage(new Float32Array(0), 0, cols);
  }
  return nonEmpty.length === 1 ? nonEmpty[0] : new ConcatStorage(nonEmpty);
}

/** Returns a head with new keys and values and the same token metadata. */
export function withStorages(head: HeadCache, keys: TensorStorage, values: TensorStorage): HeadCache {
  return { ...head, keys, values };
}

function flattenParts(storage: ConcatStorage): TensorStorage[] {
  return storage.parts.flatMap((part) => (part instanceof ConcatStorage ? flattenParts(part) : [part]));
}
