import { invalidArgument, invalidShape } from './messages';
import { ConcatStorage } from './storage/concat-storage';
import { Float32Storage } from './storage/float32-storage';
import { storageBytes, type TensorStorage } from './storage/tensor-storage';

/**
 * Cached state of one KV head of one layer for one user.
 *
 * Kept tokens keep their original positions and timestamps, because SASRec's absolute
 * positions and HSTU's relative attention bias depend on them.
 */
export interface HeadCache {
  /** Keys, `[len, dKey]`. */
  readonly keys: TensorStorage;
  /** Values, `[len, dValue]`. */
  readonly values: TensorStorage;
  /**
   * Original position of each kept token, `[len]`, counted from 0 at the first item of the
   * history. It is `null` while the tokens are contiguous from `positionStart`, which costs 0 bytes.
   */
  readonly positions: Int32Array | null;
  /** Position of the first token when `positions` is `null`. */
  readonly positionStart: number;
  /** Timestamp of each kept token in seconds, `[len]`; `null` when the model uses no time. */
  readonly timestamps: Float64Array | null;
  /** Number of original tokens folded into each entry, `[len]`; `null` means 1 for all. */
  readonly weights: Float32Array | null;
}

/** Cached state of one layer: one entry per KV head (heads may keep different tokens). */
export interface LayerCache {
  readonly heads: readonly HeadCache[];
}

/**
 * The KV cache of one user: per layer and KV head, keys, values and token metadata.
 *
 * Its size ({@link cacheBytes}) is the sum of the byte lengths of every stored buffer,
 * metadata included; scalars (shapes, `positionStart`, `seenTokens`) and the diagnostic
 * `itemIds` are not counted.
 */
export interface KVCache {
  readonly layers: readonly LayerCache[];
  /** Number of history tokens the model has consumed; the next appended token gets this position. */
  readonly seenTokens: number;
  /** Item id at each original position, `[seenTokens]`. Diagnostic only: never counted in bytes. */
  readonly itemIds: Int32Array;
}

/** Number of tokens stored for one head. */
export function headLength(head: HeadCache): number {
  return head.keys.rows;
}

/** Original positions of a head's tokens as an array, `[len]` (materialised when implicit). */
export function headPositions(head: HeadCache): Int32Array {
  if (head.positions !== null) {
    return head.positions;
  }
  const positions = new Int32Array(headLength(head)); // [len]
  for (let i = 0; i < positions.length; i++) {
    positions[i] = head.positionStart + i;
  }
  return positions;
}

/** Bytes held by one head: keys, values and every metadata buffer. */
export function headBytes(head: HeadCache): number {
  let total = storageBytes(head.keys) + storageBytes(head.values);
  total += head.positions?.byteLength ?? 0;
  total += head.timestamps?.byteLength ?? 0;
  total += head.weights?.byteLength ?? 0;
  return total;
}

/** Bytes held by a whole cache: the sum over layers and heads of {@link headBytes}. */
export function cacheBytes(cache: KVCache): number {
  let total = 0;
  for (const layer of cache.layers) {
    for (const head of layer.heads) {
      total += headBytes(head);
    }
  }
  return total;
}

/** Largest number of tokens stored by any head of any layer. */
export function maxCachedTokens(cache: KVCache): number {
  let max = 0;
  for (const layer of cache.layers) {
    for (const head of layer.heads) {
      max = Math.max(max, headLength(head));
    }
  }
  return max;
}

/**
 * Builds a full float32 head from contiguous tokens starting at position 0.
 *
 * @param keys - `[len, dKey]` row-major.
 * @param values - `[len, dValue]` row-major.
 * @param timestamps - `[len]` seconds, or `null`.
 */
export function createFullHead(
  keys: Float32Array,
  values: Float32Array,
  len: number,
  dKey: number,
  dValue: number,
  timestamps: Float64Array | null = null,
): HeadCache {
  if (timestamps !== null && timestamps.length !== len) {
    throw new RangeError(invalidShape('createFullHead', 'timestamps', [len], timestamps.length));
  }
  return {
    keys: new Float32Storage(keys, len, dKey),
    values: new Float32Storage(values, len, dValue),
    positions: null,
    positionStart: 0,
    timestamps,
    weights: null,
  };
}

/**
 * Keeps the tokens at `indices` (ascending, into the head's current rows) of a float32 head.
 * Positions become explicit unless the kept tokens are still contiguous.
 *
 * @param indices - `[kept]` ascending row indices.
 * @throws TypeError when the head's storage is not float32 (prune before quantising).
 * @throws RangeError when an index is out of range or the indices are not ascending.
 */
export function gatherHead(head: HeadCache, indices: ArrayLike<number>): HeadCache {
  const len = headLength(head);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i];
    if (!Number.isInteger(index) || index < 0 || index >= len || (i > 0 && index <= indices[i - 1])) {
      throw new RangeError(invalidArgument('gatherHead', 'indices', `strictly ascending integers in [0, ${len})`, `${index} at entry ${i}`));
    }
  }
  if (!(head.keys instanceof Float32Storage) || !(head.values instanceof Float32Storage)) {
    throw new TypeError(invalidArgument('gatherHead', 'head', 'float32 keys and values (prune before quantising)', `${head.keys.kind} keys and ${head.values.kind} values`));
  }

  // Gather the rows of keys and values.
  const kept = indices.length;
  const keys = gatherRows(head.keys.data, head.keys.cols, indices); // [kept, dKey]
  const values = gatherRows(head.values.data, head.values.cols, indices); // [kept, dValue]

  // Gather metadata; positions stay implicit when the kept rows are one contiguous run.
  const allPositions = headPositions(head);
  const positions = new Int32Array(kept); // [kept]
  let contiguous = true;
  for (let i = 0; i < kept; i++) {
    positions[i] = allPositions[indices[i]];
    if (i > 0 && positions[i] !== positions[i - 1] + 1) {
      contiguous = false;
    }
  }
  return {
    keys: new Float32Storage(keys, kept, head.keys.cols),
    values: new Float32Storage(values, kept, head.values.cols),
    positions: contiguous ? null : positions,
    positionStart: contiguous && kept > 0 ? positions[0] : 0,
    timestamps: head.timestamps === null ? null : gatherRows(head.timestamps, 1, indices),
    weights: head.weights === null ? null : gatherRows(head.weights, 1, indices),
  };
}

/**
 * Appends contiguous new tokens (from the model's incremental step) to a head.
 * Float32 storage is copied into one larger float32 block; other encodings keep their
 * bytes and gain a float32 tail.
 *
 * @param keys - `[count, dKey]` row-major.
 * @param values - `[count, dValue]` row-major.
 * @param firstPosition - original position of the first new token.
 * @param timestamps - `[count]` seconds; required when the head stores timestamps.
 */
export function appendToHead(
  head: HeadCache,
  keys: Float32Array,
  values: Float32Array,
  count: number,
  firstPosition: number,
  timestamps: Float64Array | null = null,
): HeadCache {
  const dKey = head.keys.cols;
  const dValue = head.values.cols;
  if (keys.length !== count * dKey) {
    throw new RangeError(invalidShape('appendToHead', 'keys', [count, dKey], keys.length));
  }
  if (values.length !== count * dValue) {
    throw new RangeError(invalidShape('appendToHead', 'values', [count, dValue], values.length));
  }
  if ((head.timestamps === null) !== (timestamps === null)) {
    throw new TypeError(invalidArgument('appendToHead', 'timestamps', head.timestamps === null ? 'null (the head stores no timestamps)' : `${count} timestamps`, timestamps === null ? 'null' : `${timestamps.length} timestamps`));
  }

  // Grow keys and values.
  const newKeys = new Float32Storage(keys, count, dKey);
  const newValues = new Float32Storage(values, count, dValue);
  const grownKeys = concatStorages(head.keys, newKeys);
  const grownValues = concatStorages(head.values, newValues);

  // Grow metadata; positions stay implicit while the head is one contiguous run.
  const len = headLength(head);
  const contiguous = head.positions === null && (len === 0 || head.positionStart + len === firstPosition);
  let positions: Int32Array | null = null;
  if (!contiguous) {
    positions = new Int32Array(len + count); // [len + count]
    positions.set(headPositions(head));
    for (let i = 0; i < count; i++) {
      positions[len + i] = firstPosition + i;
    }
  }
  let grownWeights: Float32Array | null = null;
  if (head.weights !== null) {
    grownWeights = new Float32Array(len + count).fill(1); // [len + count]
    grownWeights.set(head.weights);
  }
  let grownTimestamps: Float64Array | null = null;
  if (head.timestamps !== null && timestamps !== null) {
    grownTimestamps = new Float64Array(len + count); // [len + count]
    grownTimestamps.set(head.timestamps);
    grownTimestamps.set(timestamps, len);
  }
  let positionStart = 0;
  if (contiguous) {
    positionStart = len === 0 ? firstPosition : head.positionStart;
  }
  return {
    keys: grownKeys,
    values: grownValues,
    positions,
    positionStart,
    timestamps: grownTimestamps,
    weights: grownWeights,
  };
}

function concatStorages(a: TensorStorage, b: Float32Storage): TensorStorage {
  if (a.rows === 0) {
    return b;
  }
  if (a instanceof Float32Storage) {
    const data = new Float32Array(a.data.length + b.data.length); // [rows_a + rows_b, cols]
    data.set(a.data);
    data.set(b.data, a.data.length);
    return new Float32Storage(data, a.rows + b.rows, a.cols);
  }
  const parts = a instanceof ConcatStorage ? [...a.parts, b] : [a, b];
  return new ConcatStorage(parts);
}

function gatherRows<T extends Float32Array | Float64Array>(data: T, cols: number, indices: ArrayLike<number>): T {
  const out = new (data.constructor as { new (length: number): T })(indices.length * cols);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i] * cols;
    out.set(data.subarray(start, start + cols), i * cols);
  }
  return out;
}

/**
 * Builds an empty float32 cache, the starting point of the streaming protocol.
 *
 * @param layers - number of layers, ≥ 1.
 * @param kvHeads - KV heads per layer, ≥ 1.
 * @param dKey - key width per head.
 * @param dValue - value width per head.
 * @param withTimestamps - whether heads store timestamps (models that use time).
 * @throws RangeError when a count or width is not a positive integer.
 */
export function createEmptyCache(layers: number, kvHeads: number, dKey: number, dValue: number, withTimestamps = false): KVCache {
  for (const [name, value] of [['layers', layers], ['kvHeads', kvHeads], ['dKey', dKey], ['dValue', dValue]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(invalidArgument('createEmptyCache', name, 'an integer ≥ 1', String(value)));
    }
  }
  const emptyHead = (): HeadCache => createFullHead(new Float32Array(0), new Float32Array(0), 0, dKey, dValue, withTimestamps ? new Float64Array(0) : null);
  return {
    layers: Array.from({ length: layers }, () => ({ heads: Array.from({ length: kvHeads }, emptyHead) })),
    seenTokens: 0,
    itemIds: new Int32Array(0),
  };
}
