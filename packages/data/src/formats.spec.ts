import { createHash } from 'node:crypto';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { MOVIELENS_100K_FORMAT, MOVIELENS_1M_RATINGS_FORMAT, SEQUENCE_FORMAT_DESCRIPTION, parseDelimitedFile, parseSequenceFile } from './formats';
import { loadInteractionFile, loadSequenceFile } from './loaders';
import {
  MAX_QUOTED_CHARS,
  emptyFile,
  fileNotFound,
  invalidId,
  invalidNumber,
  malformedLine,
  ratingThresholdWithoutRatings,
  stepBlankLines,
  tooFewFields,
  wrongFieldCount,
  wrongSeparator,
} from './messages';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

describe('parseDelimitedFile', () => {
  it('parses u.data rows into columns', async () => {
    const path = temp.write('parse/u.data', '196\t242\t3\t881250949\n186\t302\t3.5\t891717742\n196\t377\t1\t878887116\n');
    const { log, file } = await parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'ml-100k');

    expect(log.rowCount).toBe(3);
    expect(log.rawUserIds).toEqual([196, 186]);
    expect(log.rawItemIds).toEqual([242, 302, 377]);
    expect(Array.from(log.users)).toEqual([0, 1, 0]);
    expect(Array.from(log.items)).toEqual([0, 1, 2]);
    expect(Array.from(log.ratings ?? [])).toEqual([3, 3.5, 1]);
    expect(Array.from(log.timestamps ?? [])).toEqual([881250949, 891717742, 878887116]);
    expect(file.lines).toBe(3);
  });

  it('parses ratings.dat rows with the :: separator', async () => {
    const path = temp.write('parse/ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n');
    const { log } = await parseDelimitedFile(path, MOVIELENS_1M_RATINGS_FORMAT, 'ml-1m');

    expect(log.rawItemIds).toEqual([1193, 661]);
    expect(Array.from(log.ratings ?? [])).toEqual([5, 3]);
    expect(Array.from(log.timestamps ?? [])).toEqual([978300760, 978302109]);
  });

  it('accepts CRLF, BOM and blank lines', async () => {
    const content = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('1\t2\t5\t10\r\n\r\n  \n1\t3\t4\t11')]);
    const path = temp.write('parse/crlf.data', content);
    const { log, file } = await parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'fixture');

    expect(log.rawItemIds).toEqual([2, 3]);
    expect(Array.from(log.timestamps ?? [])).toEqual([10, 11]);
    expect(file.lines).toBe(4);
    expect(file.blankLines).toBe(2);
  });

  it('records size and SHA-256 of the file', async () => {
    const content = '1\t2\t5\t10\n';
    const path = temp.write('parse/hash.data', content);
    const { file } = await parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'fixture');

    expect(file.bytes).toBe(Buffer.byteLength(content));
    expect(file.sha256).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('skips a header when the format has one', async () => {
    const format = { ...MOVIELENS_100K_FORMAT, name: 'csv', separator: ',', hasHeader: true, description: 'csv' };
    const path = temp.write('parse/ratings.csv', 'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n');
    const { log } = await parseDelimitedFile(path, format, 'fixture');

    expect(log.rowCount).toBe(1);
    expect(log.rawItemIds).toEqual([31]);
  });

  it('parses lines that cross read chunks', async () => {
    // 200,000 rows of about 20 bytes exceed the 1 MiB chunk several times.
    const rows = 200_000;
    const lines: string[] = [];
    for (let row = 0; row < rows; row++) {
      lines.push(`${row % 977}\t${row % 1009}\t${(row % 5) + 1}\t${1_000_000 + row}`);
    }
    const path = temp.write('parse/large.data', `${lines.join('\n')}\n`);
    const { log } = await parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'fixture');

    expect(log.rowCount).toBe(rows);
    expect(log.rawUserIds.length).toBe(977);
    expect(log.rawItemIds.length).toBe(1009);
    let timestampsMatch = true;
    for (let row = 0; row < rows; row++) {
      timestampsMatch &&= log.timestamps?.[row] === 1_000_000 + row && log.rawItemIds[log.items[row]] === row % 1009;
    }
    expect(timestampsMatch).toBe(true);
  });

  describe('malformed input', () => {
    const expected = MOVIELENS_100K_FORMAT.description;

    async function errorFor(name: string, content: string): Promise<{ path: string; error: Error }> {
      const path = temp.write(`malformed/${name}`, content);
      return { path, error: await rejectionOf(parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'ml-100k')) };
    }

    it('rejects a short line', async () => {
      const { path, error } = await errorFor('short.data', '1\t2\t3\t4\n1\t2\t3\n');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(malformedLine(path, 2, wrongFieldCount(4, 3), expected, '1\t2\t3'));
      expect(error).toMatchObject({ file: path, line: 2, text: '1\t2\t3' });
    });

    it('words the short-line message in full', async () => {
      const { path, error } = await errorFor('short-words.data', '1\t2\t3\n');

      expect(error.message).toBe(
        `Invalid data in ${path} at line 1: found 3 fields, expected 4. Expected one rating per line as user_id<TAB>item_id<TAB>rating<TAB>timestamp with integer ids, no header (MovieLens-100K u.data). Line text: "1\\t2\\t3".`,
      );
    });

    it('rejects a non-numeric id', async () => {
      const { path, error } = await errorFor('id.data', '1\t2\t3\t4\n\n1\tabc\t3\t4\n');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(malformedLine(path, 3, invalidId('item id', 'abc'), expected, '1\tabc\t3\t4'));
    });

    it('rejects a negative user id', async () => {
      const { path, error } = await errorFor('negative.data', '-1\t2\t3\t4\n');

      expect(error.message).toBe(malformedLine(path, 1, invalidId('user id', '-1'), expected, '-1\t2\t3\t4'));
    });

    it('rejects a bad timestamp', async () => {
      const { path, error } = await errorFor('time.data', '1\t2\t3\t2001-01-01\n');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(malformedLine(path, 1, invalidNumber('timestamp', '2001-01-01'), expected, '1\t2\t3\t2001-01-01'));
    });

    it('rejects a bad rating', async () => {
      const { path, error } = await errorFor('rating.data', '1\t2\tfive\t4\n');

      expect(error.message).toBe(malformedLine(path, 1, invalidNumber('rating', 'five'), expected, '1\t2\tfive\t4'));
    });

    it('rejects a wrong separator', async () => {
      const { path, error } = await errorFor('comma.data', '1,2,3,4\n');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(malformedLine(path, 1, wrongSeparator('commas', 'tabs'), expected, '1,2,3,4'));
    });

    it('rejects an empty file', async () => {
      const { path, error } = await errorFor('empty.data', '');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(emptyFile(path, expected));
    });

    it('rejects a file of blank lines', async () => {
      const { path, error } = await errorFor('blank.data', '\n\n \n');

      expect(error.message).toBe(emptyFile(path, expected));
    });

    it('truncates a long offending line', async () => {
      const long = `1\t2\t3\t${'9'.repeat(200)}x`;
      const { error } = await errorFor('long.data', `${long}\n`);

      expect(error.message).toContain(`${JSON.stringify(long.slice(0, MAX_QUOTED_CHARS)).slice(0, -1)}…"`);
      expect(error.message).not.toContain(long.slice(0, MAX_QUOTED_CHARS + 1));
      expect((error as DataFormatError).text).toBe(long);
    });

    it('rejects a missing file', async () => {
      const path = `${temp.path}/missing/u.data`;
      const error = await rejectionOf(parseDelimitedFile(path, MOVIELENS_100K_FORMAT, 'ml-100k'));

      expect(error).toBeInstanceOf(DatasetNotFoundError);
      expect(error.message).toBe(fileNotFound('ml-100k', path));
    });
  });
});

describe('parseSequenceFile', () => {
  it('parses one user per line, oldest item first', async () => {
    const path = temp.write('sequence/ok.txt', '1 10 20 30\n2 20\n');
    const { log } = await parseSequenceFile(path, 'fixture');

    expect(log.rowCount).toBe(4);
    expect(log.rawUserIds).toEqual([1, 2]);
    expect(Array.from(log.users)).toEqual([0, 0, 0, 1]);
    expect(log.rawItemIds).toEqual([10, 20, 30]);
    expect(log.timestamps).toBeNull();
    expect(log.ratings).toBeNull();
  });

  it('accepts runs of spaces and tabs', async () => {
    const path = temp.write('sequence/spaces.txt', '  1   10\t20 \n');
    const { log } = await parseSequenceFile(path, 'fixture');

    expect(log.rawItemIds).toEqual([10, 20]);
  });

  describe('malformed input', () => {
    async function errorFor(name: string, content: string): Promise<{ path: string; error: Error }> {
      const path = temp.write(`sequence-malformed/${name}`, content);
      return { path, error: await rejectionOf(parseSequenceFile(path, 'ml-1m')) };
    }

    it('rejects a line without items', async () => {
      const { path, error } = await errorFor('short.txt', '1 2 3\n4\n');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(malformedLine(path, 2, tooFewFields(2, 1), SEQUENCE_FORMAT_DESCRIPTION, '4'));
    });

    it('rejects a non-numeric item', async () => {
      const { path, error } = await errorFor('id.txt', '1 2 x3\n');

      expect(error.message).toBe(malformedLine(path, 1, invalidId('item id', 'x3'), SEQUENCE_FORMAT_DESCRIPTION, '1 2 x3'));
    });

    it('rejects a non-numeric user', async () => {
      const { path, error } = await errorFor('user.txt', 'u1 2 3\n');

      expect(error.message).toBe(malformedLine(path, 1, invalidId('user id', 'u1'), SEQUENCE_FORMAT_DESCRIPTION, 'u1 2 3'));
    });

    it('rejects an id of more than 15 digits', async () => {
      const { path, error } = await errorFor('big.txt', '1 1234567890123456\n');

      expect(error.message).toBe(malformedLine(path, 1, invalidId('item id', '1234567890123456'), SEQUENCE_FORMAT_DESCRIPTION, '1 1234567890123456'));
    });

    it('rejects a wrong separator', async () => {
      const { path, error } = await errorFor('comma.txt', '1,2,3\n');

      expect(error.message).toBe(malformedLine(path, 1, wrongSeparator('commas', 'spaces'), SEQUENCE_FORMAT_DESCRIPTION, '1,2,3'));
    });

    it('rejects an empty file', async () => {
      const { path, error } = await errorFor('empty.txt', '');

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error.message).toBe(emptyFile(path, SEQUENCE_FORMAT_DESCRIPTION));
    });
  });
});

describe('loadSequenceFile', () => {
  it('concatenates lines of the same user in file order', async () => {
    const path = temp.write('load/repeat-user.txt', '7 1 2\n3 5\n7 9\n');
    const dataset = await loadSequenceFile(path, { name: 'toy' });

    expect(dataset.name).toBe('toy');
    expect(dataset.rawUserIds).toEqual(['3', '7']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['1', '2', '9']);
    expect(dataset.source.format).toBe('user-sequences');
    expect(dataset.source.files).toEqual([path]);
  });

  it('reports skipped blank lines', async () => {
    const path = temp.write('load/blank.txt', '1 2 3\n\n2 3 4\n');
    const dataset = await loadSequenceFile(path);

    expect(dataset.name).toBe('blank.txt');
    expect(dataset.report.steps).toContain(stepBlankLines(1));
  });

  it('rejects a rating threshold before reading', async () => {
    const error = await rejectionOf(loadSequenceFile(`${temp.path}/not-read.txt`, { ratingThreshold: 4 }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(ratingThresholdWithoutRatings('loadSequenceFile', 'user-sequences'));
  });
});

describe('loadInteractionFile', () => {
  it('loads, sorts and filters a u.data file', async () => {
    const path = temp.write(
      'load/u.data',
      ['1\t20\t5\t300', '1\t10\t4\t100', '2\t10\t2\t50', '1\t30\t3\t200', '2\t20\t4\t60'].join('\n'),
    );
    const dataset = await loadInteractionFile(path, MOVIELENS_100K_FORMAT, { ratingThreshold: 4 });

    expect(rawSequenceOf(dataset, 0)).toEqual(['10', '20']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['20']);
    expect(dataset.report.belowRatingThreshold).toBe(2);
    expect(dataset.source.format).toBe('movielens-100k-udata');
    expect(dataset.source.params).toMatchObject({ ratingThreshold: 4, fileBytes: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });
});
