import { crc32, deflateRawSync } from 'node:zlib';

/** One file of a hand-built archive; `stored` skips compression. */
export interface ZipFixtureEntry {
  name: string;
  content: string | Buffer;
  stored?: boolean;
  /** Overrides the CRC-32 written to the headers, to build a corrupt archive. */
  crc32?: number;
}

/**
 * Builds a zip archive in memory: local header + data for each entry, then the central
 * directory and the end record (PKWARE APPNOTE 6.3.10, sections 4.3.7, 4.3.12, 4.3.16).
 */
export function buildZip(entries: readonly ZipFixtureEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    // Content and its compressed form.
    const content = Buffer.isBuffer(entry.content) ? entry.content : Buffer.from(entry.content, 'utf8');
    const data = entry.stored ? content : deflateRawSync(content);
    const method = entry.stored ? 0 : 8;
    const checksum = entry.crc32 ?? crc32(content);
    const name = Buffer.from(entry.name, 'utf8');

    // Local header.
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(checksum >>> 0, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(content.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);

    // Central directory header.
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(checksum >>> 0, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }

  // End record.
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
