import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corruptCheckpoint } from '../messages';

/** A named float32 array with its shape, as stored in a bundle. */
export interface StoredArray {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Location of one array in the binary file of a bundle. */
interface ArrayEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements from the start of the binary file. */
  offset: number;
}

/** The part of a manifest that describes its binary file. */
interface BinaryDescription {
  file: string;
  bytes: number;
  sha256: string;
  /** Always `float32-le`. */
  encoding: string;
  arrays: ArrayEntry[];
}

/**
 * Writes a JSON manifest and one binary file of float32 arrays into `dir`, atomically. The
 * binary is written under a temporary name and renamed to a name that contains its SHA-256.
 * Then the manifest is written the same way and renamed over the old one. A reader sees the
 * old bundle or the new one, never a mix; binary files that the new manifest does not name
 * are removed afterwards.
 *
 * @param manifestFile - file name of the manifest inside `dir`, for example `model.json`.
 * @param header - JSON fields of the manifest; the key `binary` is reserved.
 */
export async function writeBundle(dir: string, manifestFile: string, header: Record<string, unknown>, arrays: readonly StoredArray[]): Promise<void> {
  // Lay the arrays out back to back and hash them.
  await fs.mkdir(dir, { recursive: true });
  const total = arrays.reduce((sum, array) => sum + array.data.length, 0);
  const values = new Float32Array(total); // [total]
  const entries: ArrayEntry[] = [];
  let offset = 0;
  for (const array of arrays) {
    values.set(array.data, offset);
    entries.push({ name: array.name, shape: [...array.shape], offset });
    offset += array.data.length;
  }
  const bytes = littleEndianBytes(values);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const stem = path.basename(manifestFile, path.extname(manifestFile));
  const binaryFile = `${stem}-${sha256.slice(0, 16)}.bin`;

  // Commit the binary, then the manifest that names it.
  await writeAtomic(path.join(dir, binaryFile), bytes);
  const binary: BinaryDescription = { file: binaryFile, bytes: bytes.byteLength, sha256, encoding: 'float32-le', arrays: entries };
  await writeAtomic(path.join(dir, manifestFile), Buffer.from(`${JSON.stringify({ ...header, binary }, null, 2)}\n`, 'utf8'));

  // Remove binaries of this manifest that are no longer referenced.
  for (const name of await fs.readdir(dir)) {
    if (name !== binaryFile && name.startsWith(`${stem}-`) && name.endsWith('.bin')) {
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
}

/**
 * Reads a bundle written by {@link writeBundle} and verifies its binary file's size and
 * SHA-256.
 *
 * @returns the manifest fields and the arrays by name; `null` when the manifest does not exist.
 * @throws Error naming the file when the manifest is not valid JSON, or the binary is missing, truncated or fails its checksum.
 */
export async function readBundle(dir: string, manifestFile: string): Promise<{ header: Record<string, unknown>; arrays: Map<string, StoredArray> } | null> {
  // Parse the manifest.
  const manifestPath = path.join(dir, manifestFile);
  let text: string;
  try {
    text = await fs.readFile(manifestPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return null;
    }
    throw error;
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(corruptCheckpoint(manifestPath, `it is not valid JSON (${(error as Error).message})`));
  }
  const binary = header['binary'] as BinaryDescription | undefined;
  if (binary === undefined || typeof binary.file !== 'string' || !Array.isArray(binary.arrays) || binary.encoding !== 'float32-le') {
    throw new Error(corruptCheckpoint(manifestPath, 'its "binary" field is missing or malformed'));
  }

  // Read and verify the binary.
  const binaryPath = path.join(dir, path.basename(binary.file));
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(binaryPath);
  } catch (error) {
    throw new Error(corruptCheckpoint(binaryPath, `it cannot be read (${(error as Error).message})`));
  }
  if (bytes.byteLength !== binary.bytes) {
    throw new Error(corruptCheckpoint(binaryPath, `it has ${bytes.byteLength} bytes, the manifest says ${binary.bytes}`));
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== binary.sha256) {
    throw new Error(corruptCheckpoint(binaryPath, `its SHA-256 is ${sha256}, the manifest says ${binary.sha256}`));
  }

  // Cut the arrays out.
  const values = float32FromLittleEndian(bytes);
  const arrays = new Map<string, StoredArray>();
  for (const entry of binary.arrays) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(entry.offset) || entry.offset < 0 || entry.offset + size > values.length) {
      throw new Error(corruptCheckpoint(manifestPath, `array ${entry.name} of shape [${entry.shape.join(', ')}] lies outside the binary`));
    }
    arrays.set(entry.name, { name: entry.name, shape: entry.shape, data: values.slice(entry.offset, entry.offset + size) });
  }
  return { header, arrays };
}

/** Writes a file under a temporary name in the same folder and renames it into place. */
async function writeAtomic(target: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.writeFile(temporary, bytes);
    await fs.rename(temporary, target);
  } finally {
    await fs.rm(temporary, { force: true });
  }
}

function littleEndianBytes(values: Float32Array): Buffer {
  const bytes = Buffer.alloc(values.byteLength);
  if (os.endianness() === 'LE') {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  }
  return bytes;
}

function float32FromLittleEndian(bytes: Buffer): Float32Array {
  const values = new Float32Array(Math.floor(bytes.byteLength / 4)); // [total]
  if (os.endianness() === 'LE') {
    new Uint8Array(values.buffer).set(bytes.subarray(0, values.byteLength));
  } else {
    for (let i = 0; i < values.length; i++) {
      values[i] = bytes.readFloatLE(i * 4);
    }
  }
  return values;
}
