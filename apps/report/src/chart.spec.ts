import { HOSTILE_NAME, leaderboardFixture, metricsWith, okRow, toJsonl } from './__fixtures__/rows';
import { buildLeaderboardSpec, leaderboardData, LeaderboardPoint, OKABE_ITO, paretoFront, VegaLiteSpec } from './chart';
import { lengthMismatch, vegaLoadRejected } from './messages';
import { renderSvg } from './render-svg';
import { parseResultsText, ResultRow } from './results';

function fixtureRows(): ResultRow[] {
  return parseResultsText(toJsonl(leaderboardFixture()), '/results/run-1/results.jsonl').rows;
}

/** Counts the point marks in an SVG written by vega: the paths inside each `mark-symbol role-mark` group. */
function countPointMarks(svg: string): number {
  const groups = svg.match(/<g class="mark-symbol role-mark[^"]*"[^>]*>.*?<\/g>/gs) ?? [];
  return groups.reduce((total, group) => total + (group.match(/<path /g) ?? []).length, 0);
}

describe('paretoFront', () => {
  it('keeps the pairs no other pair beats', () => {
    // Pair 4 is cheapest; pair 0 beats it (0.1 > 0.05); pair 1 beats both; pair 2 has pair 1's
    // cost with a lower value; pair 3 costs more than pair 1 for the same value.
    const front = paretoFront([1, 2, 2, 3, 0.5], [0.1, 0.3, 0.2, 0.3, 0.05]);

    expect(front).toEqual([true, true, false, false, true]);
  });

  it('keeps every copy of an equal pair', () => {
    expect(paretoFront([5, 5, 9], [0.2, 0.2, 0.1])).toEqual([true, true, false]);
  });

  it('returns an empty front for no pairs', () => {
    expect(paretoFront([], [])).toEqual([]);
  });

  it('rejects arrays of different lengths', () => {
    expect(() => paretoFront([1, 2], [0.1])).toThrow(RangeError);
    expect(() => paretoFront([1, 2], [0.1])).toThrow(lengthMismatch('paretoFront', 'values', '2 values, one per cost', 1));
  });
});

describe('leaderboardData', () => {
  it('plots each ok row with ndcg@10 and positive bytes once', () => {
    const data = leaderboardData(fixtureRows());

    // 10 rows: 2 failed, 1 ok row with bytesPerUser 0, 7 plotted.
    expect(data.points).toHaveLength(7);
    expect(data.failed.map((row) => row.strategy)).toEqual(['h2o', HOSTILE_NAME]);
    expect(data.unplotted.map(({ row }) => row.strategy)).toEqual(['recompute']);
    expect(data.unplotted[0].reason).toBe('bytesPerUser is 0, which a log axis cannot show');
  });

  it('leaves out an ok row without ndcg@10', () => {
    const rows = fixtureRows().slice(0, 1);
    const withoutMetric = { ...rows[0], metrics: Object.assign(Object.create(null), { 'hit@10': 0.1 }) };

    const data = leaderboardData([withoutMetric]);

    expect(data.points).toHaveLength(0);
    expect(data.unplotted[0].reason).toBe('it has no ndcg@10');
  });

  it('marks the Pareto front within each dataset', () => {
    const data = leaderboardData(fixtureRows());
    const front = data.points.filter((point) => point.pareto).map((point) => `${point.dataset} ${point.strategy}`);

    // ml-1m (bytes, ndcg): window (20000, 0.12) < snapkv (20400, 0.14) < kivi (40000, 0.17);
    // the hostile strategy (50000, 0.15) and full (160000, 0.16) are beaten by kivi.
    // ml-100k: window (10000, 0.1) and full (80000, 0.2) are both on the front.
    expect(front).toEqual(['ml-1m window', 'ml-1m snapkv', 'ml-1m kivi', 'ml-100k full', 'ml-100k window']);
  });

  it('writes exact values and provenance for the tooltip', () => {
    const point = leaderboardData(fixtureRows()).points[0];

    expect(point.ndcg10Text).toBe('0.16 (95% CI 0.048 to 0.052)');
    expect(point.bytesPerUserText).toBe('160000');
    expect(point.compressionRatioText).toBe('1×');
    expect(point.gitCommit).toBe('abc1234');
    expect(point.machine).toBe('linux x64, 2 cores');
  });
});

describe('buildLeaderboardSpec', () => {
  it('holds one data value per plotted ok row', () => {
    const rows = fixtureRows();
    const plottedRows = rows.filter((row) => row.ok && row.bytesPerUser !== null && row.bytesPerUser > 0);

    const spec = buildLeaderboardSpec(leaderboardData(rows).points);
    const values = (spec.data as { values: LeaderboardPoint[] }).values;

    expect(values).toHaveLength(plottedRows.length);
    expect(values.map((value) => [value.strategy, value.ndcg10, value.bytesPerUser])).toEqual(
      plottedRows.map((row) => [row.strategy, row.metrics['ndcg@10'], row.bytesPerUser]),
    );
  });

  it('colours strategies with the Okabe-Ito palette in sorted order', () => {
    const spec = buildLeaderboardSpec(leaderboardData(fixtureRows()).points) as unknown as {
      spec: { layer: { encoding: { color?: { scale: { domain: string[]; range: string[] } } } }[] };
    };
    const color = spec.spec.layer[1].encoding.color;

    expect(color?.scale.range).toEqual(OKABE_ITO);
    expect(color?.scale.domain).toEqual([HOSTILE_NAME, 'full', 'kivi', 'snapkv', 'window']);
  });

  it('uses a log scale for bytes', () => {
    const spec = buildLeaderboardSpec([]) as unknown as { spec: { layer: { encoding: { x: { scale: { type: string } } } }[] } };

    expect(spec.spec.layer[1].encoding.x.scale.type).toBe('log');
  });
});

describe('renderSvg', () => {
  it('draws one point mark per plotted row', async () => {
    const points = leaderboardData(fixtureRows()).points;

    const svg = await renderSvg(buildLeaderboardSpec(points), { title: 'Leaderboard', description: 'NDCG@10 against bytes' });

    expect(points).toHaveLength(7);
    expect(countPointMarks(svg)).toBe(7);
  });

  it('shows a long model label in full in the legend', async () => {
    const label = 'sasrec-gqa2-linformer16x4 (model.heads=4, training.epochs=24)';
    const rows = fixtureRows().map((row) => ({ ...row, model: label }));

    const svg = await renderSvg(buildLeaderboardSpec(leaderboardData(rows).points), { title: 'Leaderboard', description: 'NDCG@10 against bytes' });

    expect(svg).toContain(`>${label}<`);
  });

  it('shows a hostile strategy name as text', async () => {
    const svg = await renderSvg(buildLeaderboardSpec(leaderboardData(fixtureRows()).points), { title: 'Leaderboard', description: HOSTILE_NAME });

    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(svg).not.toContain('<img');
  });

  it('sends vega warnings to the logger', async () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), info: () => undefined, debug: () => undefined };
    const consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    // vega-lite warns when a size channel encodes a nominal field.
    const spec: VegaLiteSpec = {
      data: { values: [{ a: 1, b: 'x' }] },
      mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' }, size: { field: 'b', type: 'nominal' } },
    };

    try {
      await renderSvg(spec, { title: 'Chart', description: 'Chart', logger });
      expect(warnings.some((warning) => warning.startsWith('vega: ') && warning.includes('size'))).toBe(true);
      expect(consoleWarn).not.toHaveBeenCalled();
    } finally {
      consoleWarn.mockRestore();
    }
  });

  it('loads no data from the network', async () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), info: () => undefined, debug: () => undefined };
    const url = 'http://example.invalid/data.json';
    const spec: VegaLiteSpec = { data: { url }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } };

    const svg = await renderSvg(spec, { title: 'Chart', description: 'Chart', logger });

    expect(warnings.some((warning) => warning.includes(vegaLoadRejected(url)))).toBe(true);
    expect(countPointMarks(svg)).toBe(0);
  });

  it('describes the chart for screen readers', async () => {
    const svg = await renderSvg(buildLeaderboardSpec([]), { title: 'Leaderboard <1>', description: 'No points.' });

    expect(svg).toMatch(/^<svg [^>]*role="img" aria-label="Leaderboard &lt;1&gt;">/);
    expect(svg).toContain('<title>Leaderboard &lt;1&gt;</title><desc>No points.</desc>');
  });
});

describe('leaderboardData Pareto front', () => {
  it('leaves rows without a cache off the front', () => {
    const rows = parseResultsText(
      toJsonl([
        okRow({ cellKey: 'a', strategy: 'full', protocol: 'one-shot', bytesPerUser: 80_000, metrics: metricsWith(0.2) }),
        okRow({ cellKey: 'b', strategy: 'window', protocol: 'one-shot', bytesPerUser: 10_000, metrics: metricsWith(0.15) }),
        okRow({ cellKey: 'c', strategy: 'recompute', protocol: 'none', bytesPerUser: 400, metrics: metricsWith(0.2) }),
      ]),
      '/results/pareto/results.jsonl',
    ).rows;

    const onFront = Object.fromEntries(leaderboardData(rows).points.map((point) => [point.strategy, point.pareto]));

    expect(onFront).toEqual({ full: true, window: true, recompute: false });
  });
});
