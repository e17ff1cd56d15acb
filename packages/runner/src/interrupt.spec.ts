import { INTERRUPTED_EXIT_STATUS, createStopRequest, installStopHandlers } from './interrupt';
import { createMemoryLogger } from './logger';
import { runInterrupted } from './messages';

describe('installStopHandlers', () => {
  it('sets the request on the first signal and exits on the second', () => {
    const logger = createMemoryLogger();
    const exits: number[] = [];
    const listenersBefore = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');
    const { request, remove } = installStopHandlers(logger, (status) => exits.push(status));

    try {
      process.emit('SIGTERM', 'SIGTERM');
      expect(request.stopped).toBe(true);
      expect(exits).toEqual([]);
      expect(logger.lines).toEqual([`warn: ${runInterrupted('SIGTERM')}`]);

      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([INTERRUPTED_EXIT_STATUS]);
    } finally {
      remove();
    }
    expect(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')).toBe(listenersBefore);
  });

  it('starts unset', () => {
    expect(createStopRequest().stopped).toBe(false);
  });
});
