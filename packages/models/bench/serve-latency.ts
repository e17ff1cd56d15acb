// Measures the serving path per user: prefill of a history, append of one item against the
// cache, and full-catalogue scoring, plus one uncached full forward pass for comparison.
//
// Usage: npx tsx --tsconfig bench/tsconfig.json bench/serve-latency.ts [backend] [model] [history] [users]
// Defaults: wasm, sasrec, history 199 items, 200 users after 20 warm-up users; ML-1M sizes
// (3,706 items, d = 50, 2 layers, 1 head, maxLength 200); weights are untrained.
import { createHstu, createSasRec, initBackend, type BackendName } from '../src/index';

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main(): Promise<void> {
  const backend = (process.argv[2] ?? 'wasm') as BackendName;
  const kind = process.argv[3] ?? 'sasrec';
  const historyLength = Number(process.argv[4] ?? 199);
  const users = Number(process.argv[5] ?? 200);
  const itemCount = 3706;
  const used = await initBackend(backend);
  const model = kind === 'hstu' ? createHstu({ itemCount }, 1) : createSasRec({ itemCount }, 1);
  const timings: Record<'prefill' | 'append' | 'score' | 'forward', number[]> = { prefill: [], append: [], score: [], forward: [] };

  for (let user = 0; user < users + 20; user++) {
    const history = Int32Array.from({ length: historyLength }, (_, i) => ((user * 131 + i * 17) % itemCount) + 1);
    const request = new Int32Array([(user % itemCount) + 1]);
    const t0 = performance.now();
    const { cache } = model.prefill(history);
    const t1 = performance.now();
    const { hidden } = model.append(cache, request);
    const t2 = performance.now();
    model.scoreAll(hidden);
    const t3 = performance.now();
    const full = new Int32Array(historyLength + 1);
    full.set(history);
    full.set(request, historyLength);
    model.forwardLast(full);
    const t4 = performance.now();
    if (user >= 20) {
      timings.prefill.push(t1 - t0);
      timings.append.push(t2 - t1);
      timings.score.push(t3 - t2);
      timings.forward.push(t4 - t3);
    }
  }

  const line = Object.entries(timings)
    .map(([phase, values]) => {
      const sorted = values.slice().sort((a, b) => a - b);
      return `${phase} p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p95 ${percentile(sorted, 0.95).toFixed(2)} ms`;
    })
    .join('; ');
  process.stdout.write(`${kind}, backend ${used}, history ${historyLength}: ${line}\n`);
}

void main();
