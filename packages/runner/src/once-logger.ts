import type { Logger } from './logger';

/**
 * A logger for code that runs once per user: the first warning is passed on, later ones are
 * only counted, so a strategy's per-user warning shows once instead of thousands of times.
 */
export interface OnceLogger extends Logger {
  /** Warnings received but not passed on. */
  readonly suppressed: number;
}

/** Wraps `inner` so that only the first warning reaches it; info and debug pass through. */
export function createOnceLogger(inner: Logger): OnceLogger {
  let warned = false;
  let suppressed = 0;
  return {
    get suppressed() {
      return suppressed;
    },
    warn: (message) => {
      if (warned) {
        suppressed++;
        return;
      }
      warned = true;
      inner.warn(message);
    },
    info: (message) => inner.info(message),
    debug: (message) => inner.debug(message),
  };
}
