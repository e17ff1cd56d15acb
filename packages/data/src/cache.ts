import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DatasetCacheError } from './errors';
import { cacheChecksumMismatch, cacheNotFound, cacheTruncated, cacheUnknownFile, cacheVersionMismatch } from './messages';
import type { SequenceDataset } from './types';

/** Version of the cache layout; a cache with another version is rejected as stale. */
export const DATASET_CACHE_VERSION = 1;

/** First 8 bytes of every cache file. */
const MAGIC = Buffer.from('MALLOCDS', 'ascii');

/** Bytes of the SHA-256 checksum at the end of the file. */
const CHECKSUM_BYTES = 32;

/** Typed arrays start at multiples of 8 bytes, so they can be viewed without copying. */
const ALIGNMENT = 8;

/** Everything of a dataset that is not a typed array, stored as JSON in the cache header. */
interface CacheHeader {
  name: string;
  userCount: number;
  itemCount: number;
  interactions: number;
  hasTimestamps: boolean;
  hasRatings: boolean;
  hasLabels: boolean;
  rawUserIds: string[];
  rawItemIds: string[];
  source: SequenceDataset['source'];
  report: SequenceDataset['report'];
}

/**
 * Writes a processed dataset to a binary cache file, atomically.
 *
 * Layout: the bytes `MALLOCDS`, the format version (uint32, little-endian) and the length of a
 * JSON header (uint32). The JSON header follows, with name, counts, raw ids, report and the
 * source, which contains the file sizes and SHA-256 digests. Then come `offsets`, `items`,
 * `timestamps`, `ratings` and `labels` as little-endian typed arrays, each starting at a
 * multiple of 8 bytes. The last 32 bytes are the SHA-256 of everything before them. The file is written to a temporary name in the same folder and
 * renamed, so a reader never sees a partial cache, and the temporary file is removed when
 * writing fails.
 *
 * @param dataset - Dataset to store.
 * @param path - Cache file to create or replace; missing folders are created.
 * @example
 * ```ts
 * await saveDatasetCache(await loadDataset('ml-20m'), '/tmp/cache/ml-20m.mallocds');
 * ```
 */
export async function saveDatasetCache(dataset: SequenceDataset, path: string): Promise<void> {
  // Header and arrays, in file order.
  const labels = dataset.labels ?? null;
  const header: CacheHeader = {
    name: dataset.name,
    userCount: dataset.userCount,
    itemCount: dataset.itemCount,
    interactions: dataset.items.length,
    hasTimestamps: dataset.timestamps !== null,
    hasRatings: dataset.ratings !== null,
    hasLabels: labels !== null,
    rawUserIds: dataset.rawUserIds,
    rawItemIds: dataset.rawItemIds,
    source: dataset.source,
    report: dataset.report,
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(16);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(DATASET_CACHE_VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  const parts: Buffer[] = [prefix, headerBytes];
  let size = prefix.length + headerBytes.length;
  const arrays = [dataset.offsets, dataset.items, dataset.timestamps, dataset.ratings, labels];
  for (const array of arrays) {
    if (array === null) {
      continue;
    }
    const padding = (ALIGNMENT - (size % ALIGNMENT)) % ALIGNMENT;
    parts.push(Buffer.alloc(padding), Buffer.from(array.buffer, array.byteOffset, array.byteLength));
    size += padding + array.byteLength;
  }

  // Checksum of the payload.
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
  }
  parts.push(hash.digest());

  // Write to a temporary file, then rename over the target.
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, parts);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Reads a dataset written by {@link saveDatasetCache} and checks it.
 *
 * @param path - Cache file.
 * @returns The dataset; its typed arrays are copies, independent of the file buffer.
 * @throws DatasetCacheError when the file is missing, is not a dataset cache, has another
 *   format version, is truncated, or fails its checksum. The message names the file and tells
 *   the caller to delete it so that it is rebuilt.
 * @example
 * ```ts
 * const dataset = await loadDatasetCache('/tmp/cache/ml-20m.mallocds');
 * ```
 */
export async function loadDatasetCache(path: string): Promise<SequenceDataset> {
  // Read the file.
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') {
      throw new DatasetCacheError(cacheNotFound(path), path, 'missing');
    }
    throw error;
  });

  // Magic, version and checksum.
  if (bytes.length < 16 || !bytes.subarray(0, 8).equals(MAGIC)) {
    throw new DatasetCacheError(cacheUnknownFile(path), path, 'corrupt');
  }
  const version = bytes.readUInt32LE(8);
  if (version !== DATASET_CACHE_VERSION) {
    throw new DatasetCacheError(cacheVersionMismatch(path, version, DATASET_CACHE_VERSION), path, 'stale');
  }
  if (bytes.length < 16 + CHECKSUM_BYTES) {
    throw new DatasetCacheError(cacheTruncated(path), path, 'corrupt');
  }
  const payloadEnd = bytes.length - CHECKSUM_BYTES;
  const checksum = createHash('sha256').update(bytes.subarray(0, payloadEnd)).digest();
  if (!checksum.equals(bytes.subarray(payloadEnd))) {
    throw new DatasetCacheError(cacheChecksumMismatch(path), path, 'corrupt');
  }

  // Header, then the arrays at their aligned offsets.
  const headerLength = bytes.readUInt32LE(12);
  const header = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength)) as CacheHeader;
  let position = 16 + headerLength;
  const take = <T>(count: number, width: number, make: (buffer: ArrayBuffer) => T): T => {
    position += (ALIGNMENT - (position % ALIGNMENT)) % ALIGNMENT;
    const end = position + count * width;
    if (end > payloadEnd) {
      throw new DatasetCacheError(cacheTruncated(path), path, 'corrupt');
    }
    const copy = bytes.buffer.slice(bytes.byteOffset + position, bytes.byteOffset + end);
    position = end;
    return make(copy);
  };
  const count = header.interactions;
  const offsets = take(header.userCount + 1, 4, (buffer) => new Int32Array(buffer)); // [userCount + 1]
  const items = take(count, 4, (buffer) => new Int32Array(buffer)); // [interactions]
  const timestamps = header.hasTimestamps ? take(count, 8, (buffer) => new Float64Array(buffer)) : null; // [interactions]
  const ratings = header.hasRatings ? take(count, 4, (buffer) => new Float32Array(buffer)) : null; // [interactions]
  const labels = header.hasLabels ? take(count, 1, (buffer) => new Uint8Array(buffer)) : null; // [interactions]

  return {
    name: header.name,
    userCount: header.userCount,
    itemCount: header.itemCount,
    offsets,
    items,
    timestamps,
    ratings,
    labels,
    rawUserIds: header.rawUserIds,
    rawItemIds: header.rawItemIds,
    source: header.source,
    report: header.report,
  };
}

/** Computes the SHA-256 of a file, streaming it; hexadecimal. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
