import { metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import type { ComplexityCurve } from './complexity';
import { complexityFigure, FigureRecord, latencyFigure, markParetoFront, methodFigure, paretoFigure, POINTS_LAYER, ratioFigure, tailFigure } from './figures';
import { parseResultsText } from './results';

function rowsOf(values: Record<string, unknown>[]) {
  return parseResultsText(toJsonl(values), '/results/run-1/results.jsonl').rows;
}

function record(dataset: string, task: string, cost: number, accuracy: number, protocol = 'one-shot'): FigureRecord {
  return { dataset, task, protocol, bytesPerUser: cost, accuracy };
}

/** Layer names of a faceted spec, to find the layer that draws one mark per record. */
function layerNames(spec: unknown): (string | undefined)[] {
  return ((spec as { spec: { layer: { name?: string }[] } }).spec.layer ?? []).map((layer) => layer.name);
}

describe('markParetoFront', () => {
  it('marks the non-dominated records of each group', () => {
    const records = [
      record('a', 'retrieval', 100, 0.1), // cheapest of group a: on the front
      record('a', 'retrieval', 200, 0.12), // best at 200 and beats 0.1: on the front
      record('a', 'retrieval', 200, 0.11), // same cost, 0.11 < 0.12: dominated
      record('a', 'retrieval', 400, 0.12), // same value, 400 > 200: dominated
      record('a', 'retrieval', 50, 0.2, 'none'), // no cache: never on the front
      record('a', 'ctr', 900, 0.6), // alone in group (a, ctr): on the front
      record('b', 'retrieval', 300, 0.05), // alone in group (b, retrieval): on the front
    ];

    markParetoFront(records, 'bytesPerUser');

    expect(records.map((entry) => entry.pareto)).toEqual([true, true, false, false, false, true, true]);
    expect(records.map((entry) => entry.paretoText)).toEqual(['yes', 'yes', 'no', 'no', 'no', 'yes', 'yes']);
  });

  it('keeps equal records on the front together', () => {
    const records = [record('a', 'retrieval', 10, 0.3), record('a', 'retrieval', 10, 0.3), record('a', 'retrieval', 5, 0.2)];

    markParetoFront(records, 'bytesPerUser');

    expect(records.map((entry) => entry.pareto)).toEqual([true, true, true]);
  });
});

describe('paretoFigure', () => {
  const rows = rowsOf([
    okRow({ strategy: 'full', bytesPerUser: 160000, metrics: metricsWith(0.16), macsPerRequest: 4_000_000 }),
    okRow({ strategy: 'window', bytesPerUser: 20000, metrics: metricsWith(0.12) }),
    okRow({ strategy: 'snapkv', bytesPerUser: 20400, metrics: metricsWith(0.14), macsPerRequest: 1_000_000 }),
    okRow({ strategy: 'recompute', protocol: 'none', bytesPerUser: 0, metrics: metricsWith(0.16) }),
    okRow({ dataset: 'taobao', task: 'ctr', strategy: 'window', bytesPerUser: 500, metrics: { auc: 0.7, gauc: 0.64, logloss: 0.5 } }),
  ]);

  it('plots rows with positive bytes, taking GAUC for CTR', () => {
    const figure = paretoFigure(rows, 'bytes');

    // The recompute row has 0 bytes, which a log axis cannot show: 5 - 1 = 4 records.
    expect(figure.records.map((entry) => [entry.strategy, entry.metric, entry.accuracy])).toEqual([
      ['full', 'ndcg@10', 0.16],
      ['window', 'ndcg@10', 0.12],
      ['snapkv', 'ndcg@10', 0.14],
      ['window', 'gauc', 0.64],
    ]);
    // window (20000, 0.12) and snapkv (20400, 0.14) and full (160000, 0.16) each beat every cheaper run.
    expect(figure.records.map((entry) => entry.pareto)).toEqual([true, true, true, true]);
    expect(figure.csvRows).toHaveLength(4);
    expect(layerNames(figure.spec)).toContain(POINTS_LAYER);
  });

  it('plots only rows that record MACs per request', () => {
    const figure = paretoFigure(rows, 'macs');

    // snapkv: 1e6 MACs, 0.14; full: 4e6 MACs, 0.16. Neither dominates the other.
    expect(figure.records.map((entry) => [entry.strategy, entry.macsPerRequest, entry.pareto])).toEqual([
      ['full', 4_000_000, true],
      ['snapkv', 1_000_000, true],
    ]);
  });

  it('carries provenance for the tooltip', () => {
    const [first] = paretoFigure(rows, 'bytes').records;

    expect(first.runId).toBe('2026-12-04T21-30-00Z-ab12cd');
    expect(first.gitCommit).toBe('abc1234');
    expect(first.configHash).toBe('cfg0001');
    expect(first.accuracyText).toBe('ndcg@10 0.16 (95% CI 0.048 to 0.052)');
  });
});

describe('ratioFigure', () => {
  it('puts each dataset and family in its own panel', () => {
    const rows = rowsOf([
      okRow({ compressionRatio: 8 }),
      okRow({ family: 'quantisation', strategy: 'int8', compressionRatio: 4 }),
      okRow({ compressionRatio: null, bytesPerUser: 0 }),
    ]);

    const figure = ratioFigure(rows);

    expect(figure.records.map((entry) => entry.panel)).toEqual(['ml-1m · token-pruning', 'ml-1m · quantisation']);
  });
});

describe('latencyFigure', () => {
  it('keeps one record per row with its positive phase medians', () => {
    const latencyMs = { prefill: null, compress: { p50: 0, p95: 0, count: 3 }, append: { p50: 0.4, p95: 1, count: 3 }, score: { p50: 2.5, p95: 3, count: 3 } };
    const noLatency = { prefill: null, compress: null, append: null, score: null };
    const rows = rowsOf([okRow(), okRow({ latencyMs }), okRow({ latencyMs: noLatency })]);

    const figure = latencyFigure(rows);

    // The first row has 4 phases; the second has append and score (prefill is null, compress is 0); the third has none.
    expect(figure.records.map((entry) => [entry.prefillMs, entry.compressMs, entry.appendMs, entry.scoreMs])).toEqual([
      [1.2, 0.3, 0.4, 2.1],
      [null, null, 0.4, 2.5],
    ]);
    expect(layerNames(figure.spec)).toEqual([POINTS_LAYER]);
  });
});

describe('tailFigure', () => {
  it('plots rows that record the tail slice of their metric', () => {
    const rows = rowsOf([okRow(), okRow({ slices: {} }), okRow({ task: 'ctr', metrics: { gauc: 0.6 }, slices: { tail: { users: 10, metrics: { gauc: 0.55 } } } })]);

    const figure = tailFigure(rows);

    expect(figure.records.map((entry) => [entry.accuracy, entry.tailAccuracy, entry.tailUsers])).toEqual([
      [0.05, 0.04, 604],
      [0.6, 0.55, 10],
    ]);
  });
});

describe('complexityFigure', () => {
  it('draws one record per measured point', () => {
    const curve: ComplexityCurve = {
      dataset: 'ml-1m',
      model: 'sasrec',
      task: 'retrieval',
      family: 'token-pruning',
      strategy: 'snapkv',
      setting: 'compressionRatio=0.5',
      measure: 'prefill ms',
      unit: 'ms',
      points: [
        { historyLength: 50, value: 1 },
        { historyLength: 100, value: 2 },
      ],
      source: 'run-1/complexity.json',
    };

    const figure = complexityFigure([curve, { ...curve, strategy: 'full', points: [{ historyLength: 50, value: 1.5 }] }]);

    expect(figure.records.map((entry) => [entry.strategy, entry.historyLength, entry.value])).toEqual([
      ['snapkv', 50, 1],
      ['snapkv', 100, 2],
      ['full', 50, 1.5],
    ]);
    expect(figure.csvRows).toHaveLength(3);
  });
});

describe('methodFigure', () => {
  it('plots the ok rows of one method with positive bytes', () => {
    const rows = rowsOf([okRow({ model: 'sasrec' }), okRow({ model: 'hstu' }), okRow({ bytesPerUser: 0 })]);

    const figure = methodFigure('method-window', 'window', rows);

    expect(figure.id).toBe('method-window');
    expect(figure.records.map((entry) => entry.model)).toEqual(['sasrec', 'hstu']);
  });
});
