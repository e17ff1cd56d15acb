// Builds the leaderboard site from the TypeScript sources, without a build of the package.
//
// Usage: npx nx run report:site -- --results DIR [--results DIR ...] --site DIR [--title TEXT]
//    or: npx tsx apps/report/scripts/build-site.ts --results DIR --site DIR
//
// `malloc report` in @malloc/runner does the same from the built package.
import { parseArgs } from 'node:util';
import { buildSite } from '../src/build-site';

const USAGE = 'Usage: npx nx run report:site -- --results DIR [--results DIR ...] --site DIR [--title TEXT]';

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { results: { type: 'string', multiple: true }, site: { type: 'string' }, title: { type: 'string' } } });
  if (values.results === undefined || values.site === undefined) {
    process.stderr.write(`Missing --results or --site.\n${USAGE}\n`);
    return 2;
  }
  const logger = {
    warn: (message: string) => process.stderr.write(`warning: ${message}\n`),
    info: (message: string) => process.stderr.write(`${message}\n`),
    debug: () => undefined,
  };
  const built = await buildSite({ results: values.results, site: values.site, title: values.title, logger });
  process.stdout.write(`${built.pages[0]}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    process.stderr.write(`Building the site failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
