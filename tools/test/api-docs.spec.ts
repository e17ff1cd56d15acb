import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, describeRun, runCommand } from './workspace-packages';

// Generates the API documentation as `npm run docs` does (root typedoc.json), into a temporary
// folder, and checks that TypeDoc found no error and no undocumented export. Took 18 s on an
// idle 2-core machine and 51 s with other jobs running.

const typedocBin = join(WORKSPACE_ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** TypeDoc warnings that this check rejects: an export without TSDoc, or a tag TypeDoc does not know. */
const rejectedWarnings = [/does not have any documentation/, /unknown block tag/, /unknown inline tag/, /unknown modifier tag/];

describe('API documentation', () => {
  jest.setTimeout(180_000);

  let out = '';
  let run: ReturnType<typeof runCommand> | null = null;
  let warnings: string[] = [];

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'malloc-api-docs-'));
    run = runCommand(process.execPath, [typedocBin, '--out', out, '--logLevel', 'Warn'], WORKSPACE_ROOT, { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, 170_000);
    warnings = `${run.stdout}\n${run.stderr}`.split('\n').filter((line) => line.includes('[warning]') && !/Found \d+ errors and \d+ warnings/.test(line));
  }, 180_000);

  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('generates without errors', () => {
    expect(run === null ? 'not run' : describeRun('typedoc', run)).toContain('exited with 0');
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });

  it('documents every export', () => {
    const rejected = warnings.filter((line) => rejectedWarnings.some((pattern) => pattern.test(line)));

    expect(rejected).toEqual([]);

    // Other warnings (a type referenced but not exported, a @param name that does not match)
    // are printed for the maintainers but do not fail the check.
    const others = warnings.filter((line) => !rejected.includes(line));
    if (others.length > 0) {
      console.warn(`TypeDoc printed ${others.length} other warnings:\n${others.join('\n')}`);
    }
  });

  it('has a page per package', () => {
    for (const name of ['data', 'compression', 'metrics', 'models', 'runner', 'report']) {
      expect({ name, page: existsSync(join(out, 'modules', `_malloc_${name}.html`)) }).toEqual({ name, page: true });
    }
  });
});
