// Opens a built site in headless Chromium, from a local web server and from file://. The tests
// check what the pages show: every chart draws one mark per row it should show, the filters
// change the marks, the table sorts, hostile strings stay text, nothing logs an error, and no
// request leaves the machine. A second suite builds a site from 5,000 generated rows and
// times the build and the overview page.
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { startStaticServer } from '../scripts/static-server';
import { generateRows } from '../src/__fixtures__/generate-rows';
import { HOSTILE_NAME, leaderboardFixture, toJsonl } from '../src/__fixtures__/rows';
import { buildSite, BuildSiteResult } from '../src/build-site';
import { methodPageFile } from '../src/methods';
import { TABLE_COLUMNS } from '../src/table';

const CHROMIUM = process.env.MALLOC_CHROMIUM ?? '/usr/lib/chromium/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
const POINT_MARKS = '#leaderboard g.mark-symbol.role-mark path';

/** Marks of the layer named `points` inside one chart element. */
function pointMarks(chartId: string): string {
  return `[id="${chartId}"] g.points_marks path`;
}

// The fixture has 10 rows: 8 ok, 2 failed. One ok row (recompute) has bytesPerUser 0, which a
// log axis cannot show, and no measured ratio, so 8 - 1 = 7 points are plotted against bytes or
// ratio. Every ok row records the tail slice and 4 latency phases.
const OK_ROWS = 8;
const UNPLOTTABLE_OK_ROWS = 1;
const HOSTILE_PAGE = methodPageFile(HOSTILE_NAME).replace(/\.html$/, '');

// Two complexity curves of 3 points each; the hostile name must stay text here too.
const COMPLEXITY = {
  schemaVersion: 1,
  curves: [
    { dataset: 'ml-1m', model: 'sasrec', strategy: 'snapkv', measure: 'prefill ms', unit: 'ms', points: [50, 100, 200].map((historyLength) => ({ historyLength, value: historyLength / 40 })) },
    { dataset: 'ml-1m', model: 'hstu', strategy: HOSTILE_NAME, measure: 'bytes per user', unit: 'bytes', points: [50, 100, 200].map((historyLength) => ({ historyLength, value: historyLength * 64 })) },
  ],
};

// Marks each chart must draw with no filter, worked out from the fixture.
const EXPECTED_MARKS: Readonly<Record<string, number>> = {
  'pareto-bytes': OK_ROWS - UNPLOTTABLE_OK_ROWS,
  'ratio-curves': OK_ROWS - UNPLOTTABLE_OK_ROWS,
  latency: OK_ROWS * 4,
  'tail-users': OK_ROWS,
  complexity: 2 * 3,
  // full and window each have a row on ml-1m and one on ml-100k; snapkv, kivi and the hostile name have one each.
  'method-full': 2,
  'method-window': 2,
  'method-snapkv': 1,
  'method-kivi': 1,
  [HOSTILE_PAGE]: 1,
};

// Jest hides console output of a file whose tests are all skipped, so the reason goes to stderr.
if (!HAVE_CHROMIUM) {
  process.stderr.write(`\nSkipping the browser tests of @malloc/report: no Chromium at ${CHROMIUM}. Install it (apt-get install chromium) or set MALLOC_CHROMIUM to its binary.\n`);
}
const describeWithChromium = HAVE_CHROMIUM ? describe : describe.skip;

/** What a page did while it was open. */
interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  requests: string[];
  blocked: string[];
}

/** Opens a page that records errors, dialogs and requests, and aborts any request that is not local. */
async function openLoggedPage(context: BrowserContext): Promise<{ page: Page; log: PageLog }> {
  const log: PageLog = { consoleErrors: [], pageErrors: [], dialogs: [], requests: [], blocked: [] };
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') {
      log.consoleErrors.push(message.text());
    }
  });
  page.on('pageerror', (error) => log.pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('request', (request) => log.requests.push(request.url()));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'file:' || (url.protocol === 'http:' && url.hostname === '127.0.0.1')) {
      return route.continue();
    }
    log.blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  return { page, log };
}

async function waitForCharts(page: Page): Promise<void> {
  await page.waitForSelector('body[data-charts="done"]', { timeout: 20_000 });
}

function isLocal(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'file:' || parsed.protocol === 'data:' || (parsed.protocol === 'http:' && parsed.hostname === '127.0.0.1');
}

describeWithChromium(HAVE_CHROMIUM ? 'leaderboard site in Chromium' : `leaderboard site in Chromium (skipped: no Chromium at ${CHROMIUM})`, () => {
  let directory: string;
  let site: string;
  let built: BuildSiteResult;
  let server: Server;
  let baseUrl: string;
  let context: BrowserContext;

  beforeAll(async () => {
    directory = realpathSync(mkdtempSync(join(tmpdir(), 'malloc-report-browser-')));
    const results = join(directory, 'run-1');
    site = join(directory, 'site');
    mkdirSync(results);
    writeFileSync(join(results, 'results.jsonl'), toJsonl(leaderboardFixture()));
    writeFileSync(join(results, 'complexity.json'), JSON.stringify(COMPLEXITY));
    built = await buildSite({ results: [results], site });

    ({ server, baseUrl } = await startStaticServer(site));
    context = await chromium.launchPersistentContext(join(directory, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await new Promise((closed) => server?.close(closed));
    rmSync(directory, { recursive: true, force: true });
  });

  it('draws one point per plotted ok row', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);

    expect(await page.getAttribute('#leaderboard', 'data-state')).toBe('rendered');
    expect(await page.locator(POINT_MARKS).count()).toBe(OK_ROWS - UNPLOTTABLE_OK_ROWS);
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    await page.close();
  }, 30_000);

  it('loads every page without errors and draws every chart', async () => {
    const { page, log } = await openLoggedPage(context);
    const drawn: Record<string, number> = {};

    for (const file of built.pages) {
      await page.goto(pathToUrl(file));
      await waitForCharts(page);
      for (const id of await page.locator('.chart-view').evaluateAll((elements) => elements.map((element) => element.id))) {
        expect([id, await page.getAttribute(`[id="${id}"]`, 'data-state')]).toEqual([id, 'rendered']);
        if (id !== 'leaderboard') {
          drawn[id] = await page.locator(pointMarks(id)).count();
        }
      }
    }

    expect(drawn).toEqual(EXPECTED_MARKS);
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.dialogs).toEqual([]);
    await page.close();
  }, 60_000);

  it('redraws the charts when a filter changes', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/pareto.html`);
    await waitForCharts(page);
    expect(await page.locator(pointMarks('pareto-bytes')).count()).toBe(7);

    // hstu has two plotted rows: kivi and the hostile name.
    await page.selectOption('select[data-filter="model"]', 'hstu');
    await waitForCharts(page);
    expect(await page.locator(pointMarks('pareto-bytes')).count()).toBe(2);

    // ml-100k has no hstu row, so the chart shows that nothing matches.
    await page.selectOption('select[data-filter="dataset"]', 'ml-100k');
    await waitForCharts(page);
    expect(await page.getAttribute('#pareto-bytes', 'data-state')).toBe('empty');
    expect(await page.locator(pointMarks('pareto-bytes')).count()).toBe(0);

    // Back to every model on ml-100k: full and window.
    await page.selectOption('select[data-filter="model"]', '');
    await waitForCharts(page);
    expect(await page.locator(pointMarks('pareto-bytes')).count()).toBe(2);
    expect(log.consoleErrors).toEqual([]);
    await page.close();
  }, 30_000);

  it('carries the filters to the next page', async () => {
    const { page } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/pareto.html`);
    await waitForCharts(page);
    await page.selectOption('select[data-filter="model"]', 'hstu');
    await waitForCharts(page);

    await page.click('nav a[data-page="latency.html"]');
    await waitForCharts(page);

    // Two ok hstu rows with 4 phases each. Of the 10 table rows, 3 are hstu: 2 ok and the failed row with the hostile name.
    expect(new URL(page.url()).search).toBe('?model=hstu');
    expect(await page.inputValue('select[data-filter="model"]')).toBe('hstu');
    expect(await page.locator(pointMarks('latency')).count()).toBe(2 * 4);
    await page.goto(`${baseUrl}/results.html?model=hstu`);
    await waitForCharts(page);
    expect(await page.locator('#results tbody tr:visible').count()).toBe(3);
    await page.close();
  }, 30_000);

  it('sorts the table by a column', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/results.html`);
    await waitForCharts(page);
    const accuracyClass = `c${TABLE_COLUMNS.findIndex((column) => column.header === 'accuracy')}`;
    const accuracies = (): Promise<(number | null)[]> =>
      page.locator('#results tbody tr').evaluateAll(
        (rows, className) =>
          rows.map((row) => {
            const cell = row.querySelector(`td.${className}[data-sort]`);
            return cell === null ? null : Number(cell.getAttribute('data-sort'));
          }),
        accuracyClass,
      );

    await page.click('#results th button:text-is("accuracy")');
    // 8 ok rows with NDCG@10 ascending, then the 2 failed rows without one.
    expect(await accuracies()).toEqual([0.1, 0.12, 0.14, 0.15, 0.16, 0.16, 0.17, 0.2, null, null]);
    expect(await page.getAttribute('#results th:has(button:text-is("accuracy"))', 'aria-sort')).toBe('ascending');

    await page.click('#results th button:text-is("accuracy")');
    expect(await accuracies()).toEqual([0.2, 0.17, 0.16, 0.16, 0.15, 0.14, 0.12, 0.1, null, null]);
    expect(await page.getAttribute('#results th:has(button:text-is("accuracy"))', 'aria-sort')).toBe('descending');
    expect(log.consoleErrors).toEqual([]);
    await page.close();
  }, 30_000);

  it('shows a chosen column', async () => {
    const { page } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/results.html`);
    await waitForCharts(page);
    const seedHeader = page.locator('#results th:has(button:text-is("seed"))');
    expect(await seedHeader.isVisible()).toBe(false);

    await page.click('.column-chooser summary');
    await page.check('.column-chooser label:has-text("seed") input');

    expect(await seedHeader.isVisible()).toBe(true);
    await page.close();
  }, 30_000);

  it('fits the default tables on a laptop screen', async () => {
    const { page } = await openLoggedPage(context);
    await page.setViewportSize({ width: 1366, height: 768 });

    for (const file of ['results.html', 'index.html']) {
      await page.goto(`${baseUrl}/${file}`);
      await waitForCharts(page);
      const widths = await page.locator('.table-scroll').evaluate((element) => ({ scroll: element.scrollWidth, visible: element.clientWidth }));
      expect([file, widths.scroll <= widths.visible]).toEqual([file, true]);
    }
    await page.close();
  }, 30_000);

  it('shows the hostile name as text', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/results.html`);
    await waitForCharts(page);

    // The name is in the table twice (ok and failed row); no element was injected.
    expect(await page.locator('#results td', { hasText: HOSTILE_NAME }).count()).toBeGreaterThanOrEqual(2);
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);
    expect(await page.locator('#leaderboard text', { hasText: HOSTILE_NAME }).count()).toBeGreaterThanOrEqual(1);
    await page.goto(`${baseUrl}/${HOSTILE_PAGE}.html`);
    await waitForCharts(page);
    expect(await page.locator('h1').textContent()).toBe(`Method: ${HOSTILE_NAME}`);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(log.dialogs).toEqual([]);
    expect(log.requests.filter((url) => url.endsWith('/x'))).toEqual([]);
    await page.close();
  }, 30_000);

  it('shows the hostile name as text in the tooltip', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);

    // Hover the hostile strategy's point, found by its description.
    await page.locator(`${POINT_MARKS}[aria-label^="${HOSTILE_NAME}"]`).first().hover();
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible', timeout: 5_000 });

    expect(await tooltip.textContent()).toContain(HOSTILE_NAME);
    expect(await tooltip.textContent()).toContain('0.15 (95% CI 0.048 to 0.052)');
    expect(await tooltip.locator('img').count()).toBe(0);
    expect(log.dialogs).toEqual([]);
    await page.close();
  }, 30_000);

  it('shows exact values and provenance in a tooltip', async () => {
    const { page } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/pareto.html`);
    await waitForCharts(page);

    await page.locator(pointMarks('pareto-bytes')).first().hover();
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible', timeout: 5_000 });

    // The first point drawn is in the ml-100k panel, which comes first: the full cache, 80000 bytes, NDCG@10 0.2.
    const text = await tooltip.textContent();
    expect(text).toContain('ndcg@10 0.2 (95% CI 0.048 to 0.052)');
    expect(text).toContain('80000');
    expect(text).toContain('2026-12-04T21-30-00Z-ab12cd');
    expect(text).toContain('abc1234');
    expect(text).toContain('cfg0001');
    await page.close();
  }, 30_000);

  it('makes no request beyond 127.0.0.1', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);
    await page.locator(POINT_MARKS).first().hover();

    expect(log.blocked).toEqual([]);
    expect(log.requests.filter((url) => !isLocal(url))).toEqual([]);
    expect(log.requests.length).toBeGreaterThanOrEqual(5);
    await page.close();
  }, 30_000);

  it('blocks a request to another host', async () => {
    // Control for the test above: the guard does see and stop an outside request.
    const { page, log } = await openLoggedPage(context);

    await expect(page.goto('http://example.invalid/')).rejects.toThrow();
    expect(log.blocked).toEqual(['http://example.invalid/']);
    await page.close();
  }, 30_000);

  it('works opened from file://', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(pathToFileURL(join(site, 'index.html')).href);
    await waitForCharts(page);

    expect(await page.getAttribute('#leaderboard', 'data-state')).toBe('rendered');
    expect(await page.locator(POINT_MARKS).count()).toBe(OK_ROWS - UNPLOTTABLE_OK_ROWS);
    await page.goto(`${pathToFileURL(join(site, 'pareto.html')).href}?model=hstu`);
    await waitForCharts(page);
    expect(await page.locator(pointMarks('pareto-bytes')).count()).toBe(2);
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.requests.every((url) => url.startsWith('file:'))).toBe(true);
    await page.close();
  }, 30_000);

  /** Returns the URL of a built page on the test server. */
  function pathToUrl(file: string): string {
    return `${baseUrl}/${file.slice(site.length + 1)}`;
  }
});

describeWithChromium(HAVE_CHROMIUM ? 'site of 5,000 rows' : `site of 5,000 rows (skipped: no Chromium at ${CHROMIUM})`, () => {
  const ROWS = 5000;
  let directory: string;
  let site: string;
  let buildCpuMs: number;
  let buildWallMs: number;
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    directory = realpathSync(mkdtempSync(join(tmpdir(), 'malloc-report-size-')));
    const results = join(directory, 'run-1');
    site = join(directory, 'site');
    mkdirSync(results);
    writeFileSync(join(results, 'results.jsonl'), toJsonl(generateRows(ROWS, 20261204)));

    // CPU time of this process, because the wall clock of a shared machine also counts other jobs.
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await buildSite({ results: [results], site });
    const cpu = process.cpuUsage(cpuBefore);
    buildCpuMs = (cpu.user + cpu.system) / 1000;
    buildWallMs = performance.now() - wallBefore;
    ({ server, baseUrl } = await startStaticServer(site));
  }, 120_000);

  afterAll(async () => {
    await new Promise((closed) => server?.close(closed));
    rmSync(directory, { recursive: true, force: true });
  });

  it('builds in under 10 s of CPU time', () => {
    console.log(`Built the site of ${ROWS} rows in ${Math.round(buildCpuMs)} ms of CPU time, ${Math.round(buildWallMs)} ms of wall-clock time.`);
    expect(buildCpuMs).toBeLessThan(10_000);
  });

  it('loads the overview in under 2 s', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (message) => (message.type() === 'error' ? errors.push(message.text()) : undefined));
      // Load the page once to start the browser's processes, then keep the fastest of two
      // timed loads, because other jobs on a shared machine can stall any single one.
      await page.goto(`${baseUrl}/index.html`);
      await waitForCharts(page);
      const timings: number[] = [];
      for (let attempt = 0; attempt < 2; attempt++) {
        const started = performance.now();
        await page.goto(`${baseUrl}/index.html`);
        await waitForCharts(page);
        timings.push(performance.now() - started);
      }
      const loadMs = Math.min(...timings);

      console.log(`Loaded the overview of ${ROWS} rows in ${timings.map(Math.round).join(' and ')} ms.`);
      expect(await page.getAttribute('#leaderboard', 'data-state')).toBe('rendered');
      expect(errors).toEqual([]);
      expect(loadMs).toBeLessThan(2_000);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
