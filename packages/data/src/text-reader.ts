import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { DatasetNotFoundError } from './errors';
import { fileNotFound, notAFile } from './messages';

/**
 * Receives one non-blank line as a byte range of `bytes`, without its line break.
 * `lineNumber` is 1-based. The buffer is reused, so a callback must not keep it.
 */
export type LineHandler = (bytes: Buffer, start: number, end: number, lineNumber: number) => void;

/** Measurements of a file read, recorded in the dataset's source. */
export interface FileReadSummary {
  /** Absolute path. */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the file content, hexadecimal. */
  sha256: string;
  /** Lines in the file, blank ones included. */
  lines: number;
  /** Lines that were empty or held only spaces, tabs or `\r`; they are skipped. */
  blankLines: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

/** Bytes read per chunk; lines that cross a chunk boundary are carried into the next chunk. */
const CHUNK_BYTES = 1 << 20;

/**
 * Streams a text file line by line without building a string per line. Accepts `\n` and
 * `\r\n` line ends, skips a UTF-8 byte order mark and skips blank lines.
 *
 * @param path - File to read.
 * @param datasetId - Dataset id, named in the error for a missing file.
 * @param onLine - Called for each non-blank line; an exception stops reading and propagates.
 * @throws DatasetNotFoundError when `path` does not exist or is not a regular file.
 */
export async function readLines(path: string, datasetId: string, onLine: LineHandler): Promise<FileReadSummary> {
  // The file must exist and be a regular file.
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') {
      throw new DatasetNotFoundError(fileNotFound(datasetId, path), datasetId, [path]);
    }
    throw error;
  });
  if (!info.isFile()) {
    throw new DatasetNotFoundError(notAFile(datasetId, path), datasetId, [path]);
  }

  // Stream chunks, hash them, and cut complete lines out of them.
  const hash = createHash('sha256');
  let carry: Buffer | null = null;
  let lineNumber = 0;
  let blankLines = 0;
  let atFileStart = true;
  const handle = (bytes: Buffer, start: number, end: number): void => {
    lineNumber++;
    if (atFileStart) {
      atFileStart = false;
      start = skipByteOrderMark(bytes, start, end);
    }
    const contentEnd = end > start && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    if (isBlank(bytes, start, contentEnd)) {
      blankLines++;
    } else {
      onLine(bytes, start, contentEnd, lineNumber);
    }
  };
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES })) {
    const piece = chunk as Buffer;
    hash.update(piece);
    const bytes: Buffer = carry === null ? piece : Buffer.concat([carry, piece]);
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE, start); newline !== -1; newline = bytes.indexOf(NEWLINE, start)) {
      handle(bytes, start, newline);
      start = newline + 1;
    }
    carry = start < bytes.length ? Buffer.from(bytes.subarray(start)) : null;
  }

  // A last line without a line break.
  if (carry !== null) {
    handle(carry, 0, carry.length);
  }
  return { path, bytes: info.size, sha256: hash.digest('hex'), lines: lineNumber, blankLines };
}

function skipByteOrderMark(bytes: Buffer, start: number, end: number): number {
  const hasMark = end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf;
  return hasMark ? start + 3 : start;
}

function isBlank(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = bytes[i];
    if (byte !== SPACE && byte !== TAB && byte !== CARRIAGE_RETURN) {
      return false;
    }
  }
  return true;
}

/** Tests whether `byte` is a space or a tab. */
export function isWhitespace(byte: number): boolean {
  return byte === SPACE || byte === TAB;
}

/** Maximum id length in decimal digits. Ids of 15 digits stay below 2^53, so they are exact. */
const MAX_ID_DIGITS = 15;

/**
 * Parses `bytes[start, end)` as a non-negative decimal integer of 1 to 15 digits.
 * Returns -1 when the text is anything else.
 */
export function parseId(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > MAX_ID_DIGITS) {
    return -1;
  }
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) {
      return -1;
    }
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Parses `bytes[start, end)` as a non-negative decimal number: digits, optionally followed by
 * `.` and more digits (`5`, `3.5`, `978300760`). Returns NaN when the text is anything else.
 */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  let integer = 0;
  let i = start;
  for (; i < end && bytes[i] !== 0x2e; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) {
      return Number.NaN;
    }
    integer = integer * 10 + digit;
  }
  const integerDigits = i - start;
  if (i === end) {
    return integerDigits > 0 ? integer : Number.NaN;
  }

  // Fraction after the decimal point.
  let fraction = 0;
  let scale = 1;
  for (i++; i < end; i++) {
    const digit = bytes[i] - 0x30;
    if (digit < 0 || digit > 9) {
      return Number.NaN;
    }
    fraction = fraction * 10 + digit;
    scale *= 10;
  }
  if (integerDigits === 0 || scale === 1) {
    return Number.NaN;
  }
  return integer + fraction / scale;
}
