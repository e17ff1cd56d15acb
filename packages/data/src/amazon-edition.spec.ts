import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { AMAZON_DETECTION_LINES, detectAmazonEdition } from './amazon-edition';
import { loadAmazonRatings } from './delimited-loaders';
import { DataFormatError } from './errors';
import { AMAZON_2018_RATINGS_FORMAT } from './formats';
import { AMAZON_EDITION_EXPECTED, amazonEditionUndetected, invalidArgument, invalidNumber, malformedLine } from './messages';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

/** Rows of two users as 2014 lines (user first); the 2018 fixture swaps the first two fields. */
const ROWS_2014 = ['A39HTATAQ9V7YF,0205616461,5.0,1369699200', 'A3JM6GV9MNOF9X,B00004U9V2,3.0,1355443200', 'A39HTATAQ9V7YF,000001371X,4.0,1369000000'];
const ROWS_2018 = ROWS_2014.map((line) => {
  const [user, item, rating, timestamp] = line.split(',');
  return [item, user, rating, timestamp].join(',');
});

describe('loadAmazonRatings edition 2018', () => {
  it('reads item,user,rating,timestamp lines', async () => {
    const path = temp.write('2018/Beauty.csv', `${ROWS_2018.join('\n')}\n`);

    const dataset = await loadAmazonRatings(path, { edition: 2018 });

    // User A39HTATAQ9V7YF rated 000001371X (t = 1369000000) before 0205616461 (t = 1369699200).
    expect(dataset.rawUserIds).toEqual(['A39HTATAQ9V7YF', 'A3JM6GV9MNOF9X']);
    expect(rawSequenceOf(dataset, 0)).toEqual(['000001371X', '0205616461']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['B00004U9V2']);
    expect(Array.from(dataset.ratings ?? [])).toEqual([4, 5, 3]);
    expect(dataset.source.format).toBe(AMAZON_2018_RATINGS_FORMAT.name);
    expect(dataset.source.params).toMatchObject({ edition: 2018, editionDetected: false });
  });

  it('gives the same sequences as the 2014 order', async () => {
    const path2014 = temp.write('same/ratings_Beauty.csv', `${ROWS_2014.join('\n')}\n`);
    const path2018 = temp.write('same/Beauty.csv', `${ROWS_2018.join('\n')}\n`);

    const from2014 = await loadAmazonRatings(path2014);
    const from2018 = await loadAmazonRatings(path2018, { edition: 2018 });

    expect(Array.from(from2018.items)).toEqual(Array.from(from2014.items));
    expect(from2018.rawItemIds).toEqual(from2014.rawItemIds);
    expect(from2018.rawUserIds).toEqual(from2014.rawUserIds);
  });

  it('reports a bad rating with file and line', async () => {
    const path = temp.write('bad/Beauty.csv', `${ROWS_2018[0]}\n0205616461,A3JM6GV9MNOF9X,five,1355443200\n`);

    const error = await rejectionOf(loadAmazonRatings(path, { edition: 2018 }));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 2, invalidNumber('rating', 'five'), AMAZON_2018_RATINGS_FORMAT.description, '0205616461,A3JM6GV9MNOF9X,five,1355443200'));
    expect((error as DataFormatError).line).toBe(2);
  });

  it('rejects an unknown edition', async () => {
    const error = await rejectionOf(loadAmazonRatings('unused.csv', { edition: 2016 as never }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(invalidArgument('loadAmazonRatings', 'edition', "2014, 2018 or 'auto'", 2016));
  });
});

describe('detectAmazonEdition', () => {
  it('detects both orders', async () => {
    const path2014 = temp.write('detect/ratings_Beauty.csv', `${ROWS_2014.join('\n')}\n`);
    const path2018 = temp.write('detect/Beauty.csv', `\uFEFF${ROWS_2018.join('\r\n')}\r\n`);

    expect(await detectAmazonEdition(path2014, 'beauty')).toBe(2014);
    expect(await detectAmazonEdition(path2018, 'beauty')).toBe(2018);
  });

  it('loads with edition auto', async () => {
    const path = temp.write('auto/Beauty.csv', `${ROWS_2018.join('\n')}\n`);

    const dataset = await loadAmazonRatings(path, { edition: 'auto' });

    expect(dataset.source.format).toBe(AMAZON_2018_RATINGS_FORMAT.name);
    expect(dataset.source.params).toMatchObject({ edition: 2018, editionDetected: true });
    expect(dataset.report.rowsRead).toBe(3);
  });

  it('rejects fields that fit neither order', async () => {
    // Two ASINs: no reviewer id, so the order is unknown.
    const line = '0205616461,B00004U9V2,5.0,1369699200';
    const path = temp.write('neither/Beauty.csv', `${ROWS_2018[0]}\n${line}\n`);

    const error = await rejectionOf(detectAmazonEdition(path, 'beauty'));

    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toBe(malformedLine(path, 2, amazonEditionUndetected('the first two fields are not a reviewer id and an ASIN in either order'), AMAZON_EDITION_EXPECTED, line));
    expect((error as DataFormatError).text).toBe(line);
  });

  it('rejects a file that mixes both orders', async () => {
    const path = temp.write('mixed/Beauty.csv', `${ROWS_2014[0]}\n${ROWS_2014[1]}\n${ROWS_2018[2]}\n`);

    const error = await rejectionOf(detectAmazonEdition(path, 'beauty'));

    expect(error.message).toBe(malformedLine(path, 3, amazonEditionUndetected('this line has the 2018 order but earlier lines have the 2014 order'), AMAZON_EDITION_EXPECTED, ROWS_2018[2]));
  });

  it('inspects only the first lines', async () => {
    // The mixed line comes after the inspected ones, so detection succeeds.
    const lines = Array.from({ length: AMAZON_DETECTION_LINES }, () => ROWS_2014[0]);
    const path = temp.write('long/ratings_Beauty.csv', `${lines.join('\n')}\n${ROWS_2018[0]}\n`);

    expect(await detectAmazonEdition(path, 'beauty')).toBe(2014);
  });

  it('rejects a file without data lines', async () => {
    const path = temp.write('empty/Beauty.csv', '\n  \n');

    const error = await rejectionOf(detectAmazonEdition(path, 'beauty'));

    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).line).toBe(0);
  });
});
