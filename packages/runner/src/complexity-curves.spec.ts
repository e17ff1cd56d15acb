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

  it('of a variant give full and recompute under its label', () => {
    const config = resolveConfig(null, { preset: 'smoke', models: ['sasrec', 'gru4rec'], model: { kvLatentSize: 8 } as never });
    const curves = complexityCurves(config, 'synthetic', 100, false);

    expect(curves.map((entry) => [entry.model, entry.strategy, entry.measure])).toEqual([
      ['sasrec-mla8', 'full', 'bytes per user (analytical)'],
      ['sasrec-mla8', 'full', 'MACs per request (analytical)'],
      ['sasrec-mla8', 'recompute', 'MACs per request (analytical)'],
    ]);

    // d 16, 2 layers, 1 head, r 8, 100 items, one cached token. Bytes: 2 layers · 8 · 4.
    // Cached request per layer: Q 256 + latent 128 + O 256, W_k and W_v folded into the query
    // 8 · 32, scores and sums over latents 2 pairs · 2 · 8, FFN 512; plus scoring 1,600.
    expect(curves[0].points[0]).toEqual({ historyLength: 1, value: 64 });
    expect(curves[1].points[0].value).toBe(2 * (640 + 256 + 32 + 512) + 1600);
    // Recompute of 2 tokens per layer: 2 · 640, up projection 2 · 8 · 32, 3 pairs · 32, FFN 2 · 512.
    expect(curves[2].points[0].value).toBe(2 * (1280 + 512 + 96 + 1024) + 1600);
  });

  it('of HSTU count timestamps only when it reads them', () => {
    const plain = resolveConfig(null, { preset: 'smoke', models: ['hstu'] });
    const timeless = resolveConfig(null, { preset: 'smoke', models: ['hstu'], model: { timeBias: false } as never });
    const bytesAt1 = (curves: ComplexityCurveRecord[]): number => curves.filter((entry) => entry.strategy === 'full' && entry.measure.startsWith('bytes'))[0].points[0].value;

    // d 16, 2 layers, 1 head of width 16: K and V are 2 · 16 · 4 = 128 bytes per layer, plus 8 bytes of timestamp.
    expect(bytesAt1(complexityCurves(plain, 'synthetic', 100, true))).toBe(2 * (128 + 8));
    expect(bytesAt1(complexityCurves(timeless, 'synthetic', 100, true))).toBe(2 * 128);
    expect(complexityCurves(timeless, 'synthetic', 100, true)[0].model).toBe('hstu-notime');
  });

  it('of a GQA run carry its row label', () => {
    const config = resolveConfig(null, { preset: 'smoke', models: ['sasrec'], model: { heads: 2, kvHeads: 1 } as never });
    const labels = new Set(complexityCurves(config, 'synthetic', 100, false).map((entry) => entry.model));

    expect([...labels]).toEqual(['sasrec-mqa']);
  });

  it('of a beacon model follow the condensed rows', () => {
    const config = resolveConfig(null, { preset: 'smoke', models: ['sasrec'], model: { beacon: { chunkSize: 8, beaconsPerChunk: 2 } } as never });
    const bytes = complexityCurves(config, 'synthetic', 100, false)[0];

    // 16 items are 2 condensed chunks of 2 rows. Positions 6, 7, 14 and 15 have gaps, so the
    // cache stores int32 positions too: 2 layers · 4 rows · ((16 + 16) · 4 + 4) bytes.
    expect(bytes.model).toBe('sasrec-beacon8x2');
    expect(bytes.points.find((point) => point.historyLength === 16)?.value).toBe(2 * 4 * (32 * 4 + 4));
  });
});
