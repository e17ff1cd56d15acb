import { PassThrough } from 'node:stream';
import { createMemoryLogger } from './logger';
import { progressLine } from './messages';
import { createLineProgress, createTerminalProgress } from './progress';

describe('createLineProgress', () => {
  it('logs one line per grid update with rate and time left', () => {
    const logger = createMemoryLogger();
    let now = 1_000;
    const progress = createLineProgress(logger, () => now);

    progress.start('cells', 8, 'grid cells of synthetic');
    progress.start('users', 40, 'sasrec seed 1');
    progress.update('users', 20);
    now += 4_000;
    progress.update('cells', 2);

    // 2 cells in 4 s: 0.5 cells/s, 6 left, about 12 s.
    expect(logger.lines).toEqual([`info: ${progressLine('grid cells of synthetic', 2, 8, 4)}`]);
    expect(logger.lines[0]).toContain('(0.5/s, ~12 s left)');
  });
});

describe('createTerminalProgress', () => {
  function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
    let written = '';
    stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
    Object.assign(stream, { isTTY: true, columns: 160, rows: 40 });
    return { stream, text: () => written };
  }

  it('draws a bar per phase and prints log lines above them', () => {
    const { stream, text } = fakeTerminal();
    const terminal = createTerminalProgress(stream);

    terminal.progress.start('cells', 8, 'grid cells of synthetic');
    terminal.progress.start('epochs', 10, 'sasrec seed 1');
    terminal.progress.update('epochs', 5);
    terminal.logger.info('epoch 1/2 finished');
    terminal.close();

    expect(text()).toContain('training steps');
    expect(text()).toContain('grid cells');
    expect(text()).toContain('sasrec seed 1');
    expect(text()).toContain('epoch 1/2 finished');
    expect(text()).toContain('5/10 50%');
  });

  it('writes log lines directly while no bar is shown', () => {
    const { stream, text } = fakeTerminal();
    const terminal = createTerminalProgress(stream);

    terminal.logger.warn('before any bar');
    terminal.progress.start('users', 4, 'sasrec seed 1');
    terminal.progress.stop('users');
    terminal.logger.info('after the last bar');
    terminal.close();

    expect(text().startsWith('warning: before any bar\n')).toBe(true);
    expect(text().endsWith('after the last bar\n')).toBe(true);
  });
});
