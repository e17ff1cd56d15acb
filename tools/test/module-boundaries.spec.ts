import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// Lints virtual files placed inside each project, so the check covers the real eslint config
// and the real Nx project graph (tags from each package.json).
const root = join(__dirname, '..', '..');

// ESLint runs in a child process because its config loader needs native ES modules, which
// jest's CommonJS runtime does not provide.
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

async function boundaryErrors(projectFile: string, source: string): Promise<string[]> {
  const run = spawnSync(process.execPath, [eslintBin, '--format', 'json', '--stdin', '--stdin-filename', projectFile], { cwd: root, input: source, encoding: 'utf8' });
  if (run.stdout.trim() === '') {
    throw new Error(`eslint printed no report (exit ${run.status}): ${run.stderr}`);
  }
  const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string | null; message: string }[] }[];
  return result.messages.filter((message) => message.ruleId === '@nx/enforce-module-boundaries').map((message) => message.message);
}

describe('module boundaries', () => {
  jest.setTimeout(60_000);

  // The rule reads Nx's cached project graph and is silently skipped without one.
  beforeAll(() => {
    const nxBin = join(root, 'node_modules', '.bin', 'nx');
    const run = spawnSync(nxBin, ['show', 'projects'], { cwd: root, encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false' } });
    expect(run.status).toBe(0);
  });

  it.each([
    ['packages/compression/src/probe.ts', '@malloc/runner'],
    ['packages/compression/src/probe.ts', '@malloc/models'],
    ['packages/metrics/src/probe.ts', '@malloc/data'],
    ['packages/data/src/probe.ts', '@malloc/compression'],
    ['packages/models/src/probe.ts', '@malloc/data'],
    ['apps/report/src/probe.ts', '@malloc/runner'],
    ['apps/report/src/probe.ts', '@malloc/metrics'],
  ])('%s may not import %s', async (file, imported) => {
    const errors = await boundaryErrors(file, `import * as probe from '${imported}';\nexport const used = probe;\n`);

    expect(errors.length).toBeGreaterThan(0);
  });

  it.each([
    ['packages/models/src/probe.ts', '@malloc/compression'],
    ['packages/runner/src/probe.ts', '@malloc/data'],
    ['packages/runner/src/probe.ts', '@malloc/report'],
  ])('%s may import %s', async (file, imported) => {
    const errors = await boundaryErrors(file, `import * as probe from '${imported}';\nexport const used = probe;\n`);

    expect(errors).toEqual([]);
  });
});
