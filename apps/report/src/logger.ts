/** Sink for the warnings and progress of a site build. Library code never writes to the console. */
export interface Logger {
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** A logger that drops every message; the default of `buildSite` and of tests. */
export const silentLogger: Logger = {
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
