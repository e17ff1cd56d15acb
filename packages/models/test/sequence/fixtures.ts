import { headPositions, type KVCache } from '@malloc/compression';
import { createSasRec, type SequentialModel } from '../../src/index';

/** SASRec with 40 items, max length 24, d 16, 2 heads (dHead 8), 2 layers and dropout 0.2, plus `fields`. */
export function smallSasRec(fields: object, seed = 11): SequentialModel {
  return createSasRec({ itemCount: 40, maxLength: 24, hiddenSize: 16, layers: 2, heads: 2, dropout: 0.2, ...fields }, seed);
}

/** Items 1..40 in a scrambled order. */
export function sequence(length: number, offset = 0): Int32Array {
  return Int32Array.from({ length }, (_, i) => (((i + offset) * 7) % 40) + 1);
}

/** Original positions of the rows of the first head of each layer. */
export function rowPositions(cache: KVCache): number[][] {
  return cache.layers.map((layer) => Array.from(headPositions(layer.heads[0])));
}
