import { formatCsvCell, toCsv } from './csv';
import { lengthMismatch } from './messages';

/** Minimal RFC 4180 reader, written independently of the writer, for round-trip checks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') {
        quoted = false;
      } else {
        field += character;
      }
    } else if (character === '"') {
      quoted = true;
    } else if (character === ',') {
      record.push(field);
      field = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index++;
    } else {
      field += character;
    }
  }
  return records;
}

describe('formatCsvCell', () => {
  it('leaves plain text unquoted', () => {
    expect(formatCsvCell('window')).toBe('window');
  });

  it('quotes commas, quotes and line breaks', () => {
    expect(formatCsvCell('a,b')).toBe('"a,b"');
    expect(formatCsvCell('say "hi"')).toBe('"say ""hi"""');
    expect(formatCsvCell('two\nlines')).toBe('"two\nlines"');
    expect(formatCsvCell(' padded ')).toBe('" padded "');
  });

  it('defuses spreadsheet formulas', () => {
    expect(formatCsvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(formatCsvCell('+1')).toBe("'+1");
    expect(formatCsvCell('-1')).toBe("'-1");
    expect(formatCsvCell('@SUM(A1)')).toBe("'@SUM(A1)");
  });

  it('writes numbers in round-trip form', () => {
    expect(formatCsvCell(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(Number(formatCsvCell(1 / 3))).toBe(1 / 3);
    expect(formatCsvCell(-0.5)).toBe('-0.5');
    expect(formatCsvCell(1e-7)).toBe('1e-7');
  });

  it('writes empty cells for missing values', () => {
    expect(formatCsvCell(null)).toBe('');
    expect(formatCsvCell(undefined)).toBe('');
    expect(formatCsvCell(Number.NaN)).toBe('');
    expect(formatCsvCell(Infinity)).toBe('');
  });

  it('writes booleans as words', () => {
    expect(formatCsvCell(true)).toBe('true');
    expect(formatCsvCell(false)).toBe('false');
  });
});

describe('toCsv', () => {
  it('ends every line with CRLF', () => {
    expect(toCsv(['a', 'b'], [[1, 'x']])).toBe('a,b\r\n1,x\r\n');
  });

  it('round-trips hostile strings', () => {
    const rows = [['<img src=x onerror=alert(1)>', 'a,"b"\r\nc', 7]];

    const records = parseCsv(toCsv(['strategy', 'setting', 'seed'], rows));

    expect(records).toEqual([
      ['strategy', 'setting', 'seed'],
      ['<img src=x onerror=alert(1)>', 'a,"b"\r\nc', '7'],
    ]);
  });

  it('rejects a row of the wrong length', () => {
    expect(() => toCsv(['a', 'b'], [[1, 2], [3]])).toThrow(RangeError);
    expect(() => toCsv(['a', 'b'], [[1, 2], [3]])).toThrow(lengthMismatch('toCsv', 'rows[1]', '2 cells, one per header column', 1));
  });
});
