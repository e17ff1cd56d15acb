/** Sink for warnings and progress of a library call. Library code never writes to the console. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** A logger that drops every message; the default of every call that takes a logger. */
export const silentLogger: Logger = {
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
