// A minimal Parquet writer for test fixtures: required (non-null) INT32, INT64 and UTF-8
// BYTE_ARRAY columns, PLAIN encoding, no compression, one data page per column chunk, and
// any number of row groups. The footer is Thrift's compact protocol, written by hand from
// the field ids of the Parquet format specification (parquet.thrift), because no Parquet
// writer is installed.

/** One column of a fixture file. */
export type ParquetColumn =
  | { name: string; type: 'int32'; values: readonly number[] }
  | { name: string; type: 'int64'; values: readonly bigint[] }
  | { name: string; type: 'utf8'; values: readonly string[] };

/** Parquet physical types and other enum values of parquet.thrift. */
const PHYSICAL_TYPE = { int32: 1, int64: 2, utf8: 6 } as const;
const REQUIRED = 0;
const CONVERTED_TYPE_UTF8 = 0;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
const CODEC_UNCOMPRESSED = 0;
const PAGE_TYPE_DATA = 0;

/** Thrift compact-protocol type ids. */
const T_I32 = 5;
const T_I64 = 6;
const T_BINARY = 8;
const T_LIST = 9;
const T_STRUCT = 12;

/** Writes Thrift compact-protocol values into a growing byte list. */
class CompactWriter {
  readonly bytes: number[] = [];
  private lastField: number[] = [0];

  varint(value: bigint): void {
    let rest = value;
    while (rest >= 0x80n) {
      this.bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.bytes.push(Number(rest));
  }

  zigzag(value: bigint): void {
    this.varint(value >= 0n ? value << 1n : (-value << 1n) - 1n);
  }

  fieldHeader(id: number, type: number): void {
    const delta = id - this.lastField[this.lastField.length - 1];
    if (delta > 0 && delta <= 15) {
      this.bytes.push((delta << 4) | type);
    } else {
      this.bytes.push(type);
      this.zigzag(BigInt(id));
    }
    this.lastField[this.lastField.length - 1] = id;
  }

  i32(id: number, value: number): void {
    this.fieldHeader(id, T_I32);
    this.zigzag(BigInt(value));
  }

  i64(id: number, value: number | bigint): void {
    this.fieldHeader(id, T_I64);
    this.zigzag(BigInt(value));
  }

  binary(id: number, value: string): void {
    this.fieldHeader(id, T_BINARY);
    this.rawBinary(value);
  }

  rawBinary(value: string): void {
    const encoded = Buffer.from(value, 'utf8');
    this.varint(BigInt(encoded.length));
    this.bytes.push(...encoded);
  }

  listHeader(id: number, elementType: number, size: number): void {
    this.fieldHeader(id, T_LIST);
    if (size < 15) {
      this.bytes.push((size << 4) | elementType);
    } else {
      this.bytes.push(0xf0 | elementType);
      this.varint(BigInt(size));
    }
  }

  /** Writes a struct: a field header (unless it is a list element), the fields, then the stop byte. */
  struct(id: number | null, writeFields: () => void): void {
    if (id !== null) {
      this.fieldHeader(id, T_STRUCT);
    }
    this.lastField.push(0);
    writeFields();
    this.bytes.push(0);
    this.lastField.pop();
  }
}

/** PLAIN encoding of one column's values. */
function plainValues(column: ParquetColumn, start: number, end: number): Buffer {
  if (column.type === 'int32') {
    const out = Buffer.alloc(4 * (end - start));
    column.values.slice(start, end).forEach((value, i) => out.writeInt32LE(value, 4 * i));
    return out;
  }
  if (column.type === 'int64') {
    const out = Buffer.alloc(8 * (end - start));
    column.values.slice(start, end).forEach((value, i) => out.writeBigInt64LE(value, 8 * i));
    return out;
  }
  return Buffer.concat(
    column.values.slice(start, end).map((value) => {
      const encoded = Buffer.from(value, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32LE(encoded.length, 0);
      return Buffer.concat([length, encoded]);
    }),
  );
}

/**
 * Builds a Parquet file whose rows are split into row groups of `rowGroupSize` rows.
 * Every column must have the same number of values.
 */
export function buildParquet(columns: readonly ParquetColumn[], rowGroupSize: number): Buffer {
  const rowCount = columns[0].values.length;
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const rowGroups: Array<{ rows: number; chunks: Array<{ column: ParquetColumn; offset: number; size: number }> }> = [];

  // Row groups: one uncompressed PLAIN data page per column.
  for (let start = 0; start < rowCount; start += rowGroupSize) {
    const end = Math.min(rowCount, start + rowGroupSize);
    const chunks: Array<{ column: ParquetColumn; offset: number; size: number }> = [];
    for (const column of columns) {
      const data = plainValues(column, start, end);
      const header = new CompactWriter();
      header.struct(null, () => {
        header.i32(1, PAGE_TYPE_DATA);
        header.i32(2, data.length);
        header.i32(3, data.length);
        header.struct(5, () => {
          header.i32(1, end - start);
          header.i32(2, ENCODING_PLAIN);
          header.i32(3, ENCODING_RLE);
          header.i32(4, ENCODING_RLE);
        });
      });
      const page = Buffer.concat([Buffer.from(header.bytes), data]);
      chunks.push({ column, offset, size: page.length });
      parts.push(page);
      offset += page.length;
    }
    rowGroups.push({ rows: end - start, chunks });
  }

  // Footer: FileMetaData with the schema and the row groups.
  const footer = new CompactWriter();
  footer.struct(null, () => {
    footer.i32(1, 1);
    footer.listHeader(2, T_STRUCT, columns.length + 1);
    footer.struct(null, () => {
      footer.binary(4, 'schema');
      footer.i32(5, columns.length);
    });
    for (const column of columns) {
      footer.struct(null, () => {
        footer.i32(1, PHYSICAL_TYPE[column.type]);
        footer.i32(3, REQUIRED);
        footer.binary(4, column.name);
        if (column.type === 'utf8') {
          footer.i32(6, CONVERTED_TYPE_UTF8);
        }
      });
    }
    footer.i64(3, rowCount);
    footer.listHeader(4, T_STRUCT, rowGroups.length);
    for (const group of rowGroups) {
      footer.struct(null, () => {
        footer.listHeader(1, T_STRUCT, group.chunks.length);
        for (const chunk of group.chunks) {
          footer.struct(null, () => {
            footer.i64(2, chunk.offset);
            footer.struct(3, () => {
              footer.i32(1, PHYSICAL_TYPE[chunk.column.type]);
              footer.listHeader(2, T_I32, 1);
              footer.zigzag(BigInt(ENCODING_PLAIN));
              footer.listHeader(3, T_BINARY, 1);
              footer.rawBinary(chunk.column.name);
              footer.i32(4, CODEC_UNCOMPRESSED);
              footer.i64(5, group.rows);
              footer.i64(6, chunk.size);
              footer.i64(7, chunk.size);
              footer.i64(9, chunk.offset);
            });
          });
        }
        footer.i64(2, group.chunks.reduce((sum, chunk) => sum + chunk.size, 0));
        footer.i64(3, group.rows);
      });
    }
  });
  const footerBytes = Buffer.from(footer.bytes);
  const footerLength = Buffer.alloc(4);
  footerLength.writeUInt32LE(footerBytes.length, 0);
  parts.push(footerBytes, footerLength, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}
