import { createSasRec, initBackend } from '../../src/index';
import { expectClose } from '../tolerance';

/** Top-k item ids by score, ties to the lower id, padding never included. */
function topK(scores: Float32Array, k: number): number[] {
  const ids = Array.from({ length: scores.length - 1 }, (_, i) => i + 1);
  ids.sort((a, b) => scores[b] - scores[a] || a - b);
  return ids.slice(0, k);
}

describe('SasRec across backends', () => {
  it('cpu and wasm give the same weights, hidden states and top-10', async () => {
    const histories = [new Int32Array([3, 9, 27, 4]), new Int32Array([0, 0, 12]), Int32Array.from({ length: 30 }, (_, i) => (i * 11) % 60 + 1)];
    const run = async (backend: 'cpu' | 'wasm'): Promise<{ hidden: Float32Array[]; scores: Float32Array[] }> => {
      await initBackend(backend);
      const model = createSasRec({ itemCount: 60, maxLength: 20, hiddenSize: 16, heads: 2 }, 21);
      const hidden = histories.map((history) => model.forwardLast(history));
      const scores = hidden.map((h) => model.scoreAll(h));
      model.dispose();
      return { hidden, scores };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    histories.forEach((_, index) => {
      expectClose(wasm.hidden[index], cpu.hidden[index], 1e-5);
      expectClose(wasm.scores[index], cpu.scores[index], 1e-5);
      expect(topK(wasm.scores[index], 10)).toEqual(topK(cpu.scores[index], 10));
    });
  });
});
