import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Logger } from './logger';
import { progressLine } from './messages';

/** The phases of a run that report progress: training steps, test users and grid cells. */
export type ProgressPhase = 'epochs' | 'users' | 'cells';

/** Receives the progress of each phase of a run. */
export interface ProgressReporter {
  /** Starts (or restarts) a phase with its total count and a label such as `sasrec seed 1`. */
  start(phase: ProgressPhase, total: number, label: string): void;
  /** Sets how many units of a started phase are done. */
  update(phase: ProgressPhase, done: number): void;
  /** Ends a phase; its bar, if any, is removed. */
  stop(phase: ProgressPhase): void;
}

/** Reports nothing. */
export const silentProgress: ProgressReporter = { start: () => undefined, update: () => undefined, stop: () => undefined };

/**
 * Creates progress as plain log lines, for a stderr that is not a terminal (CI logs, files).
 * Training and evaluation already log their own lines, so only the grid cells get one line per
 * finished (model, seed) group, with rate and time left.
 */
export function createLineProgress(logger: Logger, now: () => number = Date.now): ProgressReporter {
  let started = 0;
  let total = 0;
  let label = '';
  return {
    start: (phase, phaseTotal, phaseLabel) => {
      if (phase === 'cells') {
        started = now();
        total = phaseTotal;
        label = phaseLabel;
      }
    },
    update: (phase, done) => {
      if (phase === 'cells') {
        logger.info(progressLine(label, done, total, (now() - started) / 1000));
      }
    },
    stop: () => undefined,
  };
}

/** Progress bars on a terminal, and a logger whose lines are printed above the bars. */
export interface TerminalProgress {
  progress: ProgressReporter;
  logger: Logger;
  /** Removes every bar; call it once at the end of the command. */
  close(): void;
}

const PHASE_NAMES: Record<ProgressPhase, string> = { epochs: 'training steps', users: 'users evaluated', cells: 'grid cells' };

/**
 * Draws one cli-progress bar per phase (training steps, users evaluated, grid cells) with rate
 * and estimated time left on `stream`, which must be a terminal.
 */
export function createTerminalProgress(stream: NodeJS.WriteStream, verbose = false): TerminalProgress {
  const multibar = new MultiBar(
    {
      stream,
      format: '{phase} [{bar}] {value}/{total} {percentage}% | {rate}/s | ETA {eta_formatted} | {label}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  );
  const bars = new Map<ProgressPhase, { bar: SingleBar; started: number }>();
  const rate = (phase: ProgressPhase, done: number): string => {
    const entry = bars.get(phase);
    const seconds = entry === undefined ? 0 : (Date.now() - entry.started) / 1000;
    return seconds > 0 ? (done / seconds).toFixed(1) : '0.0';
  };
  // With bars on screen, a line is printed above them at once; without bars it goes straight out.
  const write = (prefix: string, message: string): void => {
    if (bars.size === 0) {
      stream.write(`${prefix}${message}\n`);
      return;
    }
    multibar.log(`${prefix}${message}\n`);
    multibar.update();
  };
  const progress: ProgressReporter = {
    start: (phase, total, label) => {
      const previous = bars.get(phase);
      if (previous !== undefined) {
        multibar.remove(previous.bar);
      }
      const bar = multibar.create(total, 0, { phase: PHASE_NAMES[phase].padEnd(15), label, rate: '0.0' });
      bars.set(phase, { bar, started: Date.now() });
    },
    update: (phase, done) => {
      bars.get(phase)?.bar.update(done, { rate: rate(phase, done) });
    },
    stop: (phase) => {
      const entry = bars.get(phase);
      if (entry !== undefined) {
        multibar.remove(entry.bar);
        bars.delete(phase);
      }
      if (bars.size === 0) {
        multibar.stop();
      }
    },
  };
  const logger: Logger = {
    warn: (message) => write('warning: ', message),
    info: (message) => write('', message),
    debug: (message) => {
      if (verbose) {
        write('debug: ', message);
      }
    },
  };
  const close = (): void => {
    if (bars.size > 0) {
      bars.clear();
      multibar.stop();
    }
  };
  return { progress, logger, close };
}
