import { createHash } from 'node:crypto';
import type { TrainingData } from './data';

/**
 * SHA-256 of training data (item count, offsets, items, training ends and timestamps when
 * present), as hex. Two data sets with the same fingerprint hold the same sequences and
 * splits, so a checkpoint trained on one can be resumed or reused on the other.
 */
export function fingerprintTrainingData(data: TrainingData): string {
  const hash = createHash('sha256');
  hash.update(`malloc-training-data:v1:${data.itemCount}:${data.trainEnd.length}:${data.items.length}:${data.timestamps === undefined ? 'no-time' : 'time'};`);
  const arrays: ArrayBufferView[] = [data.offsets, data.items, data.trainEnd];
  if (data.timestamps !== undefined) {
    arrays.push(data.timestamps);
  }
  // Only the CTR loss reads labels, so data without them keeps its earlier fingerprint.
  if (data.labels !== undefined) {
    hash.update('labels;');
    arrays.push(data.labels);
  }
  for (const array of arrays) {
    hash.update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  }
  return hash.digest('hex');
}
