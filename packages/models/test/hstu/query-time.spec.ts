import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createHstu, initBackend, loadCheckpoint, saveCheckpoint } from '../../src/index';
import type { Hstu } from '../../src/hstu/hstu';
import { nextQueryTimes } from '../../src/hstu/query-times';
import { invalidArgument, invalidShape } from '../../src/messages';
import { buildTrainingBatch, type TrainingData } from '../../src/training/data';
import { referenceHstuForward } from '../reference-hstu';
import { expectClose, lastRow, maxAbsDifference } from '../tolerance';

const CONFIG = { itemCount: 40, maxLength: 24, hiddenSize: 12, layers: 2, heads: 2, queryKeySize: 6, valueSize: 5, timeBuckets: 16 };
const d = CONFIG.hiddenSize;

/** Items 1..40 in a scrambled order and increasing timestamps with gaps from 1 s to 10⁶ s. */
function sequence(length: number, offset = 0): { items: Int32Array; times: Float64Array } {
  const items = Int32Array.from({ length }, (_, i) => (((i + offset) * 7) % 40) + 1);
  const times = new Float64Array(length);
  for (let i = 1; i < length; i++) {
    times[i] = times[i - 1] + Math.floor(Math.pow(10, (i * 37 + offset) % 7));
  }
  return { items, times };
}

/** Returns each query's time under the reference convention: the next item's, and the request time for the last. */
function shifted(times: Float64Array, requestTime: number): number[] {
  return [...Array.from(times.subarray(1)), requestTime];
}

describe('nextQueryTimes', () => {
  it('takes the next real token and the request time, on either padding side', () => {
    // Row 0 is right-padded, row 1 left-padded: [batch 2, len 4].
    const items = Int32Array.of(5, 6, 7, 0, 0, 0, 8, 9);
    const times = Float64Array.of(10, 20, 30, 0, 0, 0, 100, 250);

    const out = nextQueryTimes(items, times, Float64Array.of(35, 400), 2, 4);

    expect(Array.from(out)).toEqual([20, 30, 35, 0, 0, 0, 250, 400]);
  });
});

describe.each(['cpu', 'wasm'] as const)("Hstu with queryTime 'next' on %s", (backend) => {
  let model: Hstu;
  let own: Hstu;

  beforeAll(async () => {
    await initBackend(backend);
    model = createHstu({ ...CONFIG, queryTime: 'next' }, 13) as Hstu;
    own = createHstu(CONFIG, 13) as Hstu;
  });

  afterAll(() => {
    model.dispose();
    own.dispose();
  });

  it('forward pass matches the plain-array reference with next-item query times', () => {
    const { items, times } = sequence(9);
    const requestTime = times[8] + 5_000;

    const hidden = model.forwardLast(items, { timestamps: times, requestTime });

    const expected = referenceHstuForward(model, Array.from(items), Array.from(times), undefined, shifted(times, requestTime));
    expectClose(hidden, expected[expected.length - 1], 1e-5);
  });

  it('differs from the own-time model of the same weights', () => {
    const { items, times } = sequence(9);

    const next = model.forwardLast(items, { timestamps: times, requestTime: times[8] + 5_000 });

    expect(maxAbsDifference(next, own.forwardLast(items, { timestamps: times }))).toBeGreaterThan(1e-4);
  });

  it.each([1, 4, 16])('prefill plus append of %i items equals a full forward pass', (count) => {
    const { items, times } = sequence(6 + count, 2);
    const requestTime = times[times.length - 1] + 86_400;

    // The prefill's request is the first appended item; the append's is the request after the last.
    const { cache } = model.prefill(items.subarray(0, 6), { timestamps: times.subarray(0, 6), requestTime: times[6] });
    const appended = model.append(cache, items.subarray(6), { timestamps: times.subarray(6), requestTime });

    const expected = model.forwardLast(items, { timestamps: times, requestTime });
    expectClose(lastRow(appended.hidden, d), expected, 1e-5);
    const reference = referenceHstuForward(model, Array.from(items), Array.from(times), undefined, shifted(times, requestTime));
    expectClose(lastRow(appended.hidden, d), reference[reference.length - 1], 1e-5);
    expect(Array.from(appended.cache.layers[1].heads[0].timestamps ?? [])).toEqual(Array.from(times));
  });

  it('a left-padded history gives the cache of the unpadded one', () => {
    const { items, times } = sequence(7, 1);
    const padded = Int32Array.from([0, 0, 0, ...items]);
    const paddedTimes = Float64Array.from([0, 0, 0, ...times]);
    const requestTime = times[6] + 60;

    const fromPadded = model.prefill(padded, { timestamps: paddedTimes, requestTime }).cache;
    const plain = model.prefill(items, { timestamps: times, requestTime }).cache;

    expectClose(fromPadded.layers[1].heads[1].keys.decode(), plain.layers[1].heads[1].keys.decode(), 1e-6);
    expectClose(model.forwardLast(padded, { timestamps: paddedTimes, requestTime }), model.forwardLast(items, { timestamps: times, requestTime }), 1e-6);
  });

  it('an input longer than maxLength keeps the newest items and the request time', () => {
    const { items, times } = sequence(30, 3);
    const requestTime = times[29] + 7;

    const long = model.forwardLast(items, { timestamps: times, requestTime });

    expectClose(long, model.forwardLast(items.subarray(6), { timestamps: times.subarray(6), requestTime }), 1e-6);
  });

  it('batched prefill and forward take one request time per sequence', () => {
    const histories = [sequence(5, 1), sequence(11, 2), sequence(8, 3)];
    const requestTimes = Float64Array.from(histories, ({ times }, index) => times[times.length - 1] + 1000 * (index + 1));

    const batched = model.prefillBatch(
      histories.map(({ items }) => items),
      { timestamps: histories.map(({ times }) => times), requestTimes, batchSize: 2 },
    );
    const forwards = model.forwardLastBatch(
      histories.map(({ items }) => items),
      { timestamps: histories.map(({ times }) => times), requestTimes, batchSize: 2 },
    );

    histories.forEach(({ items, times }, index) => {
      const single = model.prefill(items, { timestamps: times, requestTime: requestTimes[index] }).cache;
      expectClose(batched[index].cache.layers[1].heads[0].values.decode(), single.layers[1].heads[0].values.decode(), 1e-5);
      expectClose(forwards.subarray(index * d, (index + 1) * d), model.forwardLast(items, { timestamps: times, requestTime: requestTimes[index] }), 1e-5);
    });
  });

  it('needs no request time without timestamps, and then equals the own-time model', () => {
    const { items } = sequence(9);

    expectClose(model.forwardLast(items), own.forwardLast(items), 1e-6);
    const { cache } = model.prefill(items.subarray(0, 5));
    expectClose(lastRow(model.append(cache, items.subarray(5)).hidden, d), own.forwardLast(items), 1e-5);
  });

  it('trains every position against the time of its target', () => {
    // One user of 8 items; training inputs are items 0..5 and targets 1..6 (trainEnd 7).
    const { items, times } = sequence(8, 4);
    const data: TrainingData = { itemCount: 40, offsets: Int32Array.of(0, 8), items, trainEnd: Int32Array.of(7), timestamps: times };

    const batch = buildTrainingBatch(data, Int32Array.of(0), CONFIG.maxLength);
    const hidden = tf.tidy(() => model.encodeBatch(batch.encoder, null).arraySync() as number[][]); // [6, d]

    expect(Array.from(batch.encoder.requestTimes ?? [])).toEqual([times[6]]);
    const reference = referenceHstuForward(model, Array.from(items.subarray(0, 6)), Array.from(times.subarray(0, 6)), undefined, Array.from(times.subarray(1, 7)));
    hidden.forEach((row, position) => expectClose(row, reference[position], 1e-5));
  });
});

describe("Hstu queryTime 'next' checks", () => {
  let model: Hstu;

  beforeAll(async () => {
    await initBackend('cpu');
    model = createHstu({ ...CONFIG, queryTime: 'next' }, 2) as Hstu;
  });

  afterAll(() => model.dispose());

  it('asks for the request time wherever timestamps come without it', () => {
    const { items, times } = sequence(6);
    const missing = (where: string, argument: string): string =>
      invalidArgument(where, argument, "the time of the request after the last item, which HSTU with queryTime 'next' reads with timestamps", "undefined; pass it, or build the model with queryTime 'own'");

    expect(() => model.prefill(items, { timestamps: times })).toThrow(missing('Hstu.prefill', 'options.requestTime'));
    expect(() => model.forwardLast(items, { timestamps: times })).toThrow(missing('Hstu.forwardLast', 'options.requestTime'));
    expect(() => model.prefillBatch([items], { timestamps: [times] })).toThrow(missing('Hstu.prefillBatch', 'options.requestTimes'));
    const { cache } = model.prefill(items.subarray(0, 4), { timestamps: times.subarray(0, 4), requestTime: times[4] });
    expect(() => model.append(cache, items.subarray(4), { timestamps: times.subarray(4) })).toThrow(missing('Hstu.append', 'options.requestTime'));
  });

  it('rejects a non-finite request time and a wrong count of request times', () => {
    const { items, times } = sequence(6);

    expect(() => model.prefill(items, { timestamps: times, requestTime: Number.NaN })).toThrow(invalidArgument('Hstu.prefill', 'options.requestTime', 'finite seconds', 'NaN'));
    expect(() => model.forwardLastBatch([items], { timestamps: [times], requestTimes: Float64Array.of(1, 2) })).toThrow(invalidShape('Hstu.forwardLastBatch', 'options.requestTimes', [1], 2));
  });

  it('rejects an unknown convention and the variants it does not support', () => {
    expect(() => createHstu({ ...CONFIG, queryTime: 'later' as 'next' }, 1)).toThrow(invalidArgument('createHstu', 'config.queryTime', "'own' or 'next'", 'later'));
    expect(() => createHstu({ ...CONFIG, queryTime: 'next', timeBias: false }, 1)).toThrow(invalidArgument('createHstu', 'config.queryTime', "'own' together with timeBias: false", "'next'; remove one of the two"));
    expect(() => createHstu({ ...CONFIG, queryTime: 'next', ctrHead: true }, 1)).toThrow(invalidArgument('createHstu', 'config.queryTime', "'own' together with ctrHead", "'next'; remove one of the two"));
    expect(() => createHstu({ ...CONFIG, queryTime: 'next', beacon: { chunkSize: 4, beaconsPerChunk: 1 } }, 1)).toThrow(invalidArgument('createHstu', 'config.queryTime', "'own' together with beacon", "'next'; remove one of the two"));
  });

  it("leaves 'own' out of the configuration and keeps 'next' through a checkpoint", async () => {
    const plain = createHstu({ ...CONFIG, queryTime: 'own' }, 1) as Hstu;
    const dir = mkdtempSync(path.join(tmpdir(), 'malloc-query-time-'));

    await saveCheckpoint(model, dir, { dataFingerprint: 'abc' });
    const loaded = (await loadCheckpoint(dir)) as Hstu;

    expect('queryTime' in plain.config).toBe(false);
    expect(loaded.config.queryTime).toBe('next');
    plain.dispose();
    loaded.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
});
