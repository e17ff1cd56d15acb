// Opens a built site in headless Chromium, from a local web server and from file://. The tests
// check what the page shows: the chart draws one point per plotted row, hostile strings stay
// text, nothing logs an error, and no request leaves the machine.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { HOSTILE_NAME, leaderboardFixture, toJsonl } from '../src/__fixtures__/rows';
import { buildSite } from '../src/build-site';

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

// The fixture has 10 rows: 8 ok, 2 failed. One ok row has bytesPerUser 0, which a log axis
// cannot show, so 8 - 1 = 7 points are plotted.
const OK_ROWS = 8;
const UNPLOTTABLE_OK_ROWS = 1;

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

/** Serves the files of one folder on 127.0.0.1 at an ephemeral port. */
async function startStaticServer(root: string): Promise<{ server: Server; baseUrl: string }> {
  const types: Record<string, string> = {
    '.html': 'text/html; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8',
    '.svg': 'image/svg+xml',
    '.csv': 'text/csv; charset=utf-8',
    '.txt': 'text/plain; charset=utf-8',
    '.map': 'application/json',
  };
  const server = createServer((request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    const file = resolve(root, `.${pathname}`);
    const inside = !relative(root, file).startsWith('..') && (file === root || file.startsWith(`${root}${sep}`));
    if (!inside || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return { server, baseUrl: `http://127.0.0.1:${port}` };
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
  let server: Server;
  let baseUrl: string;
  let context: BrowserContext;

  beforeAll(async () => {
    directory = realpathSync(mkdtempSync(join(tmpdir(), 'malloc-report-browser-')));
    const results = join(directory, 'run-1');
    site = join(directory, 'site');
    mkdirSync(results);
    writeFileSync(join(results, 'results.jsonl'), toJsonl(leaderboardFixture()));
    await buildSite({ results: [results], site });

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

  it('shows the hostile name as text', async () => {
    const { page, log } = await openLoggedPage(context);
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);

    // The name is in the table, in the legend, and in the failed row; no element was injected.
    expect(await page.locator('#results td', { hasText: HOSTILE_NAME }).count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#leaderboard text', { hasText: HOSTILE_NAME }).count()).toBeGreaterThanOrEqual(1);
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
    const box = await page.locator(`${POINT_MARKS}[aria-label^="${HOSTILE_NAME}"]`).first().boundingBox();
    expect(box).not.toBeNull();
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
    const tooltip = page.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible', timeout: 5_000 });

    expect(await tooltip.textContent()).toContain(HOSTILE_NAME);
    expect(await tooltip.textContent()).toContain('0.15 (95% CI 0.048 to 0.052)');
    expect(await tooltip.locator('img').count()).toBe(0);
    expect(log.dialogs).toEqual([]);
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
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.requests.every((url) => url.startsWith('file:'))).toBe(true);
    await page.close();
  }, 30_000);

  it('saves a screenshot', async () => {
    const { page } = await openLoggedPage(context);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${baseUrl}/index.html`);
    await waitForCharts(page);
    // Kept after the test, outside the folder that afterAll removes, so a person can look at it.
    const screenshot = join(mkdtempSync(join(tmpdir(), 'malloc-report-screenshot-')), 'leaderboard.png');

    await page.screenshot({ path: screenshot, fullPage: true });

    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    console.log(`Screenshot of the leaderboard site: ${screenshot}`);
    await page.close();
  }, 30_000);
});
