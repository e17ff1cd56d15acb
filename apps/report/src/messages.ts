// Builders of every error and warning string of @malloc/report. Tests assert against these
// same functions, so each message is worded in one place.

const MAX_VALUE_LENGTH = 80;

/**
 * Formats a received value for a message: JSON, cut to 80 characters. JSON escapes control
 * characters, so a hostile string from a results file cannot move the cursor of a terminal.
 */
export function describeValue(value: unknown): string {
  if (value === undefined) {
    return 'undefined';
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 1)}…` : text;
}

/** Formats a count with its noun, such as `1 row` or `3 rows`. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

export function invalidArgument(where: string, argument: string, expected: string, received: unknown): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${describeValue(received)}.`;
}

export function lengthMismatch(where: string, argument: string, expected: string, received: number): string {
  return `${where}: invalid ${argument}: expected ${expected}, received ${received}.`;
}

export function resultsPathNotFound(path: string): string {
  return `buildSite: results path '${path}' was not found. Pass a results directory that contains results.jsonl, or the path of a results.jsonl file.`;
}

export function resultsFileMissing(directory: string): string {
  return `buildSite: results directory '${directory}' contains no results.jsonl. Pass the --out folder of a bench run, or the path of a results.jsonl file.`;
}

export function malformedResultsLine(file: string, line: number, reason: string): string {
  return `Malformed JSON on line ${line} of '${file}': ${reason}. Each line of a results file must be one JSON object; fix or remove that line.`;
}

export function invalidResultField(file: string, line: number, field: string, expected: string, received: unknown): string {
  return `Invalid field '${field}' on line ${line} of '${file}': expected ${expected}, received ${describeValue(received)}.`;
}

export function unsupportedSchemaVersion(file: string, line: number, supported: number, received: unknown): string {
  return `Unsupported schemaVersion on line ${line} of '${file}': this report reads version ${supported}, received ${describeValue(received)}. Upgrade @malloc/report or rebuild the results.`;
}

export function truncatedLastLine(file: string, line: number): string {
  return `Ignored line ${line} of '${file}': the last line has no newline and is not valid JSON, which is the trace of an interrupted write.`;
}

export function duplicateResultsFile(file: string): string {
  return `Read '${file}' once although it was passed more than once.`;
}

export function modelLabelSplit(dataset: string, model: string, fields: readonly string[], labels: readonly string[]): string {
  const labelList = labels.map((label) => `'${label}'`).join(', ');
  if (fields.length === 0) {
    return `Some rows of model '${model}' on dataset '${dataset}' record no training settings, so they cannot be compared with the others and are shown apart: ${labelList}.`;
  }
  return `Rows of model '${model}' on dataset '${dataset}' come from models trained with different settings or data (${fields.join(', ')} differ), so they are shown as separate models: ${labelList}. Each of them is averaged over its own seeds only.`;
}

export function modelSettingsNotRecorded(dataset: string, model: string): string {
  return `Rows of model '${model}' on dataset '${dataset}' record no training settings (they were written before rows recorded them), so the report cannot check that their seeds come from one configuration. Rerun them to record the settings.`;
}

export function rowsLeftOutOfChart(chartTitle: string, failed: number, unplottable: number): string {
  return `${countOf(failed + unplottable, 'row is', 'rows are')} not in the chart '${chartTitle}': ${failed} with a status other than ok, and ${countOf(unplottable, 'ok row')} without a finite ndcg@10 or a positive bytesPerUser.`;
}

export function unplottableRow(file: string, line: number, reason: string): string {
  return `Line ${line} of '${file}' is not plotted: ${reason}.`;
}

export function moreStrategiesThanColours(strategies: number, colours: number): string {
  return `The chart has ${strategies} strategies but the colour-blind-safe palette has ${colours} colours, so colours repeat; tell strategies apart by the tooltip or the table.`;
}

export function pathOutsideSite(path: string, site: string): string {
  return `buildSite: cannot write '${path}' because it resolves outside the site folder '${site}'. Remove the symbolic link that leads out of the site folder, or choose another folder.`;
}

export function vendorPackageNotFound(name: string, startDirectory: string): string {
  return `buildSite: cannot vendor '${name}': no node_modules/${name}/package.json above '${startDirectory}'. Install the dependencies of @malloc/report (npm ci).`;
}

export function vendorFileMissing(name: string, file: string): string {
  return `buildSite: cannot vendor '${name}': '${file}' was not found. Reinstall the dependencies (npm ci).`;
}

export function vendorLicenseNotAllowed(name: string, license: unknown, allowed: readonly string[]): string {
  return `buildSite: cannot vendor '${name}': its licence ${describeValue(license)} is not one of ${allowed.join(', ')}, which allow redistribution with the licence text. Pin a version of '${name}' under one of these licences.`;
}

export function vegaLoadRejected(uri: string): string {
  return `The chart tried to load '${uri}', but site charts embed their data and must load nothing.`;
}

export function siteBuilt(site: string, rows: number, plotted: number, files: number): string {
  return `Built the site in '${site}': ${countOf(rows, 'row')} read, ${plotted} plotted, ${countOf(files, 'file')} written.`;
}

export function invalidComplexityField(file: string, field: string, expected: string, received: unknown): string {
  return `Invalid field '${field}' in '${file}': expected ${expected}, received ${describeValue(received)}. Fix the file or remove it; the complexity page is optional.`;
}

export function invalidMethodsField(file: string, field: string, expected: string, received: unknown): string {
  return `Invalid field '${field}' in '${file}': expected ${expected}, received ${describeValue(received)}. Fix the file or remove it; method pages then show the taxonomy recorded in the rows.`;
}
