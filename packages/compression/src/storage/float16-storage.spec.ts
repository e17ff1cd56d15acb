import { maxAbsDifference } from '../__fixtures__/helpers';
import { invalidShape } from '../messages';
import { createSeededRandom } from '../prng';
import { Float16Storage, float16StorageBytes } from './float16-storage';
import { storageBytes } from './tensor-storage';

describe('Float16Storage', () => {
  it('charges two bytes per number', () => {
    for (const [rows, cols] of [[0, 4], [1, 1], [200, 50], [17, 3]]) {
      const storage = Float16Storage.fromFloat32(new Float32Array(rows * cols), rows, cols);
      expect(storageBytes(storage)).toBe(float16StorageBytes(rows, cols));
      expect(float16StorageBytes(rows, cols)).toBe(2 * rows * cols);
    }
  });

  it('decodes within half a float16 unit', () => {
    const random = createSeededRandom(9);
    const data = Float32Array.from({ length: 300 }, () => 4 * random() - 2); // [100, 3]
    const decoded = Float16Storage.fromFloat32(data, 100, 3).decode();
    // |x| < 2 has a float16 spacing of at most 2^-10, so the error is at most 2^-11.
    expect(maxAbsDifference(decoded, data)).toBeLessThanOrEqual(2 ** -11);
  });

  it('keeps exactly representable numbers exact', () => {
    const data = new Float32Array([0, 1, -2, 0.5, 65504, 2 ** -24]);
    expect(Array.from(Float16Storage.fromFloat32(data, 2, 3).decode())).toEqual(Array.from(data));
  });

  it('rejects a mismatched shape', () => {
    expect(() => Float16Storage.fromFloat32(new Float32Array(5), 2, 3)).toThrow(new RangeError(invalidShape('Float16Storage.fromFloat32', 'data', [2, 3], 5)));
    expect(() => new Float16Storage(new Uint16Array(5), 2, 3)).toThrow(RangeError);
  });
});
