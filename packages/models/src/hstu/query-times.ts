/**
 * Query times of a padded batch under HSTU's `queryTime: 'next'`. A token's query time is the
 * timestamp of the next real token of its sequence, and the last real token's is the
 * sequence's request time. generative-recommenders measures the time differences of a query
 * from the time of the item it predicts in the same way.
 *
 * @see Jiaqi Zhai et al., "Actions Speak Louder than Words: Trillion-Parameter Sequential Transducers for Generative Recommendations", ICML 2024, arXiv:2402.17152.
 * @param items - `[batch, len]` row-major, 0 = padding on either side.
 * @param timestamps - `[batch, len]` seconds.
 * @param requestTimes - `[batch]` seconds after each sequence's last real token.
 * @returns `[batch, len]` seconds, 0 at padding.
 * @example
 * // items [5, 7, 9], timestamps [10, 20, 40], request time 100:
 * nextQueryTimes(Int32Array.of(5, 7, 9), Float64Array.of(10, 20, 40), Float64Array.of(100), 1, 3); // [20, 40, 100]
 */
export function nextQueryTimes(items: Int32Array, timestamps: Float64Array, requestTimes: Float64Array, batch: number, len: number): Float64Array {
  const out = new Float64Array(batch * len); // [batch, len]

  // Walk each row from its end, carrying the time of the token after the current one.
  for (let b = 0; b < batch; b++) {
    let next = requestTimes[b];
    for (let i = len - 1; i >= 0; i--) {
      const flat = b * len + i;
      if (items[flat] === 0) {
        continue;
      }
      out[flat] = next;
      next = timestamps[flat];
    }
  }
  return out;
}
