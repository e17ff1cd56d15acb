import { rawSequenceOf, rejectionOf, sequenceOf, TempDir } from './__fixtures__/temp-files';
import { DataFormatError } from './errors';
import { loadAmazonRatings, loadDelimited, loadRecBoleInter } from './delimited-loaders';
import { InteractionLogBuilder } from './interaction-log';
import { loadDataset } from './loaders';
import { invalidArgument, invalidLabel, missingHeaderColumn, mixedIdKinds, recBoleIdNotToken } from './messages';

let temp: TempDir;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

describe('loadDataset MovieLens 10M to 32M', () => {
  it('reads ml-10m ratings.dat with half stars', async () => {
    const dir = `${temp.path}/ten`;
    temp.write('ten/ml-10m/ratings.dat', '1::122::5::838985046\n1::185::4.5::838983525\n2::122::3.5::868245777\n');

    const dataset = await loadDataset('ml-10m', { dataDir: dir });

    // User 1 rated 185 (t = 838983525) before 122 (t = 838985046).
    expect(rawSequenceOf(dataset, 0)).toEqual(['185', '122']);
    expect(Array.from(dataset.ratings ?? [])).toEqual([4.5, 5, 3.5]);
    expect(dataset.source.format).toBe('movielens-10m-ratings');
  });

  it('finds ml-10m in the archive folder ml-10M100K', async () => {
    const dir = `${temp.path}/ten-archive`;
    temp.write('ten-archive/ml-10M100K/ratings.dat', '1::122::5::838985046\n');

    const dataset = await loadDataset('ml-10m', { dataDir: dir });

    expect(dataset.source.files[0]).toBe(`${dir}/ml-10M100K/ratings.dat`);
  });

  it.each(['ml-20m', 'ml-25m', 'ml-32m'])('reads %s ratings.csv after its header', async (id) => {
    const dir = `${temp.path}/${id}-root`;
    temp.write(`${id}-root/${id}/ratings.csv`, 'userId,movieId,rating,timestamp\r\n1,296,5.0,1147880044\r\n1,306,3.5,1147868817\r\n3,2,0.5,1439472215\r\n');

    const dataset = await loadDataset(id, { dataDir: dir });

    expect(dataset.userCount).toBe(2);
    expect(rawSequenceOf(dataset, 0)).toEqual(['306', '296']);
    expect(dataset.report.rowsRead).toBe(3);
    expect(dataset.name).toBe(id);
  });
});

describe('InteractionLogBuilder ids', () => {
  it('interns small and large integer ids alike', () => {
    // 4,194,304 = 2^22 is the first id above the typed-array lookup; larger ones use a Map.
    const builder = new InteractionLogBuilder(false, false);
    builder.add(5, 4_194_303);
    builder.add(10_000_000_000, 4_194_304);
    builder.add(5, 4_194_304);
    builder.add(10_000_000_000, 4_194_303);

    const log = builder.finish();

    expect(log.rawUserIds).toEqual([5, 10_000_000_000]);
    expect(log.rawItemIds).toEqual([4_194_303, 4_194_304]);
    expect(Array.from(log.users)).toEqual([0, 1, 0, 1]);
    expect(Array.from(log.items)).toEqual([0, 1, 1, 0]);
  });


  it('rejects mixing integer and string ids', () => {
    const builder = new InteractionLogBuilder(false, false);
    builder.add(1, 2);

    expect(() => builder.addKeyed('a', 'b')).toThrow(new TypeError(mixedIdKinds('integer', 'string')));
  });
});

describe('loadAmazonRatings', () => {
  it('keeps ASINs verbatim and orders them as strings', async () => {
    const path = temp.write(
      'ratings_Beauty.csv',
      'A39HTATAQ9V7YF,0205616461,5.0,1369699200\nA3JM6GV9MNOF9X,0558925278,3.0,1355443200\nA39HTATAQ9V7YF,0000013714,4.0,1369000000\n',
    );

    const dataset = await loadAmazonRatings(path, { name: 'amazon-beauty' });

    // Items in code-unit order: '0000013714' < '0205616461' < '0558925278', ids 1, 2, 3.
    expect(dataset.rawItemIds).toEqual(['', '0000013714', '0205616461', '0558925278']);
    expect(dataset.rawUserIds).toEqual(['A39HTATAQ9V7YF', 'A3JM6GV9MNOF9X']);
    // The first user rated 0000013714 (t = 1369000000) before 0205616461 (t = 1369699200).
    expect(sequenceOf(dataset, 0)).toEqual([1, 2]);
    expect(dataset.source.format).toBe('amazon-ratings-csv');
  });
});

describe('loadDelimited', () => {
  it('maps columns by header name and keeps labels', async () => {
    const path = temp.write('clicks.csv', 'ts,uid,extra,iid,clicked\n30,u2,x,i1,1\n10,u1,y,i2,0\n20,u1,z,i1,1\n');

    const dataset = await loadDelimited(path, {
      separator: ',',
      header: true,
      idType: 'string',
      columns: { user: 'uid', item: 'iid', timestamp: 'ts', label: 'clicked' },
    });

    // u1: i2 at 10 (label 0), i1 at 20 (label 1); u2: i1 at 30 (label 1).
    expect(rawSequenceOf(dataset, 0)).toEqual(['i2', 'i1']);
    expect(rawSequenceOf(dataset, 1)).toEqual(['i1']);
    expect(Array.from(dataset.labels ?? [])).toEqual([0, 1, 1]);
    expect(dataset.ratings).toBeNull();
  });

  it('maps columns by index without a header', async () => {
    const path = temp.write('pipes.txt', '7|100|2\n7|50|1\n');

    const dataset = await loadDelimited(path, { separator: '|', header: false, columns: { user: 0, item: 1, timestamp: 2 } });

    expect(rawSequenceOf(dataset, 0)).toEqual(['50', '100']);
  });

  it('rejects an unknown header name', async () => {
    const path = temp.write('named.csv', 'a,b\n1,2\n');

    const error = await rejectionOf(loadDelimited(path, { separator: ',', header: true, columns: { user: 'a', item: 'item' } }));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(missingHeaderColumn('loadDelimited', 'columns.item', 'item', ['a', 'b']));
  });

  it('rejects a name without a header', async () => {
    const path = temp.write('nameless.csv', '1,2\n');

    const error = await rejectionOf(loadDelimited(path, { separator: ',', header: false, columns: { user: 0, item: 'b' } }));

    expect(error.message).toBe(invalidArgument('loadDelimited', 'columns.item', 'a column index, because names need header: true', 'b'));
  });

  it('rejects two meanings on one column', async () => {
    const path = temp.write('twice.csv', '1,2\n');

    const error = await rejectionOf(loadDelimited(path, { separator: ',', header: false, columns: { user: 0, item: 0 } }));

    expect(error.message).toBe(invalidArgument('loadDelimited', 'columns.item', "a column not already used by 'user'", 0));
  });

  it('rejects a label other than 0 or 1', async () => {
    const path = temp.write('bad-label.csv', '1,2,0\n1,3,2\n');

    const error = await rejectionOf(loadDelimited(path, { separator: ',', header: false, columns: { user: 0, item: 1, label: 2 } }));

    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as DataFormatError).line).toBe(2);
    expect(error.message).toContain(invalidLabel('2'));
  });
});

describe('loadRecBoleInter', () => {
  it('reads typed headers and numbers numeric tokens numerically', async () => {
    const path = temp.write(
      'ml.inter',
      'user_id:token\titem_id:token\trating:float\ttimestamp:float\n10\t2\t4\t978300760\n10\t100\t5\t978300000\n9\t2\t3\t978301000\n',
    );

    const dataset = await loadRecBoleInter(path, { name: 'ml-tiny' });

    // Numeric order: users 9 < 10, items 2 < 100 (as strings '100' < '2').
    expect(dataset.rawUserIds).toEqual(['9', '10']);
    expect(dataset.rawItemIds).toEqual(['', '2', '100']);
    // User 10: item 100 at 978300000, then item 2 at 978300760.
    expect(sequenceOf(dataset, 1)).toEqual([2, 1]);
    expect(Array.from(dataset.ratings ?? [])).toEqual([3, 5, 4]);
    expect(dataset.source.format).toBe('recbole-inter');
  });

  it('reads a label field and ignores other fields', async () => {
    const path = temp.write('ctr.inter', 'user_id:token\titem_id:token\tlabel:float\ttags:token_seq\nu\ta\t1\tx y\nu\tb\t0\tz\n');

    const dataset = await loadRecBoleInter(path);

    expect(Array.from(dataset.labels ?? [])).toEqual([1, 0]);
    expect(dataset.timestamps).toBeNull();
  });

  it('rejects an id field that is not a token', async () => {
    const path = temp.write('float-id.inter', 'user_id:float\titem_id:token\n1\t2\n');

    const error = await rejectionOf(loadRecBoleInter(path));

    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(recBoleIdNotToken('loadRecBoleInter', 'user_id', 'float'));
  });

  it('rejects a header without types', async () => {
    const path = temp.write('plain.inter', 'user_id\titem_id\n1\t2\n');

    const error = await rejectionOf(loadRecBoleInter(path));

    expect(error).toBeInstanceOf(DataFormatError);
  });
});
