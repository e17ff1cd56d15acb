import { invalidArgument } from '../messages';
import type { TensorStorage } from './tensor-storage';

/**
 * Row-wise concatenation of storages with the same column count, for example a quantised
 * block followed by float32 rows appended after compression. Each part keeps its own
 * encoding and bytes.
 *
 * @param parts - storages, each `[rows_i, cols]`; at least one.
 * @throws RangeError when the parts are empty or their column counts differ.
 * @example
 * const grown = new ConcatStorage([quantisedKeys, new Float32Storage(newRows, 1, 50)]);
 */
export class ConcatStorage implements TensorStorage {
  readonly rows: number;
  readonly cols: number;
  readonly kind: string;

  constructor(readonly parts: readonly TensorStorage[]) {
    if (parts.length === 0) {
      throw new RangeError(invalidArgument('ConcatStorage', 'parts', 'at least one storage', 'an empty list'));
    }
    const cols = parts[0].cols;
    for (const part of parts) {
      if (part.cols !== cols) {
        throw new RangeError(invalidArgument('ConcatStorage', 'parts', `every part with ${cols} columns`, `a part with ${part.cols}`));
      }
    }
    this.cols = cols;
    this.rows = parts.reduce((sum, part) => sum + part.rows, 0);
    this.kind = parts.map((part) => part.kind).join('+');
  }

  decode(): Float32Array {
    const out = new Float32Array(this.rows * this.cols); // [rows, cols] row-major
    let offset = 0;
    for (const part of this.parts) {
      out.set(part.decode(), offset);
      offset += part.rows * this.cols;
    }
    return out;
  }

  buffers(): readonly ArrayBufferView[] {
    return this.parts.flatMap((part) => part.buffers());
  }
}
