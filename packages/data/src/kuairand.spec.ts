import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { DataFormatError } from './errors';
import { KUAIRAND_LOG_FORMAT } from './formats';
import { loadKuaiRandLog } from './kuairand';
import { DATASET_IDS, loadDataset } from './loaders';
import { datasetFilesNotFound, invalidId, invalidLabel, malformedLine, missingColumns, wrongFieldCount } from './messages';
import { DatasetNotFoundError } from './errors';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

/** The column order of the KuaiRand-1K logs, as the dataset's field table lists them. */
const HEADER =
  'user_id,video_id,date,hourmin,time_ms,is_click,is_like,is_follow,is_comment,is_forward,is_hate,long_view,play_time_ms,duration_ms,profile_stay_time,comment_stay_time,is_profile_enter,is_rand,tab';

/** Builds a log line with the given user, video, time and click, and fixed values elsewhere. */
function logLine(user: number, video: number, timeMs: number, click: number | string): string {
  return `${user},${video},20220421,400,${timeMs},${click},0,0,0,0,0,1,151024,104400,0,0,0,0,1`;
}

describe('loadKuaiRandLog', () => {
  it('reads users, videos, seconds and clicks', async () => {
    const path = temp.write(
      'log_standard_4_08_to_4_21_1k.csv',
      [HEADER, logLine(17387, 1123453, 1650485801301, 1), logLine(17387, 42, 1650485700000, 0), logLine(5, 42, 1650485900500, 1)].join('\n') + '\n',
    );

    const dataset = await loadKuaiRandLog(path, { name: 'kuairand-1k' });

    // User 5 first (raw ids in numeric order); user 17387 watched 42 (t = 1650485700.000 s)
    // before 1123453 (t = 1650485801.301 s).
    expect(dataset.rawUserIds).toEqual(['5', '17387']);
    expect(rawSequenceOf(dataset, 0)).toEqual(['42']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['42', '1123453']);
    expect(Array.from(dataset.timestamps ?? [])).toEqual([1650485900.5, 1650485700, 1650485801.301]);
    expect(Array.from(dataset.labels ?? [])).toEqual([1, 0, 1]);
    expect(dataset.source.format).toBe(KUAIRAND_LOG_FORMAT.name);
    expect(dataset.source.params).toMatchObject({ timestampDivisor: 1000 });
    expect(dataset.report.rowsRead).toBe(3);
  });

  it('finds the columns by name in any order', async () => {
    const path = temp.write('reordered.csv', 'is_click,tab,time_ms,video_id,user_id\n0,1,2000,7,3\n1,1,1000,8,3\n');

    const dataset = await loadKuaiRandLog(path);

    expect(rawSequenceOf(dataset, 0)).toEqual(['8', '7']);
    expect(Array.from(dataset.labels ?? [])).toEqual([1, 0]);
  });

  it('rejects a header without is_click', async () => {
    const header = 'user_id,video_id,time_ms';
    const path = temp.write('no-click.csv', `${header}\n1,2,3\n`);

    const error = await rejectionOf(loadKuaiRandLog(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 1, missingColumns(['is_click']), KUAIRAND_LOG_FORMAT.description, header));
  });

  it.each([
    ['a click that is not 0 or 1', logLine(1, 2, 1000, 2), invalidLabel('2')],
    ['a negative video id', logLine(1, -2, 1000, 1), invalidId('item id', '-2')],
    ['a missing field', '1,2,20220421,400,1000,1', wrongFieldCount(19, 6)],
  ])('rejects %s with its line', async (_case, line, problem) => {
    const path = temp.write(`bad-${line.length}.csv`, `${HEADER}\n${logLine(1, 3, 500, 0)}\n${line}\n`);

    const error = await rejectionOf(loadKuaiRandLog(path));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 3, problem, KUAIRAND_LOG_FORMAT.description, line));
    expect((error as DataFormatError).line).toBe(3);
  });
});

describe('loadDataset KuaiRand ids', () => {
  it('reads kuairand-1k from the unpacked archive folder', async () => {
    temp.write('root/KuaiRand-1K/data/log_standard_4_08_to_4_21_1k.csv', `${HEADER}\n${logLine(1, 10, 2000, 1)}\n${logLine(1, 11, 1000, 0)}\n`);

    const dataset = await loadDataset('kuairand-1k', { dataDir: `${temp.path}/root` });

    expect(DATASET_IDS).toContain('kuairand-1k');
    expect(dataset.name).toBe('kuairand-1k');
    expect(rawSequenceOf(dataset, 0)).toEqual(['11', '10']);
    expect(Array.from(dataset.labels ?? [])).toEqual([0, 1]);
  });

  it('names the missing kuairand-pure log', async () => {
    const dir = `${temp.path}/empty-root`;
    temp.write('empty-root/readme.txt', 'no logs here');
    const expectedPath = `${dir}/KuaiRand-Pure/data/log_standard_4_08_to_4_21_pure.csv`;

    const error = await rejectionOf(loadDataset('kuairand-pure', { dataDir: dir }));

    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.message).toBe(datasetFilesNotFound('kuairand-pure', dir, [expectedPath]));
    expect(error.message).toContain('https://github.com/chongminggao/KuaiRand');
  });
});
