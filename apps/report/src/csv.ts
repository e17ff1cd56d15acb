import { lengthMismatch } from './messages';

/** One CSV cell: a missing value (null or undefined) and a non-finite number become an empty cell. */
export type CsvCell = string | number | boolean | null | undefined;

// Characters that make a spreadsheet read a cell as a formula.
const FORMULA_PREFIX = /^[=+\-@\t\r]/;

// Characters that require the cell to be quoted (RFC 4180, plus leading or trailing spaces).
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/**
 * Formats one CSV cell. Numbers use JavaScript's shortest round-trip form, so `Number(cell)`
 * returns the exact value. A string is quoted when it contains a comma, a double quote, a line
 * break or a leading or trailing space, and inner quotes are doubled (RFC 4180). A string that
 * starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that a
 * spreadsheet shows it as text instead of running it as a formula.
 */
export function formatCsvCell(value: CsvCell): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? String(value) : '';
  }
  if (typeof value === 'boolean') {
    return value ? 'true' : 'false';
  }

  const text = FORMULA_PREFIX.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Formats a table as CSV: a header line, then one line per row, each line ended by CRLF
 * (RFC 4180).
 *
 * @param header - Column names.
 * @param rows - Cells of each row, as many as `header` has names.
 * @throws RangeError when a row has another number of cells than `header`.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header.map(formatCsvCell).join(',')];
  rows.forEach((row, index) => {
    if (row.length !== header.length) {
      throw new RangeError(lengthMismatch('toCsv', `rows[${index}]`, `${header.length} cells, one per header column`, row.length));
    }
    lines.push(row.map(formatCsvCell).join(','));
  });
  return `${lines.join('\r\n')}\r\n`;
}
