import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, posix } from 'node:path';
import { PUBLISHED_PACKAGES, WORKSPACE_ROOT, listFiles, packedFiles, readManifest } from './workspace-packages';

// Checks what each published package.json promises a user who installs the package from the
// registry: entry points, shipped files, licence, declared dependencies, and no file in the
// tarball that points outside it.

const builtins = new Set(builtinModules);

/** Returns the package name of an import specifier, or `null` for relative paths and Node built-ins. */
function importedPackage(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) {
    return null;
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  return builtins.has(name) ? null : name;
}

/** Collects every module specifier of a TypeScript or JavaScript text: static, dynamic and `require` forms. */
function moduleSpecifiers(text: string): string[] {
  const patterns = [/\bfrom\s+['"]([^'"\n]+)['"]/g, /\bimport\s*\(\s*['"]([^'"\n]+)['"]\s*\)/g, /\bimport\s+['"]([^'"\n]+)['"]/g, /\brequire\(\s*['"]([^'"\n]+)['"]\s*\)/g];
  return patterns.flatMap((pattern) => Array.from(text.matchAll(pattern), (match) => match[1]));
}

/** Lists the source files that end up in the build: everything under src/ but tests and fixtures. */
function librarySources(dir: string): string[] {
  const root = join(WORKSPACE_ROOT, dir, 'src');
  return listFiles(root, (path) => path.endsWith('.spec.ts') || path.split('/').includes('__fixtures__')).filter((path) => path.endsWith('.ts'));
}

/**
 * Finds the file a relative specifier of a built file loads, among the packed files, trying
 * the extensions that Node (for `.js`) or TypeScript (for `.d.ts`) would try.
 */
function resolvePacked(fromFile: string, specifier: string, packed: ReadonlySet<string>, extensions: readonly string[]): string | null {
  const base = posix.normalize(posix.join(posix.dirname(fromFile), specifier));
  const candidates = [base, ...extensions.map((extension) => base + extension), ...extensions.map((extension) => `${base}/index${extension}`)];
  return candidates.find((candidate) => packed.has(candidate)) ?? null;
}

const rootLicense = readFileSync(join(WORKSPACE_ROOT, 'LICENSE'), 'utf8');
const workspaceVersions = new Map(PUBLISHED_PACKAGES.map((pkg) => [pkg.name, readManifest(pkg.dir).version]));

describe.each(PUBLISHED_PACKAGES)('$name manifest', ({ name, dir }) => {
  const manifest = readManifest(dir);

  it('names the package and its licence', () => {
    expect(manifest.name).toBe(name);
    expect(manifest.private).not.toBe(true);
    expect(manifest.license).toBe('Apache-2.0');
    expect(manifest.publishConfig?.access).toBe('public');
  });

  it('exports built JavaScript and declarations', () => {
    expect(manifest.main).toBe('dist/index.js');
    expect(manifest.types).toBe('dist/index.d.ts');
    expect(manifest.exports?.['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.exports?.['./package.json']).toBe('./package.json');
  });

  it('ships dist, README and LICENSE', () => {
    expect(manifest.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE']));
    expect(manifest.engines?.node).toBe('>=20.10');
  });

  it('keeps LICENSE identical to the root', () => {
    const license = readFileSync(join(WORKSPACE_ROOT, dir, 'LICENSE'), 'utf8');

    expect(license).toBe(rootLicense);
  });

  it('ranges internal dependencies on the workspace version', () => {
    const internal = Object.entries(manifest.dependencies ?? {}).filter(([dependency]) => dependency.startsWith('@malloc/'));
    for (const [dependency, range] of internal) {
      const version = workspaceVersions.get(dependency);

      expect({ dependency, version }).toEqual({ dependency, version: expect.any(String) });
      expect({ dependency, range }).toEqual({ dependency, range: `^${version}` });
    }
  });

  it('declares every package its sources import', () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    const undeclared = new Set<string>();
    for (const path of librarySources(dir)) {
      const text = readFileSync(join(WORKSPACE_ROOT, dir, 'src', path), 'utf8');
      for (const specifier of moduleSpecifiers(text)) {
        const imported = importedPackage(specifier);
        if (imported !== null && imported !== name && !declared.has(imported)) {
          undeclared.add(`${imported} (src/${path})`);
        }
      }
    }

    expect([...undeclared]).toEqual([]);
  });

  it('packs no relative path that leaves the tarball', () => {
    // The build may be missing when this test runs on its own; `npm test` builds first.
    if (!existsSync(join(WORKSPACE_ROOT, dir, 'dist', 'index.js'))) {
      console.warn(`Skipped the packed-file check of ${name}: ${dir}/dist is not built. Run 'npm run build' first.`);
      return;
    }
    const files = packedFiles(dir);
    if (files === null) {
      console.warn(`Skipped the packed-file check of ${name}: 'npm pack --dry-run' failed here.`);
      return;
    }
    const packed = new Set(files);
    const broken: string[] = [];

    // Entry points, export targets and the command-line script.
    const exportTargets = Object.values(manifest.exports ?? {}).flatMap((target) => (typeof target === 'string' ? [target] : Object.values(target)));
    for (const entry of [manifest.main, manifest.types, ...exportTargets, ...Object.values(manifest.bin ?? {})]) {
      if (entry !== undefined && !packed.has(posix.normalize(entry))) {
        broken.push(`package.json entry ${entry}`);
      }
    }

    // Relative imports of the built JavaScript and declarations, and the sources of source maps.
    for (const file of files.filter((path) => path.startsWith('dist/'))) {
      const text = readFileSync(join(WORKSPACE_ROOT, dir, file), 'utf8');
      if (file.endsWith('.map')) {
        const map = JSON.parse(text) as { sources: string[]; sourceRoot?: string };
        for (const source of map.sources) {
          const target = posix.normalize(posix.join(posix.dirname(file), map.sourceRoot ?? '', source));
          if (!packed.has(target)) {
            broken.push(`${file} → ${source}`);
          }
        }
        continue;
      }
      const extensions = file.endsWith('.d.ts') ? ['.d.ts', '.json'] : ['.js', '.json'];
      for (const specifier of moduleSpecifiers(text).filter((candidate) => candidate.startsWith('.'))) {
        if (resolvePacked(file, specifier, packed, extensions) === null) {
          broken.push(`${file} → ${specifier}`);
        }
      }
    }

    expect(broken).toEqual([]);
  });
});

describe('optional peer dependencies', () => {
  // Heavy or native packages that only an opt-in feature loads: npm does not install them.
  it.each([
    ['packages/models', '@tensorflow/tfjs-node'],
    ['packages/models', '@tensorflow/tfjs-node-gpu'],
    ['packages/compression', 'gpu.js'],
  ])('%s declares %s as optional', (dir, peer) => {
    const manifest = readManifest(dir);

    expect(manifest.dependencies?.[peer]).toBeUndefined();
    expect(manifest.peerDependencies?.[peer]).toEqual(expect.any(String));
    expect(manifest.peerDependenciesMeta?.[peer]?.optional).toBe(true);
  });

  it('pins tfjs-node to the tfjs version', () => {
    const manifest = readManifest('packages/models');

    expect(manifest.peerDependencies?.['@tensorflow/tfjs-node']).toBe(manifest.dependencies?.['@tensorflow/tfjs']);
    expect(manifest.peerDependencies?.['@tensorflow/tfjs-node-gpu']).toBe(manifest.dependencies?.['@tensorflow/tfjs']);
  });

  it('keeps gpu.js installed for the workspace tests', () => {
    const manifest = readManifest('packages/compression');

    expect(manifest.devDependencies?.['gpu.js']).toBe(manifest.peerDependencies?.['gpu.js']);
  });

  it('models loads only the tfjs-node bindings', () => {
    // The backend loads the native bindings by name, which the import scan cannot see.
    const backend = readFileSync(join(WORKSPACE_ROOT, 'packages', 'models', 'src', 'backend', 'backend.ts'), 'utf8');
    const named = Array.from(backend.matchAll(/'(@tensorflow\/tfjs-node[^']*)'/g), (match) => match[1]);

    expect(new Set(named)).toEqual(new Set(['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']));
  });
});

describe('@malloc/runner provenance', () => {
  it('declares every package whose version it records', () => {
    // Result rows record these packages' versions, read with `require('<name>/package.json')`
    // from the runner's folder, which the import scan cannot see.
    const provenance = readFileSync(join(WORKSPACE_ROOT, 'packages', 'runner', 'src', 'provenance.ts'), 'utf8');
    const list = /const RECORDED_PACKAGES = \[([^\]]*)\]/.exec(provenance);

    expect(list).not.toBeNull();
    const recorded = Array.from((list?.[1] ?? '').matchAll(/'([^']+)'/g), (match) => match[1]).filter((name) => name !== '@malloc/runner');
    const dependencies = readManifest('packages/runner').dependencies ?? {};

    expect(recorded.filter((name) => dependencies[name] === undefined)).toEqual([]);
  });
});

describe('root LICENSE', () => {
  it('is the Apache License 2.0', () => {
    expect(rootLicense).toContain('Apache License');
    expect(rootLicense).toContain('Version 2.0, January 2004');
    expect(rootLicense).toContain('END OF TERMS AND CONDITIONS');
  });
});
