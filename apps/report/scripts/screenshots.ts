// Saves a full-page screenshot of every page of a built site.
//
// Usage: npx tsx apps/report/scripts/screenshots.ts SITE_DIR OUT_DIR
//
// The site is served from 127.0.0.1 at an ephemeral port and opened in headless Chromium at
// /usr/lib/chromium/chromium, or at the path in MALLOC_CHROMIUM. Every request that is not for
// 127.0.0.1 is aborted. Each page is saved as OUT_DIR/<page>.png after its charts are drawn.
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { startStaticServer } from './static-server';

const USAGE = 'Usage: npx tsx apps/report/scripts/screenshots.ts SITE_DIR OUT_DIR';

async function main(args: string[]): Promise<number> {
  if (args.length !== 2) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const site = resolve(args[0]);
  const out = resolve(args[1]);
  mkdirSync(out, { recursive: true });
  const pages = readdirSync(site)
    .filter((file) => file.endsWith('.html'))
    .sort();

  const { server, baseUrl } = await startStaticServer(site);
  const browser = await chromium.launch({ executablePath: process.env.MALLOC_CHROMIUM ?? '/usr/lib/chromium/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort('blockedbyclient')));
    for (const file of pages) {
      await page.goto(`${baseUrl}/${file}`);
      await page.waitForSelector('body[data-charts="done"]', { timeout: 30_000 });
      const path = join(out, file.replace(/\.html$/, '.png'));
      await page.screenshot({ path, fullPage: true });
      process.stdout.write(`${path}\n`);
    }
  } finally {
    await browser.close();
    await new Promise((closed) => server.close(closed));
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`Screenshots failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
