import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejectionOf, TempDir } from './__fixtures__/temp-files';
import { buildZip } from './__fixtures__/zip-builder';
import { DATASET_ARCHIVES, downloadDataset, type DatasetArchive, type FetchFunction } from './download';
import { DatasetDownloadError } from './errors';
import { loadDataset } from './loaders';
import { downloadChecksumMismatch, downloadHttpStatus, manualDownloadOnly, unknownDownload, zipUnsafePath } from './messages';
import { extractZip, readZipEntries } from './zip';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

const U_DATA = '1\t10\t5\t300\n1\t11\t3\t100\n2\t10\t4\t200\n';

/** Creates a fetch that serves `body` for every URL and records the URLs requested. */
function fakeFetch(body: Buffer, status = 200): FetchFunction & { urls: string[] } {
  const urls: string[] = [];
  const fetch = async (url: string) => {
    urls.push(url);
    return new Response(status === 200 ? new Uint8Array(body) : null, { status, statusText: status === 200 ? 'OK' : 'Not Found' });
  };
  return Object.assign(fetch, { urls });
}

/** Returns the ml-100k archive description with the MD5 of `archive` in place of the published one. */
function withMd5Of(archive: Buffer): DatasetArchive {
  return { ...DATASET_ARCHIVES['ml-100k'], md5: createHash('md5').update(archive).digest('hex') };
}

describe('extractZip', () => {
  it('extracts stored and deflated entries', async () => {
    const archive = temp.write('plain.zip', buildZip([
      { name: 'ml-x/', content: '' , stored: true },
      { name: 'ml-x/a.txt', content: 'alpha\n', stored: true },
      { name: 'ml-x/b.txt', content: 'beta '.repeat(1000) },
    ]));
    const target = join(temp.path, 'plain');

    const files = await extractZip(archive, target);

    expect(files).toEqual([join(target, 'ml-x', 'a.txt'), join(target, 'ml-x', 'b.txt')]);
    expect(readFileSync(files[0], 'utf8')).toBe('alpha\n');
    expect(readFileSync(files[1], 'utf8')).toBe('beta '.repeat(1000));
  });

  it('rejects an entry that escapes the folder', async () => {
    const archive = temp.write('evil.zip', buildZip([
      { name: 'ok.txt', content: 'fine' },
      { name: '../evil', content: 'owned' },
    ]));
    const target = join(temp.path, 'evil-target');

    const error = await rejectionOf(extractZip(archive, target));

    expect(error.message).toBe(zipUnsafePath(archive, '../evil', target));
    expect(existsSync(join(temp.path, 'evil'))).toBe(false);
    // Paths are checked before writing, so not even ok.txt exists.
    expect(existsSync(join(target, 'ok.txt'))).toBe(false);
  });

  it.each(['/etc/evil', 'a/../../evil', 'C:/evil', 'a\\..\\..\\evil'])('rejects the unsafe path %s', async (name) => {
    const archive = temp.write('unsafe.zip', buildZip([{ name, content: 'x' }]));

    const error = await rejectionOf(extractZip(archive, join(temp.path, 'unsafe-target')));

    expect(error.message).toContain('would be written outside');
  });

  it('rejects a CRC-32 mismatch and keeps no partial file', async () => {
    const archive = temp.write('crc.zip', buildZip([{ name: 'data.txt', content: 'payload', crc32: 1234 }]));
    const target = join(temp.path, 'crc-target');

    const error = await rejectionOf(extractZip(archive, target));

    expect(error.message).toContain("the entry 'data.txt' decompressed to 7 bytes");
    expect(readdirSync(target)).toEqual([]);
  });

  it('reads the central directory', async () => {
    const archive = temp.write('list.zip', buildZip([{ name: 'x', content: 'abc', stored: true }]));

    const [entry] = await readZipEntries(archive);

    // 'abc' stored: 3 bytes each way; the local header starts at offset 0.
    expect(entry).toMatchObject({ name: 'x', method: 0, compressedSize: 3, uncompressedSize: 3, localHeaderOffset: 0 });
  });

  it('rejects a file that is not a zip', async () => {
    const path = temp.write('text.zip', 'not a zip');

    const error = await rejectionOf(readZipEntries(path));

    expect(error.message).toContain('no end-of-central-directory record');
  });
});

describe('downloadDataset', () => {
  it('downloads, verifies and unpacks an archive', async () => {
    const archive = buildZip([{ name: 'ml-100k/u.data', content: U_DATA }, { name: 'ml-100k/README', content: 'readme' }]);
    const dataDir = join(temp.path, 'dl-ok');
    const fetch = fakeFetch(archive);

    const result = await downloadDataset('ml-100k', { dataDir, fetch, archive: withMd5Of(archive) });

    expect(fetch.urls).toEqual(['https://files.grouplens.org/datasets/movielens/ml-100k.zip']);
    expect(result.archiveBytes).toBe(archive.length);
    expect(result.sha256).toBe(createHash('sha256').update(archive).digest('hex'));
    expect(readdirSync(dataDir)).toEqual(['ml-100k']);
    const dataset = await loadDataset('ml-100k', { dataDir });
    expect(dataset.items.length).toBe(3);
  });

  it('keeps other files of an existing folder', async () => {
    const archive = buildZip([{ name: 'ml-100k/u.data', content: U_DATA }]);
    const dataDir = join(temp.path, 'dl-merge');
    temp.write('dl-merge/ml-100k/notes.txt', 'mine');

    await downloadDataset('ml-100k', { dataDir, fetch: fakeFetch(archive), archive: withMd5Of(archive) });

    expect(readdirSync(join(dataDir, 'ml-100k')).sort()).toEqual(['notes.txt', 'u.data']);
    expect(readFileSync(join(dataDir, 'ml-100k', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('skips a dataset that is already there', async () => {
    const dataDir = join(temp.path, 'dl-skip');
    temp.write('dl-skip/ml-100k/u.data', U_DATA);
    const fetch = fakeFetch(Buffer.alloc(0));

    const result = await downloadDataset('ml-100k', { dataDir, fetch });

    expect(result.skipped).toBe(true);
    expect(fetch.urls).toEqual([]);
  });

  it('rejects a wrong checksum and leaves nothing behind', async () => {
    const archive = buildZip([{ name: 'ml-100k/u.data', content: U_DATA }]);
    const dataDir = join(temp.path, 'dl-md5');
    const received = createHash('md5').update(archive).digest('hex');

    const error = await rejectionOf(downloadDataset('ml-100k', { dataDir, fetch: fakeFetch(archive) }));

    expect(error).toBeInstanceOf(DatasetDownloadError);
    expect(error.message).toBe(
      downloadChecksumMismatch('ml-100k', DATASET_ARCHIVES['ml-100k'].url, '0e33842e24a9c977be4e0107933c0723', received, dataDir),
    );
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('rejects an archive with ../evil and leaves nothing behind', async () => {
    const archive = buildZip([{ name: 'ml-100k/u.data', content: U_DATA }, { name: '../evil', content: 'owned' }]);
    const dataDir = join(temp.path, 'dl-evil', 'data');

    const error = await rejectionOf(downloadDataset('ml-100k', { dataDir, fetch: fakeFetch(archive), archive: withMd5Of(archive) }));

    expect(error).toBeInstanceOf(DatasetDownloadError);
    expect(error.message).toContain('"../evil" would be written outside');
    expect(readdirSync(dataDir)).toEqual([]);
    expect(readdirSync(join(temp.path, 'dl-evil'))).toEqual(['data']);
  });

  it('explains where to put the file when the network fails', async () => {
    const dataDir = join(temp.path, 'dl-offline');
    const offline: FetchFunction = async () => {
      throw new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND files.grouplens.org') });
    };

    const error = await rejectionOf(downloadDataset('ml-20m', { dataDir, fetch: offline }));

    expect(error.message).toBe(
      `Download of 'ml-20m' from https://files.grouplens.org/datasets/movielens/ml-20m.zip failed: fetch failed (getaddrinfo ENOTFOUND files.grouplens.org). Download https://files.grouplens.org/datasets/movielens/ml-20m.zip by hand and unpack it into ${dataDir}/ (the archive contains the dataset folder).`,
    );
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('reports an HTTP error status', async () => {
    const dataDir = join(temp.path, 'dl-404');

    const error = await rejectionOf(downloadDataset('ml-1m', { dataDir, fetch: fakeFetch(Buffer.alloc(0), 404) }));

    expect(error.message).toBe(downloadHttpStatus('ml-1m', DATASET_ARCHIVES['ml-1m'].url, 404, 'Not Found', dataDir));
  });

  it('rejects a wrong size before the checksum', async () => {
    const archive = buildZip([{ name: 'ml-100k/u.data', content: U_DATA }]);
    const dataDir = join(temp.path, 'dl-size');
    const expected = { ...withMd5Of(archive), bytes: archive.length + 1 };

    const error = await rejectionOf(downloadDataset('ml-100k', { dataDir, fetch: fakeFetch(archive), archive: expected }));

    expect(error.message).toContain(`expected ${archive.length + 1} bytes, received ${archive.length}`);
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('rejects an unknown id', async () => {
    const error = await rejectionOf(downloadDataset('synthetic', { dataDir: temp.path }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(unknownDownload('synthetic', ['ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m', 'ml-32m']));
  });

  it('points a BARS id to its download page', async () => {
    const error = await rejectionOf(downloadDataset('microvideo1.7m-x1', { dataDir: temp.path }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(manualDownloadOnly('microvideo1.7m-x1'));
    expect(error.message).toContain('https://huggingface.co/datasets/reczoo/MicroVideo1.7M_x1');
    expect(readdirSync(temp.path)).not.toContain('MicroVideo1.7M_x1');
  });
});
