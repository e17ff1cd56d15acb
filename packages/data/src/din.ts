import { basename, resolve } from 'node:path';
import { DataFormatError } from './errors';
import { DIN_BARS_CSV_FORMAT, DIN_SAMPLES_FORMAT } from './formats';
import { InteractionLogBuilder } from './interaction-log';
import type { FileLoadOptions } from './loaders';
import {
  clickNotInHistory,
  emptyFile,
  emptyId,
  historyLengthMismatch,
  historyNotPrefix,
  historySeparatorMismatch,
  historySeparatorName,
  invalidArgument,
  invalidLabel,
  malformedLine,
  stepHistorySeparator,
  stepRead,
  wrongFieldCount,
} from './messages';
import { resolvePreprocessOptions } from './options';
import { preprocessLog } from './preprocess';
import { readLines, type FileReadSummary } from './text-reader';
import type { SequenceDataset } from './types';

/** Options of {@link loadDinSamples}. */
export interface DinLoadOptions extends FileLoadOptions {
  /**
   * Text that joins the entries of the two history fields, or `'auto'` to detect U+0002 or `^`
   * from the first history with two entries. Default value: `'auto'`.
   */
  historySeparator?: string;
}

/** History separators that `'auto'` detects, in order of precedence. */
const HISTORY_SEPARATOR_CANDIDATES = [DIN_SAMPLES_FORMAT.historySeparator, DIN_BARS_CSV_FORMAT.historySeparator] as const;

/** One parsed line: a labelled impression after a history of clicked items. */
interface Sample {
  /** Index of the file in the list of paths. */
  file: number;
  line: number;
  user: string;
  item: string;
  label: number;
  history: string[];
}

/**
 * Loads CTR samples of Amazon-Electronics as preprocessed for DIN and DIEN as per-user
 * sequences with click labels.
 *
 * Two forms are read, and the first line shows which one a file has. DIEN's `local_train_splitByUser` and
 * `local_test_splitByUser` have six tab-separated fields and no header. The BARS benchmark's
 * `AmazonElectronics_x1/train.csv` and `test.csv` start with the header
 * `label,user_id,item_id,cate_id,item_history,cate_history` and separate the same six fields
 * by commas. By default the history separator is detected: U+0002 or `^`, whichever the first
 * history with two entries contains. A later history that contains the other one is an error.
 * The history separator used goes to `source.params.historySeparator` and into a
 * `report.steps` line.
 *
 * Sources of the separators: the BARS script
 * `datasets/Amazon/AmazonElectronics_x1/convert_amazonelectronics_x1.py`
 * (https://github.com/reczoo/BARS) joins the histories with `^`. DIEN's `script/data_iterator.py`
 * (https://github.com/mouna99/dien) splits them on one control character. The copies checked
 * show it as `split("")`, which Python rejects, so the character was lost in copying.
 * Third-party readers of the same files split on `chr(0x02)` and `"\x02"`, which is U+0002.
 *
 * Each line is one impression: a target item with its label after the user's history of
 * clicked items. Per user, the longest history is the sequence of clicks (label 1). Every
 * other line must have a prefix of it as its history. A clicked target at position L is the
 * click at position L (or extends the sequence when L is its length), and a target with
 * label 0 is inserted as a non-clicked impression after the first L clicks. The files have no
 * timestamps, so this order is the chronological order. Categories are checked for count
 * and otherwise not kept. `source.params` counts the lines, the clicked targets already in a
 * longer history, and the non-clicked impressions.
 *
 * @see Guorui Zhou et al., "Deep Interest Network for Click-Through Rate Prediction",
 *   KDD 2018, arXiv:1706.06978.
 * @param path - A `local_train_splitByUser` or `local_test_splitByUser` file, a BARS
 *   `train.csv` or `test.csv`, or several files. The lines of a user in all the files form one
 *   sequence, so BARS `train.csv` and `test.csv` together give each user's full history.
 * @param options - The history separator, preprocessing options and the dataset name.
 * @throws DataFormatError for a malformed line: not six fields, a label other than 0 or 1,
 *   an empty user or item, unequal item and category counts, or a history with the separator
 *   that the file does not use. Also thrown for a history that is not a prefix of the user's
 *   longest one, and for a file without data lines. The message names the file, the line,
 *   the problem and the expected format.
 * @throws DatasetNotFoundError when a file is missing.
 * @throws RangeError for an invalid option or an empty path list.
 * @example
 * ```ts
 * const electronics = await loadDinSamples('/data/din/local_test_splitByUser', { name: 'amazon-electronics-din' });
 * const bars = await loadDinSamples(['/data/AmazonElectronics_x1/train.csv', '/data/AmazonElectronics_x1/test.csv']);
 * ```
 */
export async function loadDinSamples(path: string | readonly string[], options: DinLoadOptions = {}): Promise<SequenceDataset> {
  // Options and paths.
  const where = 'loadDinSamples';
  const resolved = resolvePreprocessOptions(where, options);
  const separatorOption = options.historySeparator ?? 'auto';
  if (typeof separatorOption !== 'string' || separatorOption.length === 0 || separatorOption === DIN_SAMPLES_FORMAT.fieldSeparator) {
    throw new RangeError(invalidArgument(where, 'historySeparator', 'a non-empty string other than a tab', separatorOption));
  }
  const list: readonly unknown[] = typeof path === 'string' ? [path] : Array.isArray(path) ? path : [];
  if (list.length === 0 || list.some((entry) => typeof entry !== 'string' || entry === '')) {
    throw new RangeError(invalidArgument(where, 'path', 'a path or a non-empty array of paths', path));
  }
  const files = (list as string[]).map((entry) => resolve(entry));
  const name = options.name ?? basename(files[0]);

  // Parse every file, with lines grouped by user in order of first appearance.
  const state: DinParseState = { separatorOption, historySeparator: separatorOption === 'auto' ? null : separatorOption, samplesByUser: new Map() };
  const parsed: Array<{ summary: FileReadSummary; form: DinForm }> = [];
  for (const [index, file] of files.entries()) {
    parsed.push(await parseDinFile(where, index, file, name, state));
  }
  const format = parsed[0].form;

  // One sequence per user: clicks of the longest history, impressions inserted by position.
  const builder = new InteractionLogBuilder(false, false, 1 << 16, true);
  const counts = { lines: 0, clicksInHistory: 0, impressions: 0 };
  for (const [user, samples] of state.samplesByUser) {
    counts.lines += samples.length;
    const sequence = buildUserSequence(user, samples, files, counts);
    if ('problem' in sequence) {
      const file = files[sequence.file];
      const text = await lineText(file, name, sequence.line);
      throw new DataFormatError(malformedLine(file, sequence.line, sequence.problem, parsed[sequence.file].form.description, text), file, sequence.line, text);
    }
    for (const entry of sequence) {
      builder.addKeyed(user, entry.item, 0, 0, entry.label);
    }
  }

  // Report and preprocessing. One file keeps scalar sizes and digests, several get arrays.
  const log = builder.finish();
  const separatorUsed = state.historySeparator ?? format.historySeparator;
  let separatorOrigin: 'option' | 'default' | 'detected' = 'detected';
  if (separatorOption !== 'auto') {
    separatorOrigin = 'option';
  } else if (state.historySeparator === null) {
    separatorOrigin = 'default';
  }
  const summaries = parsed.map((entry) => entry.summary);
  const params = {
    historySeparator: separatorUsed,
    historySeparatorOrigin: separatorOrigin,
    lines: counts.lines,
    clicksInLongerHistory: counts.clicksInHistory,
    nonClickedImpressions: counts.impressions,
    fileBytes: summaries.length === 1 ? summaries[0].bytes : summaries.map((summary) => summary.bytes),
    sha256: summaries.length === 1 ? summaries[0].sha256 : summaries.map((summary) => summary.sha256),
  };
  const steps = [stepRead(counts.lines, log.rawUserIds.length, log.rawItemIds.length, files), stepHistorySeparator(separatorUsed, separatorOrigin)];
  return preprocessLog(where, log, { name, files, format: format.name, params, steps }, resolved);
}

/** One of the two forms that {@link loadDinSamples} reads. */
type DinForm = typeof DIN_SAMPLES_FORMAT | typeof DIN_BARS_CSV_FORMAT;

/** Parsing state shared by the files of one dataset. */
interface DinParseState {
  /** `'auto'` or the separator given as an option. */
  separatorOption: string;
  /** The separator in use: the option, the detected one, or `null` while none is detected. */
  historySeparator: string | null;
  samplesByUser: Map<string, Sample[]>;
}

/**
 * Parses one file into `state.samplesByUser`. The first line is the BARS header or a DIEN
 * sample, which fixes the form of the file.
 *
 * @throws DataFormatError for a malformed line or a file without data lines.
 */
async function parseDinFile(where: string, fileIndex: number, path: string, datasetId: string, state: DinParseState): Promise<{ summary: FileReadSummary; form: DinForm }> {
  let form: DinForm | null = null;
  let samples = 0;
  const summary = await readLines(path, datasetId, (bytes, start, end, lineNumber) => {
    const text = bytes.toString('utf8', start, end);
    const description = (form ?? DIN_SAMPLES_FORMAT).description;
    const fail = (problem: string): never => {
      throw new DataFormatError(malformedLine(path, lineNumber, problem, description, text), path, lineNumber, text);
    };

    // The form, from the first line.
    if (form === null) {
      form = text.trim() === DIN_BARS_CSV_FORMAT.header ? DIN_BARS_CSV_FORMAT : DIN_SAMPLES_FORMAT;
      if (form === DIN_BARS_CSV_FORMAT) {
        if (state.historySeparator === DIN_BARS_CSV_FORMAT.fieldSeparator) {
          throw new RangeError(invalidArgument(where, 'historySeparator', 'a string other than a comma for the comma-separated BARS file', state.historySeparator));
        }
        return;
      }
    }

    // Six fields, a 0/1 label and non-empty ids.
    const fields = text.split(form.fieldSeparator);
    if (fields.length !== 6) {
      fail(wrongFieldCount(6, fields.length));
    }
    const [labelText, user, item, , historyText, categoriesText] = fields;
    if (labelText !== '0' && labelText !== '1') {
      fail(invalidLabel(labelText));
    }
    if (user.trim() === '') {
      fail(emptyId('user id'));
    }
    if (item.trim() === '') {
      fail(emptyId('item id'));
    }

    // Histories, split by the detected or given separator.
    if (state.separatorOption === 'auto') {
      state.historySeparator = checkHistorySeparator(state.historySeparator, historyText, fail);
      state.historySeparator = checkHistorySeparator(state.historySeparator, categoriesText, fail);
    }
    const separator = state.historySeparator ?? form.historySeparator;
    const history = historyText === '' ? [] : historyText.split(separator);
    const categories = categoriesText === '' ? [] : categoriesText.split(separator);
    if (history.length !== categories.length) {
      fail(historyLengthMismatch(history.length, categories.length));
    }
    const userSamples = state.samplesByUser.get(user) ?? [];
    userSamples.push({ file: fileIndex, line: lineNumber, user, item, label: Number(labelText), history });
    state.samplesByUser.set(user, userSamples);
    samples++;
  });

  // A file without data lines is an error, not an empty part of the dataset.
  const found: DinForm = form ?? DIN_SAMPLES_FORMAT;
  if (samples === 0) {
    throw new DataFormatError(emptyFile(path, found.description), path, 0, '');
  }
  return { summary, form: found };
}

/**
 * Returns the history separator after seeing one history field: `detected` when it is set,
 * else the first candidate that the field contains, else `null`. Fails when the field
 * contains another candidate than the detected one.
 */
function checkHistorySeparator(detected: string | null, field: string, fail: (problem: string) => never): string | null {
  const found = HISTORY_SEPARATOR_CANDIDATES.filter((candidate) => field.includes(candidate));
  const separator = detected ?? found[0] ?? null;
  const other = found.find((candidate) => candidate !== separator);
  if (separator !== null && other !== undefined) {
    fail(historySeparatorMismatch(historySeparatorName(other), historySeparatorName(separator)));
  }
  return separator;
}

/**
 * Orders one user's samples into labelled items (see {@link loadDinSamples} for the rule), or
 * returns the file index, line and problem of the first sample that breaks it.
 */
function buildUserSequence(
  user: string,
  samples: Sample[],
  files: readonly string[],
  counts: { clicksInHistory: number; impressions: number },
): Array<{ item: string; label: number }> | { file: number; line: number; problem: string } {
  // The longest history is the sequence of clicks; a clicked target at its end extends it.
  const longest = samples.reduce((best, sample) => (sample.history.length > best.history.length ? sample : best), samples[0]);
  const clicks = [...longest.history];
  const longestFileOf = (sample: Sample): string | undefined => (sample.file === longest.file ? undefined : files[longest.file]);
  for (const sample of samples) {
    for (let k = 0; k < sample.history.length; k++) {
      if (sample.history[k] !== clicks[k]) {
        return { file: sample.file, line: sample.line, problem: historyNotPrefix(user, longest.line, longestFileOf(sample)) };
      }
    }
  }
  for (const sample of samples) {
    if (sample.label === 1 && sample.history.length === clicks.length) {
      clicks.push(sample.item);
    }
  }

  // Clicked targets must match the clicks; non-clicked ones wait at their position.
  const impressionsAt = new Map<number, string[]>();
  for (const sample of samples) {
    const position = sample.history.length;
    if (sample.label === 1) {
      if (clicks[position] !== sample.item) {
        return { file: sample.file, line: sample.line, problem: clickNotInHistory(user, longest.line, longestFileOf(sample)) };
      }
      counts.clicksInHistory += position < longest.history.length ? 1 : 0;
      continue;
    }
    const waiting = impressionsAt.get(position) ?? [];
    waiting.push(sample.item);
    impressionsAt.set(position, waiting);
    counts.impressions++;
  }

  // Interleave: impressions after the first `position` clicks, then the next click.
  const sequence: Array<{ item: string; label: number }> = [];
  for (let position = 0; position <= clicks.length; position++) {
    for (const item of impressionsAt.get(position) ?? []) {
      sequence.push({ item, label: 0 });
    }
    if (position < clicks.length) {
      sequence.push({ item: clicks[position], label: 1 });
    }
  }
  return sequence;
}

/** Reads the text of one line again, for an error found after parsing; lines are kept only as fields. */
async function lineText(path: string, datasetId: string, lineNumber: number): Promise<string> {
  let found = '';
  await readLines(path, datasetId, (bytes, start, end, current) => {
    if (current === lineNumber) {
      found = bytes.toString('utf8', start, end);
    }
  });
  return found;
}
