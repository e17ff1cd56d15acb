// Times the per-user and per-run calls of @malloc/metrics at catalogue and user counts of
// the benchmark (30,000 items, 6,040 users). Run from the repository root:
//   npx tsx packages/metrics/bench/metrics.bench.ts
// The scores are deterministic pseudo-random float32 values, so runs are comparable.

import { RankingAccumulator, bootstrapMeanCI, pairedTest, rankAmongCandidates, rankOfTarget, sampleNegatives, topK } from '../src/index';

const nItems = 30000;
const users = 6040;

// Scores for items 0..nItems from a fixed hash, and a 200-item history.
const scores = new Float32Array(nItems + 1); // [nItems + 1]
for (let item = 0; item <= nItems; item += 1) {
  scores[item] = ((Math.sin(item * 12.9898) * 43758.5453) % 1 + 1) % 1;
}
const history = Int32Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % nItems)); // [200]

/** Runs `action` 200 times to warm up, then `calls` times, and prints the mean time per call. */
function time(label: string, calls: number, action: (call: number) => unknown): void {
  for (let call = 0; call < 200; call += 1) {
    action(call);
  }
  const start = process.hrtime.bigint();
  for (let call = 0; call < calls; call += 1) {
    action(call);
  }
  const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  process.stdout.write(`${label}: ${((elapsedMs / calls) * 1000).toFixed(1)} µs per call (${calls} calls)\n`);
}

// Per-user calls.
time('rankOfTarget, 30,000 items', 5000, (call) => rankOfTarget(scores, 1 + (call % nItems)));
time('rankOfTarget, 30,000 items, 200 excluded', 5000, (call) => rankOfTarget(scores, 1 + (call % nItems), { exclude: history }));
time('topK, k = 200 of 30,000, 200 excluded', 1000, () => topK(scores, 200, { exclude: history }));
time('sampleNegatives (100) + rankAmongCandidates', 5000, (call) => rankAmongCandidates(scores, 5, sampleNegatives(nItems, 5, 100, history, call)));

// Per-run statistics over 6,040 users.
const accumulator = new RankingAccumulator();
for (let user = 0; user < users; user += 1) {
  accumulator.add(1 + (user % 400));
}
const ndcg10 = accumulator.values('ndcg@10');
const ndcg50 = accumulator.values('ndcg@50');
time('bootstrapMeanCI, 6,040 users, 1,000 resamples', 5, () => bootstrapMeanCI(ndcg10));
time('pairedTest, 6,040 users, 10,000 resamples', 3, () => pairedTest(ndcg10, ndcg50));
