import { join } from 'node:path';
import { rawSequenceOf, rejectionOf, TempDir } from './__fixtures__/temp-files';
import { DataFormatError, DatasetNotFoundError } from './errors';
import { DATASET_IDS, loadDataset } from './loaders';
import { dataDirNotFound, dataDirNotSet, datasetFilesNotFound, invalidArgument, unknownDataset } from './messages';
import { generateSynthetic } from './synthetic';

let temp: TempDir;
const savedDataDir = process.env.MALLOC_DATA_DIR;

beforeAll(() => {
  temp = new TempDir();
});

afterAll(() => {
  temp.remove();
});

afterEach(() => {
  if (savedDataDir === undefined) {
    delete process.env.MALLOC_DATA_DIR;
  } else {
    process.env.MALLOC_DATA_DIR = savedDataDir;
  }
});

describe('loadDataset', () => {
  describe('dataset ids', () => {
    it('lists the accepted ids', () => {
      expect(DATASET_IDS).toEqual([
        'ml-100k',
        'ml-1m',
        'ml-10m',
        'ml-20m',
        'ml-25m',
        'ml-32m',
        'kuairand-1k',
        'kuairand-pure',
        'microvideo1.7m-x1',
        'kuaivideo-x1',
        'amazon-electronics-x1',
        'synthetic',
      ]);
    });

    it('rejects an unknown id with the accepted ones', async () => {
      const error = await rejectionOf(loadDataset('ml-50m'));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(unknownDataset('ml-50m', DATASET_IDS));
      expect(error.message).toBe(
        "Unknown dataset 'ml-50m'. Accepted datasets: 'ml-100k', 'ml-1m', 'ml-10m', 'ml-20m', 'ml-25m', 'ml-32m', 'kuairand-1k', 'kuairand-pure', 'microvideo1.7m-x1', 'kuaivideo-x1', 'amazon-electronics-x1', 'synthetic'.",
      );
    });

    it('rejects an invalid option before reading', async () => {
      const error = await rejectionOf(loadDataset('ml-1m', { dataDir: '/nonexistent', minUserInteractions: -2 }));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(invalidArgument('loadDataset', 'minUserInteractions', 'an integer >= 0', -2));
    });
  });

  describe('missing data', () => {
    it('explains an unset data directory', async () => {
      delete process.env.MALLOC_DATA_DIR;
      const error = await rejectionOf(loadDataset('ml-1m'));

      expect(error).toBeInstanceOf(DatasetNotFoundError);
      expect(error.message).toBe(dataDirNotSet('ml-1m'));
      expect(error.message).toContain('MALLOC_DATA_DIR');
      expect(error.message).toContain('https://grouplens.org/datasets/movielens/');
    });

    it('names a missing data directory', async () => {
      const missing = join(temp.path, 'no-such-dir');
      const error = await rejectionOf(loadDataset('ml-100k', { dataDir: missing }));

      expect(error).toBeInstanceOf(DatasetNotFoundError);
      expect(error.message).toBe(dataDirNotFound('ml-100k', missing));
      expect(error.message).toContain(`unpack it into ${join(missing, 'ml-100k')}/`);
    });

    it('names every file tried for ml-1m', async () => {
      const dataDir = join(temp.path, 'empty-data');
      temp.write('empty-data/ml-1m/README', 'not data');
      const error = await rejectionOf(loadDataset('ml-1m', { dataDir }));
      const tried = [join(dataDir, 'ml-1m', 'ratings.dat'), join(dataDir, 'ml-1m', 'sequences.txt')];

      expect(error).toBeInstanceOf(DatasetNotFoundError);
      expect(error.message).toBe(datasetFilesNotFound('ml-1m', dataDir, tried));
      expect((error as DatasetNotFoundError).paths).toEqual(tried);
      expect(error.message).toContain("Dataset 'ml-1m' not found");
    });

    it('reads the directory from MALLOC_DATA_DIR', async () => {
      const dataDir = join(temp.path, 'env-data');
      temp.write('env-data/ml-100k/u.data', '1\t5\t3\t10\n');
      process.env.MALLOC_DATA_DIR = dataDir;
      const dataset = await loadDataset('ml-100k');

      expect(dataset.name).toBe('ml-100k');
      expect(dataset.source.files).toEqual([join(dataDir, 'ml-100k', 'u.data')]);
      expect(dataset.source.params).toMatchObject({ dataDir });
    });
  });

  describe('ml-1m sources', () => {
    it('prefers ratings.dat over sequences.txt', async () => {
      const dataDir = join(temp.path, 'both');
      temp.write('both/ml-1m/ratings.dat', '1::30::5::300\n1::10::4::100\n1::20::3::200\n');
      temp.write('both/ml-1m/sequences.txt', '1 99 98\n');
      const dataset = await loadDataset('ml-1m', { dataDir });

      expect(dataset.source.format).toBe('movielens-1m-ratings');
      expect(rawSequenceOf(dataset, 0)).toEqual(['10', '20', '30']);
      expect(Array.from(dataset.ratings ?? [])).toEqual([4, 3, 5]);
    });

    it('falls back to sequences.txt', async () => {
      const dataDir = join(temp.path, 'sequences-only');
      temp.write('sequences-only/ml-1m/sequences.txt', '1 99 98\n');
      const dataset = await loadDataset('ml-1m', { dataDir });

      expect(dataset.source.format).toBe('user-sequences');
      expect(rawSequenceOf(dataset, 0)).toEqual(['99', '98']);
      expect(dataset.timestamps).toBeNull();
    });

    it('reports malformed lines with the file name', async () => {
      const dataDir = join(temp.path, 'bad');
      const path = temp.write('bad/ml-1m/ratings.dat', '1::30::5::300\n1::30::5\n');
      const error = await rejectionOf(loadDataset('ml-1m', { dataDir }));

      expect(error).toBeInstanceOf(DataFormatError);
      expect(error).toMatchObject({ file: path, line: 2 });
    });
  });

  describe('synthetic', () => {
    it('matches generateSynthetic without a directory', async () => {
      delete process.env.MALLOC_DATA_DIR;
      const options = { users: 50, items: 40, meanLength: 12, maxLength: 30, seed: 9 };
      const loaded = await loadDataset('synthetic', { synthetic: options });
      const generated = generateSynthetic(options);

      expect(loaded.items).toEqual(generated.items);
      expect(loaded.offsets).toEqual(generated.offsets);
      expect(loaded.source.params).toEqual(generated.source.params);
    });

    it('applies preprocessing options to generated data', async () => {
      const options = { users: 50, items: 40, meanLength: 12, maxLength: 30, seed: 9 };
      const loaded = await loadDataset('synthetic', { synthetic: options, dedupe: 'keep-first', minUserInteractions: 10 });
      const lengths = Array.from({ length: loaded.userCount }, (_, user) => loaded.offsets[user + 1] - loaded.offsets[user]);

      expect(Math.min(...lengths)).toBeGreaterThanOrEqual(10);
      expect(loaded.report.duplicatesRemoved).toBeGreaterThan(0);
      expect(loaded.source.params).toMatchObject({ dedupe: 'keep-first', minUserInteractions: 10 });
    });

    it('names loadDataset in generator option errors', async () => {
      const error = await rejectionOf(loadDataset('synthetic', { synthetic: { users: 0 } }));

      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toBe(invalidArgument('loadDataset', 'synthetic.users', 'an integer >= 1', 0));
    });
  });
});
