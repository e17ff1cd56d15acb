import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { failedRow, HOSTILE_NAME, leaderboardFixture, okRow, toJsonl } from './__fixtures__/rows';
import { buildSite, DEFAULT_SITE_TITLE } from './build-site';
import { LEADERBOARD_CHART_TITLE } from './chart';
import type { Logger } from './logger';
import { invalidArgument, malformedResultsLine, pathOutsideSite, rowsLeftOutOfChart } from './messages';
import { methodPageFile } from './methods';

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => warnings.push(message), info: () => undefined, debug: () => undefined };
}

function jsonParseError(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected invalid JSON');
}

function listFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(directory, join(entry.parentPath, entry.name)))
    .sort();
}

describe('buildSite', () => {
  let directory: string;
  let results: string;
  let site: string;

  beforeEach(() => {
    directory = realpathSync(mkdtempSync(join(tmpdir(), 'malloc-report-site-')));
    results = join(directory, 'run-1');
    site = join(directory, 'site');
    mkdirSync(results);
    writeFileSync(join(results, 'results.jsonl'), toJsonl(leaderboardFixture()));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('writes the pages, exports and vendored libraries', async () => {
    const built = await buildSite({ results: [results], site });

    // The fixture has the strategies full, window, snapkv, kivi, recompute, h2o and the hostile name.
    const hostilePage = methodPageFile(HOSTILE_NAME).replace(/\.html$/, '');
    // Method pages come in code-unit order of the strategy names, and '<' sorts before letters.
    const methodIds = [hostilePage, 'method-full', 'method-h2o', 'method-kivi', 'method-recompute', 'method-snapkv', 'method-window'];
    // h2o has only a failed row and recompute has only bytesPerUser 0, so their charts are empty and not exported.
    const methodCharts = [hostilePage, 'method-full', 'method-kivi', 'method-snapkv', 'method-window'];
    const charts = ['pareto-bytes', 'ratio-curves', 'latency', 'tail-users', ...methodCharts];
    expect(built).toEqual({
      pages: ['index.html', 'pareto.html', 'ratio.html', 'latency.html', 'tail.html', 'results.html', 'methods.html', ...methodIds.map((id) => `${id}.html`)].map((file) => join(site, file)),
      rows: 10,
      // 2 failed rows and 1 ok row with bytesPerUser 0.
      skippedRows: 3,
      svgFiles: ['leaderboard', ...charts].map((id) => join(site, `${id}.svg`)),
      csvFiles: [...['leaderboard', ...charts].map((id) => `${id}.csv`), 'overview.csv', 'results.csv'].map((file) => join(site, file)),
    });
    expect(listFiles(site)).toEqual(
      [
        ...built.pages.map((file) => relative(site, file)),
        ...built.svgFiles.map((file) => relative(site, file)),
        ...built.csvFiles.map((file) => relative(site, file)),
        'site.css',
        'site.js',
        'vendor/vega-embed/LICENSE.txt',
        'vendor/vega-embed/vega-embed.min.js',
        'vendor/vega-embed/vega-embed.min.js.map',
        'vendor/vega-lite/LICENSE.txt',
        'vendor/vega-lite/vega-lite.min.js',
        'vendor/vega-lite/vega-lite.min.js.map',
        'vendor/vega/LICENSE.txt',
        'vendor/vega/vega.min.js',
      ].sort(),
    );
  });

  it('adds the complexity page when complexity.json exists', async () => {
    writeFileSync(
      join(results, 'complexity.json'),
      JSON.stringify({ schemaVersion: 1, curves: [{ dataset: 'ml-1m', model: 'sasrec', strategy: 'snapkv', measure: 'prefill ms', unit: 'ms', points: [{ historyLength: 50, value: 1 }, { historyLength: 200, value: 3.5 }] }] }),
    );

    const built = await buildSite({ results: [results], site });

    expect(built.pages).toContain(join(site, 'complexity.html'));
    expect(built.svgFiles).toContain(join(site, 'complexity.svg'));
    expect(readFileSync(join(site, 'complexity.csv'), 'utf8').split('\r\n').filter(Boolean)).toHaveLength(3);
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toContain('<a href="complexity.html">Complexity</a>');
  });

  it('skips the complexity page without complexity.json', async () => {
    await buildSite({ results: [results], site });

    expect(existsSync(join(site, 'complexity.html'))).toBe(false);
    expect(readFileSync(join(site, 'index.html'), 'utf8')).toContain('Complexity (skipped)');
  });

  it('shows the paper from methods.json', async () => {
    writeFileSync(join(results, 'methods.json'), JSON.stringify([{ id: 'snapkv', name: 'SnapKV', family: 'token-pruning', granularity: 'token', paper: 'Li et al., NeurIPS 2024, arXiv 2404.14469', reads: ['window-attention'], parameters: [] }]));

    await buildSite({ results: [results], site });

    expect(readFileSync(join(site, 'method-snapkv.html'), 'utf8')).toContain('<dt>paper</dt><dd>Li et al., NeurIPS 2024, arXiv 2404.14469</dd>');
    expect(readFileSync(join(site, 'method-window.html'), 'utf8')).toContain('No methods.json beside the results describes this method');
  });

  it('writes one CSV line per plotted and per read row', async () => {
    await buildSite({ results: [results], site });

    // CRLF line ends and no line breaks inside cells: header + 7 points, header + 10 rows.
    expect(readFileSync(join(site, 'leaderboard.csv'), 'utf8').split('\r\n').filter(Boolean)).toHaveLength(8);
    expect(readFileSync(join(site, 'results.csv'), 'utf8').split('\r\n').filter(Boolean)).toHaveLength(11);
  });

  it('escapes hostile strings in every page', async () => {
    const built = await buildSite({ results: [results], site, title: 'Leaderboard <b>draft</b>' });
    const index = readFileSync(join(site, 'index.html'), 'utf8');
    const table = readFileSync(join(site, 'results.html'), 'utf8');

    expect(index).toContain('<title>Leaderboard &lt;b&gt;draft&lt;/b&gt;</title>');
    expect(table).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(table).toContain('kernel &lt;script&gt;alert(2)&lt;/script&gt; failed');
    expect(readFileSync(join(site, methodPageFile(HOSTILE_NAME)), 'utf8')).toContain('<h1>Method: &lt;img src=x onerror=alert(1)&gt;</h1>');
    for (const page of built.pages) {
      const html = readFileSync(page, 'utf8');
      expect(html).not.toContain(HOSTILE_NAME);
      expect(html).not.toContain('<script>alert');
    }
  });

  it('links only to relative paths', async () => {
    const built = await buildSite({ results: [results], site });

    for (const page of built.pages) {
      const html = readFileSync(page, 'utf8');
      // The one exception is the empty icon, a data: URL that keeps browsers from requesting /favicon.ico.
      const links = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]).filter((link) => link !== 'data:,');
      expect(html.match(/href="data:,"/g)).toHaveLength(1);
      expect(links.length).toBeGreaterThan(5);
      for (const link of links) {
        expect(link).not.toMatch(/^(?:[a-z]+:|\/)/i);
        expect(existsSync(join(site, link))).toBe(true);
      }
    }
  });

  it('uses the default title', async () => {
    await buildSite({ results: [results], site });

    expect(readFileSync(join(site, 'index.html'), 'utf8')).toContain(`<title>${DEFAULT_SITE_TITLE}</title>`);
  });

  it('warns about rows left out of the chart', async () => {
    const logger = capturingLogger();

    await buildSite({ results: [results], site, logger });

    expect(logger.warnings).toContain(rowsLeftOutOfChart(LEADERBOARD_CHART_TITLE, 2, 1));
  });

  it('builds from several results files', async () => {
    const second = join(directory, 'run-2');
    mkdirSync(second);
    writeFileSync(join(second, 'results.jsonl'), toJsonl([okRow({ seed: 3 }), failedRow({ seed: 3 })]));

    const built = await buildSite({ results: [results, join(second, 'results.jsonl')], site });

    expect(built.rows).toBe(12);
    expect(built.skippedRows).toBe(4);
  });

  it('keeps unrelated files and leaves no temporary file', async () => {
    mkdirSync(site);
    writeFileSync(join(site, 'CNAME'), 'leaderboard.example');
    await buildSite({ results: [results], site });

    await buildSite({ results: [results], site });

    expect(readFileSync(join(site, 'CNAME'), 'utf8')).toBe('leaderboard.example');
    expect(listFiles(site).filter((file) => file.endsWith('.tmp'))).toEqual([]);
  });

  it('never writes through a link out of the site', async () => {
    const outside = join(directory, 'outside');
    mkdirSync(join(outside, 'vega'), { recursive: true });
    writeFileSync(join(outside, 'vega', 'vega.min.js'), 'keep');
    mkdirSync(site);
    symlinkSync(outside, join(site, 'vendor'));

    await expect(buildSite({ results: [results], site })).rejects.toThrow(pathOutsideSite(join(site, 'vendor', 'vega', 'vega.min.js'), site));
    expect(readFileSync(join(outside, 'vega', 'vega.min.js'), 'utf8')).toBe('keep');
  });

  it('names file and line of a malformed row', async () => {
    const file = join(results, 'results.jsonl');
    writeFileSync(file, `${JSON.stringify(okRow())}\nnot json\n`);

    const reason = jsonParseError('not json');

    await expect(buildSite({ results: [results], site })).rejects.toThrow(SyntaxError);
    await expect(buildSite({ results: [results], site })).rejects.toThrow(malformedResultsLine(file, 2, reason));
    expect(existsSync(site)).toBe(false);
  });

  it('rejects invalid options', async () => {
    await expect(buildSite({ results: [], site })).rejects.toThrow(RangeError);
    await expect(buildSite({ results: [results], site: '' })).rejects.toThrow(
      invalidArgument('buildSite', 'options.site', 'a non-empty folder path', ''),
    );
    await expect(buildSite({ results: [results], site, title: 5 as unknown as string })).rejects.toThrow(TypeError);
  });
});
