import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, readConfigFile, resolveConfig, validateConfigInput } from './config';
import { unknownPreset } from './messages';
import { PRESETS } from './presets';

describe('resolveConfig', () => {
  it('applies defaults < preset < file < command line', () => {
    const file = { dataset: 'ml-100k', training: { epochs: 9, batchSize: 64 } };
    const cli = { training: { epochs: 3 } };

    const config = resolveConfig(file, cli);

    expect(config.preset).toBe('quick');
    expect(config.dataset).toBe('ml-100k');
    expect(config.training.epochs).toBe(3);
    expect(config.training.batchSize).toBe(64);
    expect(config.training.negatives).toBe(PRESETS.quick.training?.negatives);
    expect(config.evaluation.ks).toEqual(DEFAULT_CONFIG.evaluation.ks);
  });

  it('takes the preset named on the command line over the file', () => {
    const config = resolveConfig({ preset: 'paper' }, { preset: 'smoke' });

    expect(config.preset).toBe('smoke');
    expect(config.model.hiddenSize).toBe(PRESETS.smoke.model?.hiddenSize);
  });

  it('trains every epoch with the paper preset', () => {
    const config = resolveConfig(null, { preset: 'paper' });

    expect(config.training.epochs).toBe(100);
    expect(config.training.patience).toBeNull();
  });

  it('rejects an unknown preset naming the accepted ones', () => {
    expect(() => resolveConfig(null, { preset: 'fast' })).toThrow(unknownPreset('fast', ['smoke', 'quick', 'paper']));
  });

  it('leaves the defaults untouched', () => {
    resolveConfig(null, { compressionRatios: [0.1], training: { epochs: 1 } });

    expect(DEFAULT_CONFIG.compressionRatios).toEqual([0.5, 0.75, 0.875]);
    expect(DEFAULT_CONFIG.training.epochs).toBe(12);
  });
});

describe('validateConfigInput', () => {
  it('lists every invalid key with its path', () => {
    const run = (): unknown => validateConfigInput({ training: { epochs: 0, optimiser: 'sgd' }, backend: 'gpu' }, 'test input');

    expect(run).toThrow(TypeError);
    expect(run).toThrow(/training: must NOT have additional properties 'optimiser' \(valid keys: epochs, batchSize/);
    expect(run).toThrow(/training\.epochs: must be >= 1/);
    expect(run).toThrow(/backend: must be equal to one of the allowed values \(auto, tensorflow, wasm, cpu\)/);
  });

  it('accepts training workers of at least 1', () => {
    expect(resolveConfig(null, validateConfigInput({ training: { workers: 2 } }, 'test input')).training.workers).toBe(2);
    expect(() => validateConfigInput({ training: { workers: 0 } }, 'test input')).toThrow(/training\.workers: must be >= 1/);
    expect(DEFAULT_CONFIG.training.workers).toBeUndefined();
  });
});

describe('config key hints', () => {
  it('names the config key of a command-line option', () => {
    expect(() => validateConfigInput({ ratios: [0.5] }, 'test input')).toThrow(/'ratios' \(the config key is 'compressionRatios'\)/);
  });

  it('suggests a near-miss key', () => {
    expect(() => validateConfigInput({ strategis: ['full'] }, 'test input')).toThrow(/'strategis' \(did you mean 'strategies'\?\)/);
  });
});

describe('readConfigFile', () => {
  const folder = mkdtempSync(join(tmpdir(), 'malloc-config-'));

  it('reads YAML as data', () => {
    const path = join(folder, 'run.yaml');
    writeFileSync(path, 'dataset: ml-1m\nseeds: [1, 2]\ntraining:\n  epochs: 4\n');

    expect(readConfigFile(path)).toEqual({ dataset: 'ml-1m', seeds: [1, 2], training: { epochs: 4 } });
  });

  it('rejects YAML tags that would construct objects', () => {
    const path = join(folder, 'tagged.yaml');
    writeFileSync(path, 'dataset: !!js/function "function () { return 1 }"\n');

    expect(() => readConfigFile(path)).toThrow(/tagged\.yaml/);
  });

  it('names the file when JSON is malformed', () => {
    const path = join(folder, 'broken.json');
    writeFileSync(path, '{"dataset": ');

    expect(() => readConfigFile(path)).toThrow(/Cannot read config file '.*broken\.json'/);
  });

  it('names a missing file', () => {
    expect(() => readConfigFile(join(folder, 'absent.json'))).toThrow(/Cannot read config file '.*absent\.json'/);
  });
});
