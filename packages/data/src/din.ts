import { basename, resolve } from 'node:path';
import { DataFormatError } from './errors';
import { DIN_SAMPLES_FORMAT } from './formats';
import { InteractionLogBuilder } from './interaction-log';
import type { FileLoadOptions } from './loaders';
import {
  clickNotInHistory,
  emptyFile,
  emptyId,
  historyLengthMismatch,
  historyNotPrefix,
  invalidArgument,
  invalidLabel,
  malformedLine,
  stepRead,
  wrongFieldCount,
} from './messages';
import { resolvePreprocessOptions } from './options';
import { preprocessLog } from './preprocess';
import { readLines } from './text-reader';
import type { SequenceDataset } from './types';

/** Options of {@link loadDinSamples}. */
export interface DinLoadOptions extends FileLoadOptions {
  /** Character that joins the entries of the two history fields. Default value: U+0002. */
  historySeparator?: string;
}

/** One parsed line: a labelled impression after a history of clicked items. */
interface Sample {
  line: number;
  user: string;
  item: string;
  label: number;
  history: string[];
}

/**
 * Loads CTR samples in the DIN/DIEN form (`local_train_splitByUser` of Amazon-Electronics) as
 * per-user sequences with click labels.
 *
 * Each line is one impression: a target item with its label after the user's history of
 * clicked items. Per user, the longest history is the sequence of clicks (label 1). Every
 * other line must have a prefix of it as its history. A clicked target at position L is the
 * click at position L (or extends the sequence when L is its length), and a target with
 * label 0 is inserted as a non-clicked impression after the first L clicks. The file has no
 * timestamps, so this order is the chronological order. Categories are checked for count
 * and otherwise not kept. `source.params` counts the lines, the clicked targets already in a
 * longer history, and the non-clicked impressions.
 *
 * @see Guorui Zhou et al., "Deep Interest Network for Click-Through Rate Prediction",
 *   KDD 2018, arXiv:1706.06978.
 * @param path - A `local_train_splitByUser` or `local_test_splitByUser` file.
 * @param options - The history separator, preprocessing options and the dataset name.
 * @throws DataFormatError for a malformed line: not six fields, a label other than 0 or 1,
 *   an empty user or item, or unequal item and category counts. Also thrown for a history
 *   that is not a prefix of the user's longest one, and for a file without data lines. The
 *   message names the file, the line, the problem and the expected format.
 * @throws DatasetNotFoundError when the file is missing.
 * @throws RangeError for an invalid option.
 * @example
 * ```ts
 * const electronics = await loadDinSamples('/data/din/local_test_splitByUser', { name: 'amazon-electronics-din' });
 * ```
 */
export async function loadDinSamples(path: string, options: DinLoadOptions = {}): Promise<SequenceDataset> {
  // Options.
  const where = 'loadDinSamples';
  const resolved = resolvePreprocessOptions(where, options);
  const historySeparator = options.historySeparator ?? DIN_SAMPLES_FORMAT.historySeparator;
  if (typeof historySeparator !== 'string' || historySeparator.length === 0 || historySeparator === DIN_SAMPLES_FORMAT.fieldSeparator) {
    throw new RangeError(invalidArgument(where, 'historySeparator', 'a non-empty string other than a tab', historySeparator));
  }
  const absolute = resolve(path);
  const name = options.name ?? basename(path);

  // Parse every line, grouped by user in order of first appearance.
  const samplesByUser = new Map<string, Sample[]>();
  const file = await readLines(absolute, name, (bytes, start, end, lineNumber) => {
    const text = bytes.toString('utf8', start, end);
    const fail = (problem: string): never => {
      throw new DataFormatError(malformedLine(absolute, lineNumber, problem, DIN_SAMPLES_FORMAT.description, text), absolute, lineNumber, text);
    };
    const fields = text.split(DIN_SAMPLES_FORMAT.fieldSeparator);
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
    const history = historyText === '' ? [] : historyText.split(historySeparator);
    const categories = categoriesText === '' ? [] : categoriesText.split(historySeparator);
    if (history.length !== categories.length) {
      fail(historyLengthMismatch(history.length, categories.length));
    }
    const samples = samplesByUser.get(user) ?? [];
    samples.push({ line: lineNumber, user, item, label: Number(labelText), history });
    samplesByUser.set(user, samples);
  });
  if (samplesByUser.size === 0) {
    throw new DataFormatError(emptyFile(absolute, DIN_SAMPLES_FORMAT.description), absolute, 0, '');
  }

  // One sequence per user: clicks of the longest history, impressions inserted by position.
  const builder = new InteractionLogBuilder(false, false, 1 << 16, true);
  const counts = { lines: 0, clicksInHistory: 0, impressions: 0 };
  for (const [user, samples] of samplesByUser) {
    counts.lines += samples.length;
    const sequence = buildUserSequence(user, samples, counts);
    if ('problem' in sequence) {
      const text = await lineText(absolute, name, sequence.line);
      throw new DataFormatError(malformedLine(absolute, sequence.line, sequence.problem, DIN_SAMPLES_FORMAT.description, text), absolute, sequence.line, text);
    }
    for (const entry of sequence) {
      builder.addKeyed(user, entry.item, 0, 0, entry.label);
    }
  }

  // Report and preprocessing.
  const log = builder.finish();
  const params = { historySeparator, lines: counts.lines, clicksInLongerHistory: counts.clicksInHistory, nonClickedImpressions: counts.impressions, fileBytes: file.bytes, sha256: file.sha256 };
  const steps = [stepRead(counts.lines, log.rawUserIds.length, log.rawItemIds.length, [absolute])];
  return preprocessLog(where, log, { name, files: [absolute], format: DIN_SAMPLES_FORMAT.name, params, steps }, resolved);
}

/**
 * Orders one user's samples into labelled items (see {@link loadDinSamples} for the rule), or
 * returns the line and problem of the first sample that breaks it.
 */
function buildUserSequence(
  user: string,
  samples: Sample[],
  counts: { clicksInHistory: number; impressions: number },
): Array<{ item: string; label: number }> | { line: number; problem: string } {
  // The longest history is the sequence of clicks; a clicked target at its end extends it.
  const longest = samples.reduce((best, sample) => (sample.history.length > best.history.length ? sample : best), samples[0]);
  const clicks = [...longest.history];
  for (const sample of samples) {
    for (let k = 0; k < sample.history.length; k++) {
      if (sample.history[k] !== clicks[k]) {
        return { line: sample.line, problem: historyNotPrefix(user, longest.line) };
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
        return { line: sample.line, problem: clickNotInHistory(user, longest.line) };
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
