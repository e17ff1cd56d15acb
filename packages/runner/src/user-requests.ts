import { performance } from 'node:perf_hooks';
import type { EvalSplit, SequenceDataset } from '@malloc/data';
import type { PrefillResult, SequentialModel } from '@malloc/models';

/**
 * Default number of consecutive users whose histories are prefilled in one `prefillBatch`
 * call: each user alone, so that every prefill latency sample is that user's own. Windows of
 * 64 users gave no measurable speed-up of a whole MovieLens-1M evaluation on wasm with 2
 * shared cores, although 8 histories per pass took about 15 % less prefill CPU time.
 */
export const DEFAULT_PREFILL_WINDOW = 1;

/** One user's request under the serving protocol, with the prefilled history. */
export interface UserRequest {
  /** The capped input, history then request, `[min(inputLen, maxLength)]`. */
  capped: Int32Array;
  /** The last `requestLength` items of `capped`, `[requestLength]`. */
  request: Int32Array;
  historyLength: number;
  /** Timestamps of `capped` in seconds, `[capped.length]`, or undefined when the data has none. */
  timestamps: Float64Array | undefined;
  /** Timestamps of `request`, `[requestLength]`, or undefined when the data has none. */
  requestTimes: Float64Array | undefined;
  /**
   * Timestamp of the target, the time of the request that the last item is scored for, or
   * undefined when the data has none. HSTU with `queryTime: 'next'` reads it.
   */
  targetTime: number | undefined;
  /** The whole uncapped input, `[inputLen]`, excluded from the ranking when `excludeHistory` is set, else `null`. */
  exclude: Int32Array | null;
  target: number;
  prefilled: PrefillResult;
  /** Wall time of the prefill pass that contained this user, divided by the users in it. */
  prefillMs: number;
}

/** Settings of {@link UserRequests}. */
export interface UserRequestSettings {
  requestLength: number;
  excludeHistory: boolean;
  statsWindow: number;
  recordStats: boolean;
}

/**
 * Splits each evaluated user's capped input into history and request and prefills the
 * histories of `windowSize` consecutive users in one `prefillBatch` call. A user gets the same
 * full cache as a `prefill` of its own history (within float32 rounding), so every cell still
 * compresses that user's cache alone.
 */
export class UserRequests {
  private readonly window = new Map<number, UserRequest | null>();
  private windowEnd = 0;

  constructor(
    private readonly model: SequentialModel,
    private readonly dataset: SequenceDataset,
    private readonly split: EvalSplit,
    private readonly userIndices: Int32Array,
    private readonly settings: UserRequestSettings,
    private readonly windowSize: number = DEFAULT_PREFILL_WINDOW,
  ) {}

  /**
   * Returns the request of entry `n` of `userIndices`, or `null` when its capped input is
   * not longer than the request (the user is skipped). Entries must be read in ascending order.
   */
  get(n: number): UserRequest | null {
    if (n >= this.windowEnd) {
      this.fill(n);
    }
    const entry = this.window.get(n) ?? null;
    this.window.delete(n);
    return entry;
  }

  /** Prepares entries `first .. first + windowSize` and prefills their histories together. */
  private fill(first: number): void {
    // Split each capped input into history and request.
    const { dataset, split, settings } = this;
    const maxLength = this.model.config.maxLength;
    this.window.clear();
    this.windowEnd = Math.min(this.userIndices.length, first + this.windowSize);
    const pending: { n: number; history: Int32Array; historyTimes: Float64Array | undefined; nextTime: number; request: Omit<UserRequest, 'prefilled' | 'prefillMs'> }[] = [];
    for (let n = first; n < this.windowEnd; n++) {
      const j = this.userIndices[n];
      const start = dataset.offsets[split.users[j]];
      const input = dataset.items.subarray(start, start + split.inputEnd[j]); // [inputLen]
      const capped = input.subarray(Math.max(0, input.length - maxLength)); // [min(inputLen, maxLength)]
      if (capped.length <= settings.requestLength) {
        this.window.set(n, null);
        continue;
      }
      const historyLength = capped.length - settings.requestLength;
      const timestamps = dataset.timestamps === null ? undefined : dataset.timestamps.subarray(start + input.length - capped.length, start + input.length); // [capped.length]
      pending.push({
        n,
        history: capped.subarray(0, historyLength),
        historyTimes: timestamps?.subarray(0, historyLength),
        // The history's request time is that of the first request item.
        nextTime: timestamps === undefined ? 0 : timestamps[historyLength],
        request: {
          capped,
          request: capped.subarray(historyLength),
          historyLength,
          timestamps,
          requestTimes: timestamps?.subarray(historyLength),
          targetTime: dataset.timestamps === null ? undefined : dataset.timestamps[start + input.length],
          exclude: settings.excludeHistory ? input : null,
          target: split.targets[j],
        },
      });
    }

    // Prefill every history of the window in one call and share its time among the users.
    const started = performance.now();
    const results = this.model.prefillBatch(
      pending.map((entry) => entry.history),
      {
        timestamps: dataset.timestamps === null ? undefined : pending.map((entry) => entry.historyTimes as Float64Array),
        requestTimes: dataset.timestamps === null ? undefined : Float64Array.from(pending, (entry) => entry.nextTime),
        recordStats: settings.recordStats,
        statsWindow: settings.statsWindow,
      },
    );
    const prefillMs = pending.length === 0 ? 0 : (performance.now() - started) / pending.length;
    pending.forEach((entry, index) => this.window.set(entry.n, { ...entry.request, prefilled: results[index], prefillMs }));
  }
}
