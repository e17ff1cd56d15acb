import { HOSTILE_NAME } from './__fixtures__/rows';
import { methodPageFile, parseMethodCatalogue } from './methods';

describe('methodPageFile', () => {
  it('keeps a plain id', () => {
    expect(methodPageFile('snapkv')).toBe('method-snapkv.html');
    expect(methodPageFile('streaming-llm')).toBe('method-streaming-llm.html');
  });

  it('adds a hash when the name changes', () => {
    expect(methodPageFile('snapkv+kivi')).toMatch(/^method-snapkv-kivi-[0-9a-f]{8}\.html$/);
    expect(methodPageFile('SnapKV')).toMatch(/^method-snapkv-[0-9a-f]{8}\.html$/);
    expect(methodPageFile('SnapKV')).not.toBe(methodPageFile('snapkv'));
  });

  it('keeps a hostile name out of the path', () => {
    expect(methodPageFile(HOSTILE_NAME)).toMatch(/^method-img-src-x-onerror-alert-1-[0-9a-f]{8}\.html$/);
    expect(methodPageFile('../../etc')).toMatch(/^method-etc-[0-9a-f]{8}\.html$/);
    expect(methodPageFile('+')).toMatch(/^method-x-[0-9a-f]{8}\.html$/);
  });
});

describe('parseMethodCatalogue', () => {
  it('reads entries in the registry format', () => {
    const entries = parseMethodCatalogue([{ id: 'snapkv', name: 'SnapKV', family: 'token-pruning', granularity: 'token', paper: 'Li et al., 2024', reads: ['keys'], parameters: [{ name: 'compressionRatio', description: 'removed share' }], needsTraining: false }], 'methods.json');

    expect(entries).toEqual([{ id: 'snapkv', name: 'SnapKV', family: 'token-pruning', granularity: 'token', paper: 'Li et al., 2024', reads: ['keys'], parameters: [{ name: 'compressionRatio', description: 'removed share' }] }]);
  });

  it('rejects an entry without an id', () => {
    expect(() => parseMethodCatalogue([{ name: 'x' }], 'methods.json')).toThrow(TypeError);
  });

  it('rejects a file that is not an array', () => {
    expect(() => parseMethodCatalogue({ id: 'x' }, 'methods.json')).toThrow(TypeError);
  });
});
