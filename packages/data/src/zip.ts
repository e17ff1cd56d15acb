import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, crc32 } from 'node:zlib';
import { zipCrcMismatch, zipInvalid, zipUnsafePath, zipUnsupported } from './messages';

/** One file or folder of a zip archive, from its central directory. */
export interface ZipEntry {
  /** Path inside the archive, with `/` separators; folders end with `/`. */
  name: string;
  /** 0 (stored) or 8 (deflate). */
  method: number;
  /** CRC-32 of the uncompressed content. */
  crc32: number;
  /** Bytes as stored in the archive. */
  compressedSize: number;
  /** Bytes after decompression. */
  uncompressedSize: number;
  /** Offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

/** Signature of the end-of-central-directory record. */
const END_SIGNATURE = 0x06054b50;
/** Signature of a central directory file header. */
const CENTRAL_SIGNATURE = 0x02014b50;
/** Signature of a local file header. */
const LOCAL_SIGNATURE = 0x04034b50;
/** Fixed part of the end record; a comment of up to 65,535 bytes may follow it. */
const END_RECORD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
/** A 32-bit field with this value means the real value is in a ZIP64 record. */
const ZIP64_MARKER = 0xffffffff;

/**
 * Reads the central directory of a zip archive.
 *
 * @see PKWARE, "APPNOTE.TXT - .ZIP File Format Specification", version 6.3.10 (2022),
 *   sections 4.3.7 (local header), 4.3.12 (central directory) and 4.3.16 (end record).
 * @param path - Archive file.
 * @returns The entries in central directory order.
 * @throws Error when the file is not a zip archive, or uses ZIP64 or encryption, which this
 *   reader does not support.
 */
export async function readZipEntries(path: string): Promise<ZipEntry[]> {
  const handle = await open(path, 'r');
  try {
    return await readCentralDirectory(handle, path);
  } finally {
    await handle.close();
  }
}

/**
 * Extracts every entry of a zip archive into `targetDir`, checking each entry's CRC-32 and
 * size.
 *
 * All entry paths are checked before anything is written: an absolute path, or one whose
 * `..` parts lead outside `targetDir`, rejects the whole archive. Each file is written under
 * a temporary name and renamed when complete, so a failure leaves no partial file. The
 * caller removes `targetDir` to drop the complete ones.
 *
 * @param archivePath - Archive file.
 * @param targetDir - Folder to extract into; created when missing.
 * @returns Absolute paths of the extracted files, in archive order.
 * @throws Error for an unsafe path, a CRC-32 or size mismatch, an unsupported compression
 *   method or a malformed archive.
 */
export async function extractZip(archivePath: string, targetDir: string): Promise<string[]> {
  // Check every path first.
  const entries = await readZipEntries(archivePath);
  const root = resolve(targetDir);
  const targets = entries.map((entry) => safeTarget(archivePath, root, entry.name));
  await mkdir(root, { recursive: true });

  // Extract each file through a temporary name.
  const handle = await open(archivePath, 'r');
  const written: string[] = [];
  try {
    for (const [index, entry] of entries.entries()) {
      const target = targets[index];
      if (entry.name.endsWith('/')) {
        await mkdir(target, { recursive: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      const start = await dataStart(handle, archivePath, entry);
      await extractEntry(archivePath, entry, start, target);
      written.push(target);
    }
  } finally {
    await handle.close();
  }
  return written;
}

/** Resolves an entry name under `root`, rejecting absolute paths and escapes. */
function safeTarget(archivePath: string, root: string, name: string): string {
  const normalized = name.replace(/\\/g, '/');
  if (normalized === '' || isAbsolute(normalized) || /^[A-Za-z]:/.test(normalized) || normalized.includes('\0')) {
    throw new Error(zipUnsafePath(archivePath, name, root));
  }
  const target = resolve(root, ...normalized.split('/'));
  const inside = relative(root, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    throw new Error(zipUnsafePath(archivePath, name, root));
  }
  return target;
}

async function readCentralDirectory(handle: FileHandle, path: string): Promise<ZipEntry[]> {
  // Find the end record by scanning back over a possible comment.
  const size = (await handle.stat()).size;
  const tailLength = Math.min(size, END_RECORD_BYTES + MAX_COMMENT_BYTES);
  const tail = Buffer.alloc(tailLength);
  await handle.read(tail, 0, tailLength, size - tailLength);
  let end = -1;
  for (let i = tailLength - END_RECORD_BYTES; i >= 0; i--) {
    if (tail.readUInt32LE(i) === END_SIGNATURE) {
      end = i;
      break;
    }
  }
  if (end < 0) {
    throw new Error(zipInvalid(path, 'no end-of-central-directory record'));
  }
  const entryCount = tail.readUInt16LE(end + 10);
  const directoryBytes = tail.readUInt32LE(end + 12);
  const directoryOffset = tail.readUInt32LE(end + 16);
  if (entryCount === 0xffff || directoryBytes === ZIP64_MARKER || directoryOffset === ZIP64_MARKER) {
    throw new Error(zipUnsupported(path, 'ZIP64 archives'));
  }
  if (directoryOffset + directoryBytes > size) {
    throw new Error(zipInvalid(path, 'the central directory lies beyond the end of the file'));
  }

  // One header per entry.
  const directory = Buffer.alloc(directoryBytes);
  await handle.read(directory, 0, directoryBytes, directoryOffset);
  const entries: ZipEntry[] = [];
  let position = 0;
  for (let k = 0; k < entryCount; k++) {
    if (position + 46 > directory.length || directory.readUInt32LE(position) !== CENTRAL_SIGNATURE) {
      throw new Error(zipInvalid(path, `central directory header ${k} is missing or malformed`));
    }
    const flags = directory.readUInt16LE(position + 8);
    const nameLength = directory.readUInt16LE(position + 28);
    const extraLength = directory.readUInt16LE(position + 30);
    const commentLength = directory.readUInt16LE(position + 32);
    const entry: ZipEntry = {
      name: directory.toString('utf8', position + 46, position + 46 + nameLength),
      method: directory.readUInt16LE(position + 10),
      crc32: directory.readUInt32LE(position + 16),
      compressedSize: directory.readUInt32LE(position + 20),
      uncompressedSize: directory.readUInt32LE(position + 24),
      localHeaderOffset: directory.readUInt32LE(position + 42),
    };
    if ((flags & 1) !== 0) {
      throw new Error(zipUnsupported(path, `encrypted entries ('${entry.name}')`));
    }
    if (entry.compressedSize === ZIP64_MARKER || entry.uncompressedSize === ZIP64_MARKER || entry.localHeaderOffset === ZIP64_MARKER) {
      throw new Error(zipUnsupported(path, `ZIP64 entries ('${entry.name}')`));
    }
    if (entry.method !== 0 && entry.method !== 8) {
      throw new Error(zipUnsupported(path, `compression method ${entry.method} ('${entry.name}'); only stored (0) and deflate (8) are read`));
    }
    entries.push(entry);
    position += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Offset of an entry's data: after its local header, whose name and extra lengths may differ from the central ones. */
async function dataStart(handle: FileHandle, path: string, entry: ZipEntry): Promise<number> {
  const header = Buffer.alloc(30);
  await handle.read(header, 0, 30, entry.localHeaderOffset);
  if (header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
    throw new Error(zipInvalid(path, `the local header of '${entry.name}' is missing`));
  }
  return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** Streams one entry to `<target>.part`, checks CRC-32 and size, then renames it to `target`. */
async function extractEntry(path: string, entry: ZipEntry, start: number, target: string): Promise<void> {
  const partial = `${target}.part`;
  let crc = 0;
  let bytes = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc = crc32(chunk, crc);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const source = entry.compressedSize === 0 ? Readable.from([]) : createReadStream(path, { start, end: start + entry.compressedSize - 1 });
  try {
    if (entry.method === 8) {
      await pipeline(source, createInflateRaw(), check, createWriteStream(partial));
    } else {
      await pipeline(source, check, createWriteStream(partial));
    }
    if ((crc >>> 0) !== entry.crc32 || bytes !== entry.uncompressedSize) {
      throw new Error(zipCrcMismatch(path, entry.name, entry.crc32, crc >>> 0, entry.uncompressedSize, bytes));
    }
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}
