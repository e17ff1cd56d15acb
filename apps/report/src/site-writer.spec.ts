import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidArgument, pathOutsideSite } from './messages';
import { SiteWriter } from './site-writer';

describe('SiteWriter', () => {
  let directory: string;

  beforeEach(() => {
    directory = realpathSync(mkdtempSync(join(tmpdir(), 'malloc-report-writer-')));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates the site folder and nested folders', async () => {
    const writer = await SiteWriter.open(join(directory, 'site'));

    const path = await writer.write('vendor/vega/LICENSE.txt', 'licence text');

    expect(path).toBe(join(directory, 'site', 'vendor', 'vega', 'LICENSE.txt'));
    expect(readFileSync(path, 'utf8')).toBe('licence text');
    expect(writer.files).toEqual([path]);
  });

  it('replaces a file and leaves no temporary file', async () => {
    const writer = await SiteWriter.open(directory);
    await writer.write('index.html', 'first');

    await writer.write('index.html', 'second');

    expect(readFileSync(join(directory, 'index.html'), 'utf8')).toBe('second');
    expect(readdirSync(directory)).toEqual(['index.html']);
  });

  it('writes bytes unchanged', async () => {
    const writer = await SiteWriter.open(directory);
    const bytes = new Uint8Array([0, 255, 10, 13]);

    await writer.write('data.bin', bytes);

    expect(new Uint8Array(readFileSync(join(directory, 'data.bin')))).toEqual(bytes);
  });

  it('rejects a path that climbs out of the site', async () => {
    const writer = await SiteWriter.open(join(directory, 'site'));

    await expect(writer.write('../outside.txt', 'x')).rejects.toThrow(pathOutsideSite(join(directory, 'outside.txt'), join(directory, 'site')));
    expect(existsSync(join(directory, 'outside.txt'))).toBe(false);
  });

  it('rejects an absolute path', async () => {
    const writer = await SiteWriter.open(join(directory, 'site'));

    await expect(writer.write('/etc/passwd', 'x')).rejects.toThrow(TypeError);
    await expect(writer.write('/etc/passwd', 'x')).rejects.toThrow(
      invalidArgument('SiteWriter.write', 'relativePath', 'a non-empty path relative to the site folder', '/etc/passwd'),
    );
  });

  it('rejects a folder that links outside the site', async () => {
    const outside = join(directory, 'outside');
    mkdirSync(join(outside, 'vega'), { recursive: true });
    writeFileSync(join(outside, 'vega', 'vega.min.js'), 'keep');
    const site = join(directory, 'site');
    mkdirSync(site);
    symlinkSync(outside, join(site, 'vendor'));
    const writer = await SiteWriter.open(site);

    await expect(writer.write('vendor/vega/vega.min.js', 'overwritten')).rejects.toThrow(pathOutsideSite(join(site, 'vendor', 'vega', 'vega.min.js'), site));
    await expect(writer.write('vendor/new/file.js', 'x')).rejects.toThrow(Error);
    expect(readFileSync(join(outside, 'vega', 'vega.min.js'), 'utf8')).toBe('keep');
    expect(existsSync(join(outside, 'new'))).toBe(false);
  });
});
