/**
 * Storage of one 2-D block of a KV cache: the keys or the values of one head, shaped
 * `[len, dHead]`. A storage may keep the numbers in any encoding (float32, float16, integer
 * codes with scales, low-rank factors) but must decode to float32 on request and report every
 * buffer it holds, so that byte accounting is the sum of real buffer lengths.
 */
export interface TensorStorage {
  /** Encoding name, for example `float32`, `float16`, `int4-per-token-g32`, `low-rank-8`. */
  readonly kind: string;
  /** Number of rows (cached tokens). */
  readonly rows: number;
  /** Number of columns (`dHead`). */
  readonly cols: number;
  /** Decodes the block to float32, `[rows, cols]` row-major. The result is a fresh array. */
  decode(): Float32Array;
  /** Every buffer the storage holds; their byte lengths add up to its size. */
  buffers(): readonly ArrayBufferView[];
}

/** Byte length of a storage: the sum of the byte lengths of all its buffers. */
export function storageBytes(storage: TensorStorage): number {
  let total = 0;
  for (const buffer of storage.buffers()) {
    total += buffer.byteLength;
  }
  return total;
}
