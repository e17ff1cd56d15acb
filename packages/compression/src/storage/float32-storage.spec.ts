import { ConcatStorage } from './concat-storage';
import { Float16Storage, float16StorageBytes } from './float16-storage';
import { Float32Storage, float32StorageBytes } from './float32-storage';
import { QuantizedStorage, quantizedStorageBytes } from './quantized-storage';
import { storageBytes } from './tensor-storage';

describe('Float32Storage', () => {
  it('charges four bytes per number', () => {
    for (const [rows, cols] of [[0, 3], [1, 1], [200, 64], [7, 5]]) {
      expect(storageBytes(new Float32Storage(new Float32Array(rows * cols), rows, cols))).toBe(float32StorageBytes(rows, cols));
      expect(float32StorageBytes(rows, cols)).toBe(4 * rows * cols);
    }
  });
});

describe('ConcatStorage', () => {
  it('charges the sum of its parts', () => {
    // 10 int4 rows of 8 channels (groups of 4): 10 · 8 · 4 / 8 = 40 B of codes + 20 groups · 4 B = 80 B.
    // 3 float16 rows: 3 · 8 · 2 = 48 B. 2 float32 rows: 2 · 8 · 4 = 64 B.
    const quantized = QuantizedStorage.encode(new Float32Array(80).fill(0.5), 10, 8, { bits: 4, groupSize: 4, axis: 'per-token' });
    const half = Float16Storage.fromFloat32(new Float32Array(24), 3, 8);
    const full = new Float32Storage(new Float32Array(16), 2, 8);
    const concat = new ConcatStorage([quantized, half, full]);
    expect(quantizedStorageBytes(10, 8, quantized.options)).toBe(40 + 80);
    expect(storageBytes(concat)).toBe(40 + 80 + float16StorageBytes(3, 8) + float32StorageBytes(2, 8));
    expect(concat.rows).toBe(15);
    expect(concat.decode()).toHaveLength(15 * 8);
  });
});
