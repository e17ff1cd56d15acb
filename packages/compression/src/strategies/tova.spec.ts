import { keptPositions, noStats } from '../__fixtures__/helpers';
import { silentLogger } from '../logger';
import { missingAttentionStats } from '../messages';
import type { AttentionStats } from '../strategy';
import { createRandomCache } from '../testing/random-cache';
import { TOVAStrategy } from './tova';

describe('TOVAStrategy', () => {
  // Two heads, a window of 2 queries over 5 keys; only the last row of each head matters.
  // Last rows: head 0 = 0.1 0.4 0.1 0.2 0.2, head 1 = 0.5 0.0 0.1 0.2 0.2.
  // Mean over heads: 0.3 0.2 0.1 0.2 0.2.
  const window = Float32Array.from([
    [0.2, 0.2, 0.2, 0.4, 0],
    [0.1, 0.4, 0.1, 0.2, 0.2],
    [0.5, 0.1, 0.1, 0.3, 0],
    [0.5, 0.0, 0.1, 0.2, 0.2],
  ].flat()); // [kvHeads 2, windowSize 2, len 5]
  const stats: AttentionStats = { accumulated: [new Float32Array(10)], window: [window], windowSize: 2 };
  const cache = createRandomCache({ layers: 1, kvHeads: 2, len: 5, dKey: 2, dValue: 2, seed: 1 });

  it('keeps the last query’s favourites and the newest token', () => {
    // Budget ⌊5 · 0.4⌋ = 2: the newest token (4) and the highest mean, token 0 (0.3).
    expect(keptPositions(new TOVAStrategy({ compressionRatio: 0.6 }).compress(cache, { stats, logger: silentLogger }))).toEqual([[[0, 4], [0, 4]]]);
  });

  it('breaks equal means toward the lower index', () => {
    // Budget ⌊5 · 0.6⌋ = 3: tokens 4 and 0, then 1 and 3 tie at 0.2; token 1 wins.
    expect(keptPositions(new TOVAStrategy({ compressionRatio: 0.4 }).compress(cache, { stats, logger: silentLogger }))).toEqual([[[0, 1, 4], [0, 1, 4]]]);
  });

  it('requires the observation window', () => {
    expect(() => new TOVAStrategy({ compressionRatio: 0.5 }).compress(cache, noStats)).toThrow(
      new TypeError(missingAttentionStats('TOVAStrategy.score', 'the observation window attention (stats.window)')),
    );
    const empty: AttentionStats = { accumulated: [], window: [new Float32Array(0)], windowSize: 0 };
    expect(() => new TOVAStrategy({ compressionRatio: 0.5 }).compress(cache, { stats: empty, logger: silentLogger })).toThrow(RangeError);
  });
});
