import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { failedRow, HOSTILE_NAME, leaderboardFixture, okRow, toJsonl } from './__fixtures__/rows';
import { buildSite, DEFAULT_SITE_TITLE } from './build-site';
import { LEADERBOARD_CHART_TITLE } from './chart';
import type { Logger } from './logger';
import { invalidArgument, malformedResultsLine, pathOutsideSite, rowsLeftOutOfChart } from './messages';

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

  it('writes the page, exports and vendored libraries', async () => {
    const built = await buildSite({ results: [results], site });

    expect(built).toEqual({
      pages: [join(site, 'index.html')],
      rows: 10,
      // 2 failed rows and 1 ok row with bytesPerUser 0.
      skippedRows: 3,
      svgFiles: [join(site, 'leaderboard.svg')],
      csvFiles: [join(site, 'leaderboard.csv'), join(site, 'results.csv')],
    });
    expect(listFiles(site)).toEqual([
      'index.html',
      'leaderboard.csv',
      'leaderboard.svg',
      'results.csv',
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
    ]);
  });

  it('writes one CSV line per plotted and per read row', async () => {
    await buildSite({ results: [results], site });

    // CRLF line ends and no line breaks inside cells: header + 7 points, header + 10 rows.
    expect(readFileSync(join(site, 'leaderboard.csv'), 'utf8').split('\r\n').filter(Boolean)).toHaveLength(8);
    expect(readFileSync(join(site, 'results.csv'), 'utf8').split('\r\n').filter(Boolean)).toHaveLength(11);
  });

  it('escapes hostile strings in the page', async () => {
    await buildSite({ results: [results], site, title: 'Leaderboard <b>draft</b>' });
    const html = readFileSync(join(site, 'index.html'), 'utf8');

    expect(html).toContain('<title>Leaderboard &lt;b&gt;draft&lt;/b&gt;</title>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('kernel &lt;script&gt;alert(2)&lt;/script&gt; failed');
    expect(html).not.toContain(HOSTILE_NAME);
    expect(html).not.toContain('<script>alert');
  });

  it('links only to relative paths', async () => {
    await buildSite({ results: [results], site });
    const html = readFileSync(join(site, 'index.html'), 'utf8');
    const links = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]);

    expect(links.length).toBeGreaterThan(5);
    for (const link of links) {
      expect(link).not.toMatch(/^(?:[a-z]+:|\/)/i);
      expect(existsSync(join(site, link))).toBe(true);
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
