import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InteractionLogBuilder } from '../interaction-log';
import { buildSequenceDataset } from '../preprocess';
import type { PreprocessOptions, SequenceDataset } from '../types';

/** A temporary directory for fixture files, removed by `remove()`. */
export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'malloc-data-'));

  /** Writes `content` to `relativePath` (creating folders) and returns the absolute path. */
  write(relativePath: string, content: string | Buffer): string {
    const target = join(this.path, relativePath);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
    return target;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Builds a dataset from `[user, item, timestamp]` rows, as a loader would. */
export function datasetFromRows(rows: ReadonlyArray<readonly [number, number, number]>, options: PreprocessOptions = {}): SequenceDataset {
  const builder = new InteractionLogBuilder(true, false);
  for (const [user, item, timestamp] of rows) {
    builder.add(user, item, timestamp);
  }
  return buildSequenceDataset(builder.finish(), { name: 'fixture', files: [], format: 'inline' }, options);
}

/** Builds a dataset whose users have exactly these sequences of raw item ids, in order. */
export function datasetFromSequences(sequences: ReadonlyArray<readonly number[]>): SequenceDataset {
  const rows: Array<[number, number, number]> = [];
  sequences.forEach((sequence, user) => sequence.forEach((item, position) => rows.push([user + 1, item, position])));
  return datasetFromRows(rows);
}

/** Returns the items of user `user` as a plain array of internal ids. */
export function sequenceOf(dataset: SequenceDataset, user: number): number[] {
  return Array.from(dataset.items.subarray(dataset.offsets[user], dataset.offsets[user + 1]));
}

/** Returns the items of user `user` as raw ids. */
export function rawSequenceOf(dataset: SequenceDataset, user: number): string[] {
  return sequenceOf(dataset, user).map((item) => dataset.rawItemIds[item]);
}

/** Returns the error thrown by `call`, and fails the test when `call` returns normally. */
export function thrownBy(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw, but it returned normally');
}

/** Returns the error `promise` rejects with, and fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
