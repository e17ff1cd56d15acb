import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { complexityCurves, writeComplexityCurves, type ComplexityCurveRecord } from './complexity-curves';
import { resolveConfig } from './config';

function curve(dataset: string, model: string, value: number): ComplexityCurveRecord {
  return { dataset, model, task: 'retrieval', family: 'reference', strategy: 'full', setting: '', measure: 'bytes per user (analytical)', unit: 'bytes', points: [{ historyLength: 1, value }] };
}

describe('complexity curves', () => {
  it('replace curves of the same key and keep the others', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-complexity-'));

    writeComplexityCurves(out, [curve('ml-1m', 'sasrec', 1), curve('ml-100k', 'sasrec', 2)]);
    writeComplexityCurves(out, [curve('ml-1m', 'sasrec', 3)]);
    const { curves } = JSON.parse(readFileSync(join(out, 'complexity.json'), 'utf8')) as { curves: ComplexityCurveRecord[] };

    expect(curves.map((entry) => [entry.dataset, entry.points[0].value])).toEqual([
      ['ml-100k', 2],
      ['ml-1m', 3],
    ]);
  });

  it('reject an existing file that is not JSON', () => {
    const out = mkdtempSync(join(tmpdir(), 'malloc-complexity-'));
    writeFileSync(join(out, 'complexity.json'), '{ not json');

    expect(() => writeComplexityCurves(out, [curve('ml-1m', 'sasrec', 1)])).toThrow(/Invalid .*complexity\.json/);
  });

  it('skip models without an analytical model', () => {
    const config = resolveConfig(null, { preset: 'smoke', models: ['sasrec'], model: { kvLatentSize: 8 } as never });

    expect(complexityCurves(config, 'synthetic', 100, false)).toEqual([]);
    expect(complexityCurves({ ...config, model: { ...config.model, kvLatentSize: undefined } }, 'synthetic', 100, false).length).toBeGreaterThan(0);
  });
});
