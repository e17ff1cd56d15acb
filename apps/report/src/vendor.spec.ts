import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vendorPackageNotFound } from './messages';
import { collectVendorAssets, findPackageDirectory } from './vendor';

describe('findPackageDirectory', () => {
  it('finds an installed package', () => {
    const directory = findPackageDirectory('vega');

    expect(JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).name).toBe('vega');
  });

  it('rejects a package that is not installed', () => {
    const directory = mkdtempSync(join(tmpdir(), 'malloc-report-vendor-'));
    try {
      expect(() => findPackageDirectory('vega', directory)).toThrow(vendorPackageNotFound('vega', directory));
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('collectVendorAssets', () => {
  it('copies each build with its licence', async () => {
    const { libraries, assets } = await collectVendorAssets();

    expect(libraries.map((library) => [library.name, library.license])).toEqual([
      ['vega', 'BSD-3-Clause'],
      ['vega-lite', 'BSD-3-Clause'],
      ['vega-embed', 'BSD-3-Clause'],
    ]);
    for (const library of libraries) {
      const directory = findPackageDirectory(library.name);
      const script = assets.find((asset) => asset.path === library.script);
      const licence = assets.find((asset) => asset.path === library.licenseFile);
      // Buffer.equals compares bytes directly; toEqual on a 500 kB buffer takes seconds.
      expect(Buffer.from(script?.content ?? '').equals(readFileSync(join(directory, 'build', `${library.name}.min.js`)))).toBe(true);
      expect(Buffer.from(licence?.content ?? '').equals(readFileSync(join(directory, 'LICENSE')))).toBe(true);
      expect(library.version).toBe(JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).version);
    }
  });

  it('keeps every asset under vendor/', async () => {
    const { assets } = await collectVendorAssets();

    expect(assets.every((asset) => asset.path.startsWith('vendor/') && !asset.path.includes('..'))).toBe(true);
  });
});
