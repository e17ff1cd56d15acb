/** Sink for the runner's messages; the CLI writes them to stderr, tests capture them. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** Drops every message. */
export const silentLogger: Logger = { warn: () => undefined, info: () => undefined, debug: () => undefined };

/**
 * Creates the logger of the command line. Info and warnings go to stderr, so that stdout carries
 * only the command's output (tables, statistics). Debug lines appear only when `verbose` is set.
 */
export function createConsoleLogger(verbose = false): Logger {
  const write = (prefix: string, message: string): void => {
    process.stderr.write(`${prefix}${message}\n`);
  };
  return {
    warn: (message) => write('warning: ', message),
    info: (message) => write('', message),
    debug: (message) => {
      if (verbose) {
        write('debug: ', message);
      }
    },
  };
}

/** Creates a logger that stores every message, for tests. */
export function createMemoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    warn: (message) => lines.push(`warn: ${message}`),
    info: (message) => lines.push(`info: ${message}`),
    debug: (message) => lines.push(`debug: ${message}`),
  };
}
