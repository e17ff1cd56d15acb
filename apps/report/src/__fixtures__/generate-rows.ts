// A seeded generator of schema-shaped results rows, for the size test of the site build.
import { okRow } from './rows';

const STRATEGIES: readonly (readonly [string, string])[] = [
  ['window', 'token-pruning'],
  ['streaming-llm', 'token-pruning'],
  ['h2o', 'token-pruning'],
  ['snapkv', 'token-pruning'],
  ['tova', 'token-pruning'],
  ['knorm', 'token-pruning'],
  ['random', 'token-pruning'],
  ['pyramidkv', 'token-pruning'],
  ['cam-merge', 'token-merging'],
  ['kmeans', 'token-merging'],
  ['svd', 'low-rank'],
  ['int8', 'quantisation'],
  ['int4', 'quantisation'],
  ['kivi', 'quantisation'],
  ['snapkv+kivi', 'pruning+quantisation'],
  ['window+int8', 'pruning+quantisation'],
];
const RATIOS = [0.5, 0.75, 0.875, 0.9375];

/** Mulberry32: a 32-bit seeded PRNG that returns numbers in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates `count` ok rows shaped like the runner's: three datasets (one of them CTR, with
 * `gauc`), two models, 16 strategies, four ratios and seeds counting up. The same seed gives
 * the same rows.
 */
export function generateRows(count: number, seed: number): Record<string, unknown>[] {
  const random = mulberry32(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)];
  const rows: Record<string, unknown>[] = [];
  for (let index = 0; index < count; index++) {
    const [strategy, family] = pick(STRATEGIES);
    const ratio = pick(RATIOS);
    const ctr = random() < 0.2;
    const full = 80000 + Math.floor(random() * 20000);
    const bytes = full * (1 - ratio) * (0.9 + random() * 0.2);
    const accuracy = 0.05 + random() * 0.1;
    rows.push(
      okRow({
        dataset: ctr ? 'taobao' : pick(['ml-1m', 'ml-100k']),
        task: ctr ? 'ctr' : 'retrieval',
        model: pick(['sasrec', 'hstu']),
        strategy,
        family,
        setting: `compressionRatio=${ratio}`,
        params: { compressionRatio: ratio },
        seed: 1 + Math.floor(index / 400),
        metrics: ctr ? { auc: 0.6 + accuracy, gauc: 0.55 + accuracy, logloss: 0.5 - accuracy } : { 'hit@10': 2 * accuracy, 'ndcg@10': accuracy, 'hit@50': 3 * accuracy, 'ndcg@50': 1.2 * accuracy, mrr: accuracy },
        confidence: ctr ? {} : { 'ndcg@10': { low: accuracy - 0.005, high: accuracy + 0.005, confidence: 0.95 } },
        slices: { tail: { users: 60, metrics: ctr ? { gauc: 0.5 + accuracy } : { 'ndcg@10': accuracy * 0.8 } } },
        bytesPerUser: bytes,
        fullBytesPerUser: full,
        compressionRatio: full / bytes,
      }),
    );
  }
  return rows;
}
