import { buildParquet, type ParquetColumn } from './__fixtures__/parquet-builder';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { YAMBDA_FORMAT } from './formats';
import { invalidArgument, malformedRow, missingColumns, stepReadFiltered, stepRowFilter } from './messages';
import { loadYambda } from './yambda';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

/**
 * A multi_event-like file of 6 rows in row groups of 2: user 10 listens to 100 and 101 and
 * likes 100; user 20 listens to 100, 102 (recommended) and dislikes 103. Timestamps are
 * out of order inside user 10 to check the chronological sort.
 */
const MULTI_EVENT: ParquetColumn[] = [
  { name: 'uid', type: 'int32', values: [10, 10, 10, 20, 20, 20] },
  { name: 'timestamp', type: 'int64', values: [300n, 100n, 200n, 50n, 60n, 70n] },
  { name: 'item_id', type: 'int32', values: [100, 101, 100, 100, 102, 103] },
  { name: 'is_organic', type: 'int32', values: [1, 1, 1, 1, 0, 1] },
  { name: 'event_type', type: 'utf8', values: ['listen', 'listen', 'like', 'listen', 'listen', 'dislike'] },
];

describe('loadYambda', () => {
  it('reads every row group in time order', async () => {
    const path = temp.write('multi_event.parquet', buildParquet(MULTI_EVENT, 2));

    const dataset = await loadYambda(path, { name: 'yambda-50m' });

    // User 10 by time: 101 (t = 100), 100 (t = 200), 100 (t = 300); user 20: 100, 102, 103.
    expect(rawSequenceOf(dataset, 0)).toEqual(['101', '100', '100']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['100', '102', '103']);
    expect(Array.from(dataset.timestamps ?? [])).toEqual([100, 200, 300, 50, 60, 70]);
    expect(dataset.source.format).toBe(YAMBDA_FORMAT.name);
    expect(dataset.source.params).toMatchObject({ rowsInFile: 6, rowGroups: 3, rowsOfOtherEventTypes: 0 });
    expect(dataset.report.rowsRead).toBe(6);
  });

  it('counts rows removed by the filters', async () => {
    const path = temp.write('filtered/multi_event.parquet', buildParquet(MULTI_EVENT, 4));

    const dataset = await loadYambda(path, { eventTypes: ['listen'], organic: 'organic' });

    // 6 rows: the like and the dislike are other event types (2), then 102 is recommended (1).
    expect(rawSequenceOf(dataset, 0)).toEqual(['101', '100']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['100']);
    expect(dataset.source.params).toMatchObject({ rowsInFile: 6, rowsOfOtherEventTypes: 2, rowsOfOtherOrigin: 1 });
    expect(dataset.report.steps).toContain(stepRowFilter('event_type in [listen]', 2, 4));
    expect(dataset.report.steps).toContain(stepRowFilter('is_organic = 1', 1, 3));
    expect(dataset.report.steps[0]).toBe(stepReadFiltered(6, 3, 2, 2, [path]));
  });

  it('rejects a file without item_id', async () => {
    const path = temp.write('no-item.parquet', buildParquet([MULTI_EVENT[0], MULTI_EVENT[1]], 10));

    const error = await rejectionOf(loadYambda(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedRow(path, 0, missingColumns(['item_id']), YAMBDA_FORMAT.description, 'uid,timestamp'));
  });

  it('rejects a filter on a missing column', async () => {
    const path = temp.write('flat-likes.parquet', buildParquet(MULTI_EVENT.slice(0, 3), 10));

    const error = await rejectionOf(loadYambda(path, { eventTypes: ['like'] }));

    expect(error.message).toBe(malformedRow(path, 0, missingColumns(['event_type']), YAMBDA_FORMAT.description, 'uid,timestamp,item_id'));
  });

  it('names the row of a negative uid', async () => {
    const columns: ParquetColumn[] = [
      { name: 'uid', type: 'int32', values: [1, 2, -3] },
      { name: 'timestamp', type: 'int64', values: [1n, 2n, 3n] },
      { name: 'item_id', type: 'int32', values: [5, 6, 7] },
    ];
    const path = temp.write('negative.parquet', buildParquet(columns, 2));

    const error = await rejectionOf(loadYambda(path));

    // Row 3 sits in the second row group.
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedRow(path, 3, 'invalid uid: expected a non-negative integer', YAMBDA_FORMAT.description, 'uid=-3, item_id=7, timestamp=3'));
    expect((error as DataFormatError).line).toBe(3);
  });

  it('rejects a file that is not Parquet', async () => {
    const path = temp.write('not.parquet', 'uid,item_id,timestamp\n1,2,3\n');

    const error = await rejectionOf(loadYambda(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toContain('not a readable Parquet file');
  });

  it('rejects a missing file and an invalid option', async () => {
    const missing = await rejectionOf(loadYambda(`${temp.path}/absent.parquet`));
    const invalid = await rejectionOf(loadYambda(`${temp.path}/absent.parquet`, { eventTypes: [] }));

    expect(missing).toBeInstanceOf(DatasetNotFoundError);
    expect(invalid).toBeInstanceOf(RangeError);
    expect(invalid.message).toBe(invalidArgument('loadYambda', 'eventTypes', 'a non-empty array of non-empty strings', []));
  });
});
