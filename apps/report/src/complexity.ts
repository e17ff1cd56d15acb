import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { invalidComplexityField } from './messages';

/** Name of the optional file of complexity curves inside a results directory. */
export const COMPLEXITY_FILE_NAME = 'complexity.json';

/** One measurement of a complexity curve. */
export interface ComplexityPoint {
  /** History length in items; > 0, because the axis is logarithmic. */
  historyLength: number;
  /** Measured value in the curve's unit; > 0. */
  value: number;
}

/** One curve of `complexity.json`: one measure of one method against history length. */
export interface ComplexityCurve {
  dataset: string;
  model: string;
  /** Task of the curve, `retrieval` when absent. */
  task: string;
  /** Method family, `''` when absent. */
  family: string;
  strategy: string;
  /** Short label of the method's parameters, `''` when absent. */
  setting: string;
  /** Name of the measured quantity, such as `bytes per user`, `MACs per request` or `prefill ms`. */
  measure: string;
  /** Unit of `value`, such as `bytes`, `MACs` or `ms`; `''` when absent. */
  unit: string;
  points: ComplexityPoint[];
  /** `<folder>/complexity.json` of the file the curve came from. */
  source: string;
}

/**
 * Reads the optional `complexity.json` beside each results file. A missing file is not an
 * error. The file is a JSON object `{ "schemaVersion": 1, "curves": [...] }`, where each curve
 * has the string fields `dataset`, `model`, `strategy` and `measure`, the optional strings
 * `task`, `family`, `setting` and `unit`, and `points`, an array of `{ "historyLength", "value" }`
 * with positive numbers.
 *
 * @param resultsFiles - Absolute paths of the results files read.
 * @returns Every curve of every file found, in file order.
 * @throws SyntaxError when a file is not valid JSON; TypeError or RangeError naming the file and field when a field is invalid.
 */
export async function readComplexityFiles(resultsFiles: readonly string[]): Promise<ComplexityCurve[]> {
  const curves: ComplexityCurve[] = [];
  for (const directory of [...new Set(resultsFiles.map((file) => dirname(file)))]) {
    const file = join(directory, COMPLEXITY_FILE_NAME);
    const exists = await stat(file).then(
      (info) => info.isFile(),
      () => false,
    );
    if (!exists) {
      continue;
    }
    const text = await readFile(file, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new SyntaxError(`Malformed JSON in '${file}': ${(error as Error).message}.`, { cause: error });
    }
    curves.push(...parseComplexity(value, file));
  }
  return curves;
}

/**
 * Checks the parsed contents of one `complexity.json` and returns its curves.
 *
 * @param value - The parsed file.
 * @param file - Path of the file, for messages and the curves' `source`.
 * @throws TypeError or RangeError naming the file and field when a field is invalid.
 */
export function parseComplexity(value: unknown, file: string): ComplexityCurve[] {
  if (!isObject(value) || value.schemaVersion !== 1 || !Array.isArray(value.curves)) {
    throw new TypeError(invalidComplexityField(file, '(file)', 'an object with schemaVersion 1 and an array curves', value));
  }
  const source = `${dirname(file).split(/[\\/]/).pop() ?? ''}/${COMPLEXITY_FILE_NAME}`;
  return value.curves.map((curve: unknown, index: number) => {
    const path = `curves[${index}]`;
    if (!isObject(curve)) {
      throw new TypeError(invalidComplexityField(file, path, 'an object', curve));
    }
    const text = (field: string, required: boolean): string => {
      const found = curve[field];
      if (found === undefined && !required) {
        return '';
      }
      if (typeof found !== 'string' || (required && found === '')) {
        throw new TypeError(invalidComplexityField(file, `${path}.${field}`, required ? 'a non-empty string' : 'a string', found));
      }
      return found;
    };
    if (!Array.isArray(curve.points)) {
      throw new TypeError(invalidComplexityField(file, `${path}.points`, 'an array of { historyLength, value }', curve.points));
    }
    const points = curve.points.map((point: unknown, pointIndex: number) => {
      const pointPath = `${path}.points[${pointIndex}]`;
      if (!isObject(point) || !isPositive(point.historyLength) || !isPositive(point.value)) {
        throw new RangeError(invalidComplexityField(file, pointPath, 'an object with positive finite numbers historyLength and value', point));
      }
      return { historyLength: point.historyLength, value: point.value };
    });
    return {
      dataset: text('dataset', true),
      model: text('model', true),
      task: text('task', false) || 'retrieval',
      family: text('family', false),
      strategy: text('strategy', true),
      setting: text('setting', false),
      measure: text('measure', true),
      unit: text('unit', false),
      points,
      source,
    };
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
