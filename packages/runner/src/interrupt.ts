import type { Logger } from './logger';
import { runInterrupted } from './messages';

/**
 * Thrown by `runBench` when its stop request is set: the run stopped between two users, two
 * training steps or two (model, seed) groups, after every finished row was written.
 */
export class RunInterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunInterruptedError';
  }
}

/** A stop request that a signal handler sets and the run polls between units of work. */
export interface StopRequest {
  readonly stopped: boolean;
  stop(): void;
}

/** Creates a stop request that is not yet set. */
export function createStopRequest(): StopRequest {
  let stopped = false;
  return {
    get stopped() {
      return stopped;
    },
    stop() {
      stopped = true;
    },
  };
}

/** Exit status of a run stopped by SIGINT or SIGTERM (128 + 2, as shells report Ctrl-C). */
export const INTERRUPTED_EXIT_STATUS = 130;

/**
 * Installs SIGINT and SIGTERM handlers. The first signal sets the returned stop request, so the
 * run stops cleanly at its next check. A second signal exits at once with status 130, which is
 * safe because training checkpoints and results rows are written atomically. Returns the request and a function that removes the handlers.
 */
export function installStopHandlers(logger: Logger, exit: (status: number) => void = (status) => process.exit(status)): { request: StopRequest; remove: () => void } {
  const request = createStopRequest();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (request.stopped) {
      exit(INTERRUPTED_EXIT_STATUS);
      return;
    }
    logger.warn(runInterrupted(signal));
    request.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    request,
    remove: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
