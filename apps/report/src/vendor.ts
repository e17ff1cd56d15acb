import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { vendorFileMissing, vendorLicenseNotAllowed, vendorPackageNotFound } from './messages';

/** Licences that allow copying a library into the site as long as its licence text goes with it. */
export const ALLOWED_VENDOR_LICENSES: readonly string[] = ['BSD-3-Clause', 'BSD-2-Clause', 'MIT', 'ISC', 'Apache-2.0'];

/** Browser builds copied into the site, in the order the page loads them. */
export const VENDORED_PACKAGES: readonly { name: string; build: string; license: string }[] = [
  { name: 'vega', build: 'build/vega.min.js', license: 'LICENSE' },
  { name: 'vega-lite', build: 'build/vega-lite.min.js', license: 'LICENSE' },
  { name: 'vega-embed', build: 'build/vega-embed.min.js', license: 'LICENSE' },
];

/** A library copied into the site. */
export interface VendoredLibrary {
  name: string;
  version: string;
  /** SPDX identifier from the library's package.json. */
  license: string;
  /** Site-relative path of the script, such as `vendor/vega/vega.min.js`. */
  script: string;
  /** Site-relative path of the licence text. */
  licenseFile: string;
}

/** A file to write into the site. */
export interface SiteAsset {
  /** Path inside the site folder, with `/` between folders. */
  path: string;
  content: string | Uint8Array;
}

/**
 * Finds the folder of an installed package by walking up from `startDirectory` through each
 * `node_modules`, as Node's resolver does. The vega packages do not export their
 * package.json, so `require.resolve('vega/package.json')` cannot be used.
 *
 * @throws Error when no `node_modules/<name>/package.json` exists above `startDirectory`.
 */
export function findPackageDirectory(name: string, startDirectory: string = __dirname): string {
  let directory = resolve(startDirectory);
  for (;;) {
    const candidate = join(directory, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      return candidate;
    }
    const parent = dirname(directory);
    if (parent === directory) {
      throw new Error(vendorPackageNotFound(name, startDirectory));
    }
    directory = parent;
  }
}

/**
 * Reads the browser builds of vega, vega-lite and vega-embed, their source maps where the
 * package ships one, and their licence texts, as files for `vendor/<name>/` in the site.
 *
 * @param startDirectory - Folder to search upwards from for `node_modules`. Default value: this module's folder.
 * @throws Error when a package, its build or its licence file is missing, or its licence is not in {@link ALLOWED_VENDOR_LICENSES}.
 */
export async function collectVendorAssets(startDirectory: string = __dirname): Promise<{ libraries: VendoredLibrary[]; assets: SiteAsset[] }> {
  const libraries: VendoredLibrary[] = [];
  const assets: SiteAsset[] = [];

  for (const entry of VENDORED_PACKAGES) {
    // Read the package's version and licence, and reject a licence that forbids copying.
    const directory = findPackageDirectory(entry.name, startDirectory);
    const manifest = JSON.parse(await readFile(join(directory, 'package.json'), 'utf8')) as { version?: unknown; license?: unknown };
    if (typeof manifest.license !== 'string' || !ALLOWED_VENDOR_LICENSES.includes(manifest.license)) {
      throw new Error(vendorLicenseNotAllowed(entry.name, manifest.license, ALLOWED_VENDOR_LICENSES));
    }

    // Copy the build, its source map when present, and the licence text.
    const buildFile = join(directory, entry.build);
    const licenseFile = join(directory, entry.license);
    for (const required of [buildFile, licenseFile]) {
      if (!existsSync(required)) {
        throw new Error(vendorFileMissing(entry.name, required));
      }
    }
    const buildName = entry.build.split('/').pop() as string;
    const library: VendoredLibrary = {
      name: entry.name,
      version: String(manifest.version),
      license: manifest.license,
      script: `vendor/${entry.name}/${buildName}`,
      licenseFile: `vendor/${entry.name}/LICENSE.txt`,
    };
    assets.push({ path: library.script, content: await readFile(buildFile) });
    if (existsSync(`${buildFile}.map`)) {
      assets.push({ path: `${library.script}.map`, content: await readFile(`${buildFile}.map`) });
    }
    assets.push({ path: library.licenseFile, content: await readFile(licenseFile) });
    libraries.push(library);
  }
  return { libraries, assets };
}
