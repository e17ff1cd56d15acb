/** Sink for warnings and progress of a library call. Libraries never write to the console. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** A logger that drops every message; the default in library calls and tests. */
export const silentLogger: Logger = {
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
