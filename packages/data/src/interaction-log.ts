/**
 * Interaction rows in columns, as parsed, before any preprocessing.
 *
 * Users and items are numbered by first appearance (`provisional` indices into `rawUserIds`
 * and `rawItemIds`); {@link buildSequenceDataset} later renumbers them in ascending raw order.
 */
export interface InteractionLog {
  /** Number of rows. */
  rowCount: number;
  /** Provisional user index of each row, `[rows]`. */
  users: Int32Array;
  /** Provisional item index of each row, `[rows]`. */
  items: Int32Array;
  /** Time of each row in seconds, `[rows]`; `null` when the source has none. */
  timestamps: Float64Array | null;
  /** Rating of each row, `[rows]`; `null` when the source has none. */
  ratings: Float32Array | null;
  /** Raw numeric id of each provisional user index, `[distinct users]`. */
  rawUserIds: number[];
  /** Raw numeric id of each provisional item index, `[distinct items]`. */
  rawItemIds: number[];
}

// NOTE: raw ids must be integers. Datasets with string ids (such as Amazon ASINs) need a
// string-keyed interner and a different sort order for the final numbering.
/** Assigns dense indices 0, 1, 2, … to raw numeric ids in order of first appearance. */
class IdInterner {
  readonly rawIds: number[] = [];
  private readonly indexOf = new Map<number, number>();

  intern(rawId: number): number {
    const known = this.indexOf.get(rawId);
    if (known !== undefined) {
      return known;
    }
    const index = this.rawIds.length;
    this.indexOf.set(rawId, index);
    this.rawIds.push(rawId);
    return index;
  }
}

/**
 * Appends rows to growing typed arrays (capacity doubles), so that parsing allocates no
 * object per row.
 */
export class InteractionLogBuilder {
  private capacity: number;
  private size = 0;
  private users: Int32Array;
  private items: Int32Array;
  private timestamps: Float64Array | null;
  private ratings: Float32Array | null;
  private readonly userIds = new IdInterner();
  private readonly itemIds = new IdInterner();

  /**
   * @param hasTimestamps - Whether rows carry a timestamp.
   * @param hasRatings - Whether rows carry a rating.
   * @param initialCapacity - Rows allocated before the first growth. Default value: 65,536.
   */
  constructor(
    readonly hasTimestamps: boolean,
    readonly hasRatings: boolean,
    initialCapacity = 1 << 16,
  ) {
    this.capacity = Math.max(1, initialCapacity);
    this.users = new Int32Array(this.capacity); // [capacity]
    this.items = new Int32Array(this.capacity); // [capacity]
    this.timestamps = hasTimestamps ? new Float64Array(this.capacity) : null; // [capacity]
    this.ratings = hasRatings ? new Float32Array(this.capacity) : null; // [capacity]
  }

  /** Number of rows added so far. */
  get rowCount(): number {
    return this.size;
  }

  /** Number of distinct users seen so far. */
  get userCount(): number {
    return this.userIds.rawIds.length;
  }

  /** Number of distinct items seen so far. */
  get itemCount(): number {
    return this.itemIds.rawIds.length;
  }

  /**
   * Appends one row. `timestamp` and `rating` are ignored when the builder has no such column.
   */
  add(rawUserId: number, rawItemId: number, timestamp = 0, rating = 0): void {
    if (this.size === this.capacity) {
      this.grow();
    }
    const row = this.size;
    this.users[row] = this.userIds.intern(rawUserId);
    this.items[row] = this.itemIds.intern(rawItemId);
    if (this.timestamps !== null) {
      this.timestamps[row] = timestamp;
    }
    if (this.ratings !== null) {
      this.ratings[row] = rating;
    }
    this.size = row + 1;
  }

  /** Returns the rows as a log with arrays trimmed to the row count. */
  finish(): InteractionLog {
    const rows = this.size;
    return {
      rowCount: rows,
      users: this.users.slice(0, rows),
      items: this.items.slice(0, rows),
      timestamps: this.timestamps === null ? null : this.timestamps.slice(0, rows),
      ratings: this.ratings === null ? null : this.ratings.slice(0, rows),
      rawUserIds: this.userIds.rawIds.slice(),
      rawItemIds: this.itemIds.rawIds.slice(),
    };
  }

  private grow(): void {
    this.capacity *= 2;
    this.users = copyInto(new Int32Array(this.capacity), this.users);
    this.items = copyInto(new Int32Array(this.capacity), this.items);
    if (this.timestamps !== null) {
      this.timestamps = copyInto(new Float64Array(this.capacity), this.timestamps);
    }
    if (this.ratings !== null) {
      this.ratings = copyInto(new Float32Array(this.capacity), this.ratings);
    }
  }
}

function copyInto<T extends Int32Array | Float64Array | Float32Array>(target: T, source: T): T {
  target.set(source as never);
  return target;
}
