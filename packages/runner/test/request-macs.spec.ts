import { createStrategy, silentLogger } from '@malloc/compression';
import { generateSynthetic, leaveOneOut } from '@malloc/data';
import { requestMacs, type ModelDimensions } from '@malloc/metrics';
import { createHstu, createSasRec, initBackend, lshBucketPairs, sequenceKeptTokens, variantRequestMacs, type SequentialModel, type VariantMacsConfig } from '@malloc/models';
import { planCells } from '../src/cells';
import { DEFAULT_CONFIG } from '../src/config';
import { evaluateCells } from '../src/evaluate';
import { macModelOf, retrievalRequestMacs } from '../src/request-macs';
import { seededSample } from '../src/sampling';

describe('macsPerRequest of evaluated cells', () => {
  jest.setTimeout(60_000);
  const maxLength = 8;
  const dataset = generateSynthetic({ users: 12, items: 30, meanLength: 10, maxLength: 20, seed: 3 });
  const split = leaveOneOut(dataset);
  const userIndices = seededSample(split.test.users.length, null, 0);
  const cells = planCells(['full', 'recompute', 'window'], [0.5]);

  // History lengths of the evaluated users: the capped input minus the one request item.
  const histories = Array.from(userIndices, (j) => Math.min(split.test.inputEnd[j], maxLength) - 1).filter((length) => length > 0);

  beforeAll(async () => {
    await initBackend('cpu');
  });

  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

  it.each([
    ['sasrec', () => createSasRec({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, kvHeads: 1 }, 1), { layers: 2, hiddenSize: 8, heads: 2, kvHeads: 1, itemCount: dataset.itemCount }],
    ['hstu', () => createHstu({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, queryKeySize: 4, valueSize: 6 }, 1), { layers: 2, hiddenSize: 8, heads: 2, dqk: 4, dv: 6, itemCount: dataset.itemCount }],
  ] as const)('of %s equal the mean of requestMacs over users at their cached lengths', (architecture, create, config) => {
    const model = create();
    const result = evaluateCells({ model, dataset, split: split.test, userIndices, cells, settings: DEFAULT_CONFIG.evaluation, recordStats: false });
    model.dispose();
    const dimensions: ModelDimensions = { architecture, config };
    expect(histories.length).toBeGreaterThan(5);

    // full caches the whole history, window 0.5 keeps max(1, ⌊h · 0.5⌋), and recompute runs h + 1 tokens.
    const expected: Record<string, number> = {
      full: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, h).withCache)),
      recompute: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, h).withoutCache)),
      window: mean(histories.map((h) => requestMacs(dimensions, { requestLength: 1 }, h, Math.max(1, Math.floor(h * 0.5))).withCache)),
    };
    for (const measurement of result.measurements) {
      expect(measurement.users).toBe(histories.length);
      expect((measurement.macsTotal ?? Number.NaN) / measurement.users).toBeCloseTo(expected[measurement.cell.strategy], 6);
    }
    expect(expected.recompute).toBeGreaterThan(expected.full);
    expect(expected.full).toBeGreaterThan(expected.window);
  });

  it('are absent for a model without a MAC model', () => {
    const model = createSasRec({ itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2 }, 1);
    const stub = Object.assign(Object.create(model) as SequentialModel, { kind: 'unknown' });
    expect(macModelOf(stub)).toBeNull();
    model.dispose();
  });
});

describe('macsPerRequest of model variants', () => {
  jest.setTimeout(60_000);
  const maxLength = 8;
  const dataset = generateSynthetic({ users: 12, items: 30, meanLength: 10, maxLength: 20, seed: 3 });
  const split = leaveOneOut(dataset);
  const userIndices = seededSample(split.test.users.length, null, 0);
  const cells = planCells(['full', 'recompute', 'window'], [0.5]);
  const window = createStrategy('window', { compressionRatio: 0.5 });

  /** Histories (the capped input without its last item), request items and their timestamps of the evaluated users. */
  const users = Array.from(userIndices, (j) => {
    const start = dataset.offsets[split.test.users[j]];
    const input = dataset.items.subarray(start, start + split.test.inputEnd[j]);
    const capped = input.subarray(Math.max(0, input.length - maxLength));
    const times = dataset.timestamps?.subarray(start + input.length - capped.length, start + input.length);
    return {
      history: capped.subarray(0, capped.length - 1),
      request: capped.subarray(capped.length - 1),
      historyTimes: times?.subarray(0, capped.length - 1),
      requestTimes: times?.subarray(capped.length - 1),
    };
  }).filter((user) => user.history.length > 0);

  beforeAll(async () => {
    await initBackend('cpu');
  });

  const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;

  it.each([
    ['sasrec', { kvLatentSize: 4 }],
    ['sasrec', { beacon: { chunkSize: 4, beaconsPerChunk: 2 } }],
    ['sasrec', { linformer: { blockSize: 4, projectedRows: 2 } }],
    ['sasrec', { lsh: { buckets: 4, seed: 1 } }],
    ['hstu', { kvLatentSize: 4, queryKeySize: 4, valueSize: 6 }],
    ['hstu', { beacon: { chunkSize: 4, beaconsPerChunk: 2 }, queryKeySize: 4, valueSize: 6 }],
    ['hstu', { linformer: { blockSize: 4, projectedRows: 2 }, queryKeySize: 4, valueSize: 6 }],
    ['hstu', { lsh: { buckets: 4, seed: 1 }, queryKeySize: 4, valueSize: 6 }],
  ] as const)('of %s %j equal variantRequestMacs of each user cache', (kind, fields) => {
    const config = { itemCount: dataset.itemCount, maxLength, hiddenSize: 8, heads: 2, ...fields };
    const model = kind === 'sasrec' ? createSasRec(config, 1) : createHstu(config, 1);
    const result = evaluateCells({ model, dataset, split: split.test, userIndices, cells, settings: DEFAULT_CONFIG.evaluation, recordStats: false });
    const variant = { layers: 2, ...config } as VariantMacsConfig;
    let chunkSize: number | null = null;
    if ('beacon' in fields) {
      chunkSize = fields.beacon.chunkSize;
    } else if ('linformer' in fields) {
      chunkSize = fields.linformer.blockSize;
    }

    // The full cache keeps sequenceKeptTokens rows, and the window the newest max(1, ⌊rows / 2⌋) of them.
    // The newest chunk's raw rows are the newest rows, so the window keeps min(kept, h mod chunkSize) of them.
    // LSH pairs come from hashing each user's appended cache again.
    const perUser = users.map(({ history, request, historyTimes, requestTimes }) => {
      const h = history.length;
      const fullRows = sequenceKeptTokens(model.config, h);
      const windowRows = Math.max(1, Math.floor(fullRows * 0.5));
      const chunkRows = (rows: number): { chunkRows?: number } => (chunkSize === null ? {} : { chunkRows: Math.min(rows, h % chunkSize) });
      const pairs = (compress: boolean): { bucketPairs?: number } => {
        if (!('lsh' in fields)) {
          return {};
        }
        const prefilled = model.prefill(history, { timestamps: historyTimes }).cache;
        const cache = compress ? window.compress(prefilled, { stats: null, logger: silentLogger }) : prefilled;
        return { bucketPairs: lshBucketPairs(kind, variant, model.append(cache, request, { timestamps: requestTimes }).cache, 1) };
      };
      const macs = (rows: number, compress: boolean) => variantRequestMacs(kind, variant, { seenTokens: h, cachedRows: rows, requestLength: 1, ...chunkRows(rows), ...pairs(compress) });
      return { full: macs(fullRows, false).withCache, recompute: macs(fullRows, false).withoutCache, window: macs(windowRows, true).withCache };
    });
    model.dispose();
    expect(users.length).toBeGreaterThan(5);
    for (const measurement of result.measurements) {
      const strategy = measurement.cell.strategy as 'full' | 'recompute' | 'window';
      expect(measurement.error).toBeNull();
      expect(measurement.users).toBe(users.length);
      expect((measurement.macsTotal ?? Number.NaN) / measurement.users).toBeCloseTo(mean(perUser.map((user) => user[strategy])), 6);
    }
  });

  it('of beacon models add a beacon pass at the end of a chunk', () => {
    const model = macModelOf(createSasRec({ itemCount: 30, maxLength, hiddenSize: 8, heads: 2, beacon: { chunkSize: 4, beaconsPerChunk: 2 } }, 1));
    const plain: ModelDimensions = { architecture: 'sasrec', config: { layers: 2, hiddenSize: 8, heads: 2, itemCount: 30 } };
    expect(model).not.toBeNull();

    // History 2: the request item does not end a chunk of 4, so the request costs as in plain SASRec.
    expect(retrievalRequestMacs(model!, 2, 1, 2)).toBe(requestMacs(plain, { requestLength: 1 }, 2, 2).withCache);

    // History 3: the request item ends the chunk, then 2 beacons run against the 4 rows. Per layer:
    // projections and FFN 2 beacons · 6 · 8², pairs 2 heads · (2 · 4 + 3) · (4 + 4).
    const beaconPass = 2 * (2 * 6 * 64 + 2 * 11 * 8);
    expect(retrievalRequestMacs(model!, 3, 1, 3)).toBe(requestMacs(plain, { requestLength: 1 }, 3, 3).withCache + beaconPass);
  });
});
