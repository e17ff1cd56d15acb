import { noStats } from '../__fixtures__/helpers';
import { invalidArgument, missingParameter, unknownParameter, unknownStrategy } from '../messages';
import { createStrategy, listMethods, STRATEGY_REGISTRY } from './index';

const ids = ['full', 'window', 'streaming-llm', 'random', 'knorm', 'h2o', 'tova', 'snapkv', 'pyramidkv', 'int8', 'int4', 'int2', 'kivi', 'intactkv', 'window-global', 'cam-merge', 'kmeans', 'svd', 'shared-basis', 'ada-snapkv', 'ada-h2o', 'snapkv+kivi', 'window+int8', 'streaming-llm+int4'];

function requiredParams(id: string): Record<string, unknown> {
  const method = listMethods().find((item) => item.id === id);
  return Object.fromEntries((method?.parameters ?? []).filter((parameter) => parameter.required).map((parameter) => [parameter.name, 0.5]));
}

describe('strategy registry', () => {
  it('lists every method in order', () => {
    expect(listMethods().map((method) => method.id)).toEqual(ids);
    expect([...STRATEGY_REGISTRY.keys()]).toEqual(ids);
  });

  it('describes every method as training-free with a paper', () => {
    for (const method of listMethods()) {
      expect(method.needsTraining).toBe(false);
      expect(method.paper).toMatch(/\d{4}/);
      expect(method.name.length).toBeGreaterThan(0);
    }
  });

  it('creates a fresh instance with the requested id on every call', () => {
    for (const id of ids) {
      const first = createStrategy(id, requiredParams(id));
      const second = createStrategy(id, requiredParams(id));
      expect(first).not.toBe(second);
      expect(first.id).toBe(id);
    }
  });

  it('documents the defaults the strategies use', () => {
    for (const method of listMethods()) {
      const strategy = createStrategy(method.id, requiredParams(method.id));
      for (const parameter of method.parameters ?? []) {
        const expected = parameter.required ? 0.5 : parameter.defaultValue;
        expect([method.id, parameter.name, strategy.params[parameter.name]]).toEqual([method.id, parameter.name, expected]);
      }
      // No resolved parameter is missing from the description, except bits fixed by an int id
      // and the parts' own parameters that a chain records under a `pruning.` or `precision.` prefix.
      const described = (method.parameters ?? []).map((parameter) => parameter.name);
      const fixedByChain = (name: string): boolean => method.family === 'pruning+quantisation' && /^(pruning|precision)\./.test(name);
      const undocumented = Object.keys(strategy.params).filter((name) => !described.includes(name) && !(name === 'bits' && /^int\d$/.test(method.id)) && !fixedByChain(name));
      expect([method.id, undocumented]).toEqual([method.id, []]);
    }
  });

  it('passes parameters through', () => {
    const strategy = createStrategy('snapkv', { compressionRatio: 0.75, window: 8, kernelSize: 3, pooling: 'max' });
    expect(strategy.params).toEqual({ compressionRatio: 0.75, window: 8, kernelSize: 3, pooling: 'max' });
    expect(createStrategy('int4', { groupSize: 64, axis: 'per-channel' }).params).toEqual({ bits: 4, groupSize: 64, axis: 'per-channel' });
  });

  it('rejects an unknown id, listing the accepted ids', () => {
    expect(() => createStrategy('snap-kv', {})).toThrow(new RangeError(unknownStrategy('snap-kv', ids)));
  });

  it('rejects an unknown parameter, listing the accepted ones', () => {
    expect(() => createStrategy('window', { compressionRatio: 0.5, ratio: 0.5 })).toThrow(new RangeError(unknownParameter('window', 'ratio', ['compressionRatio'])));
    expect(() => createStrategy('full', { compressionRatio: 0.5 })).toThrow(new RangeError(unknownParameter('full', 'compressionRatio', [])));
  });

  it('rejects a missing budget', () => {
    expect(() => createStrategy('snapkv', {})).toThrow(new RangeError(missingParameter('snapkv', 'compressionRatio')));
  });

  it('rejects values of the wrong type or range', () => {
    expect(() => createStrategy('window', { compressionRatio: '0.5' })).toThrow(new TypeError(invalidArgument('createStrategy("window")', 'compressionRatio', 'a number', '"0.5"')));
    expect(() => createStrategy('streaming-llm', { compressionRatio: 0.5, sinks: 2.5 })).toThrow(new RangeError(invalidArgument('createStrategy("streaming-llm")', 'sinks', 'an integer', '2.5')));
    expect(() => createStrategy('snapkv', { compressionRatio: 0.5, pooling: 'sum' })).toThrow(new RangeError(invalidArgument('createStrategy("snapkv")', 'pooling', 'one of "avg", "max"', '"sum"')));
    expect(() => createStrategy('kivi', { bits: 3 })).toThrow(RangeError);
    expect(() => createStrategy('window', { compressionRatio: 1 })).toThrow(RangeError);
    expect(() => createStrategy('window', null as unknown as Record<string, unknown>)).toThrow(TypeError);
  });

  it('creates strategies that compress', () => {
    const strategy = createStrategy('full');
    expect(strategy.compress({ layers: [], seenTokens: 0, itemIds: new Int32Array(0) }, noStats).layers).toEqual([]);
  });
});
