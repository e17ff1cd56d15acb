import { mixedIdKinds } from './messages';

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
  /**
   * Binary label (0 or 1) of each row, `[rows]`, for click-through logs; `null` or absent when
   * the source has none.
   */
  labels?: Uint8Array | null;
  /**
   * Raw id of each provisional user index, `[distinct users]`: numbers for integer ids, strings
   * for string ids (such as Amazon user ids). One log never mixes the two.
   */
  rawUserIds: RawId[];
  /** Raw id of each provisional item index, `[distinct items]`, of the same kind as `rawUserIds`. */
  rawItemIds: RawId[];
}

/** A raw id as read: a non-negative integer, or a string for sources with string ids. */
export type RawId = number | string;

/**
 * Integer ids below this bound are looked up in a typed array, which is faster than a Map.
 * The array grows to the largest such id seen, at most 16 MiB.
 */
const DIRECT_LOOKUP_LIMIT = 1 << 22;

/** Assigns dense indices 0, 1, 2, … to raw ids in order of first appearance. */
class IdInterner {
  readonly rawIds: RawId[] = [];
  private readonly indexOf = new Map<RawId, number>();
  /** Index + 1 of each small integer id, 0 when unseen, `[largest small id + 1]`. */
  private direct = new Int32Array(1024);

  intern(rawId: RawId): number {
    if (typeof rawId === 'number' && rawId < DIRECT_LOOKUP_LIMIT) {
      return this.internSmall(rawId);
    }
    const known = this.indexOf.get(rawId);
    if (known !== undefined) {
      return known;
    }
    const index = this.rawIds.length;
    this.indexOf.set(rawId, index);
    this.rawIds.push(rawId);
    return index;
  }

  private internSmall(rawId: number): number {
    if (rawId >= this.direct.length) {
      const grown = new Int32Array(Math.min(DIRECT_LOOKUP_LIMIT, Math.max(rawId + 1, this.direct.length * 2))); // [capacity]
      grown.set(this.direct);
      this.direct = grown;
    }
    const known = this.direct[rawId];
    if (known !== 0) {
      return known - 1;
    }
    const index = this.rawIds.length;
    this.direct[rawId] = index + 1;
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
  private labels: Uint8Array | null;
  private idKind: 'integer' | 'string' | null = null;
  private readonly userIds = new IdInterner();
  private readonly itemIds = new IdInterner();

  /**
   * @param hasTimestamps - Whether rows carry a timestamp.
   * @param hasRatings - Whether rows carry a rating.
   * @param initialCapacity - Rows allocated before the first growth. Default value: 65,536.
   * @param hasLabels - Whether rows carry a binary label. Default value: `false`.
   */
  constructor(
    readonly hasTimestamps: boolean,
    readonly hasRatings: boolean,
    initialCapacity = 1 << 16,
    readonly hasLabels = false,
  ) {
    this.capacity = Math.max(1, initialCapacity);
    this.users = new Int32Array(this.capacity); // [capacity]
    this.items = new Int32Array(this.capacity); // [capacity]
    this.timestamps = hasTimestamps ? new Float64Array(this.capacity) : null; // [capacity]
    this.ratings = hasRatings ? new Float32Array(this.capacity) : null; // [capacity]
    this.labels = hasLabels ? new Uint8Array(this.capacity) : null; // [capacity]
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
   * Appends one row with integer ids. `timestamp`, `rating` and `label` are ignored when the
   * builder has no such column.
   *
   * @throws TypeError when the builder already contains rows added with {@link addKeyed}.
   */
  add(rawUserId: number, rawItemId: number, timestamp = 0, rating = 0, label = 0): void {
    if (this.idKind !== 'integer') {
      this.setIdKind('integer');
    }
    this.append(rawUserId, rawItemId, timestamp, rating, label);
  }

  /**
   * Appends one row with string ids, kept verbatim (so `'0000013714'` keeps its zeros).
   *
   * @throws TypeError when the builder already contains rows added with {@link add}.
   */
  addKeyed(rawUserId: string, rawItemId: string, timestamp = 0, rating = 0, label = 0): void {
    if (this.idKind !== 'string') {
      this.setIdKind('string');
    }
    this.append(rawUserId, rawItemId, timestamp, rating, label);
  }

  private setIdKind(kind: 'integer' | 'string'): void {
    if (this.idKind !== null) {
      throw new TypeError(mixedIdKinds(this.idKind, kind));
    }
    this.idKind = kind;
  }

  private append(rawUserId: RawId, rawItemId: RawId, timestamp: number, rating: number, label: number): void {
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
    if (this.labels !== null) {
      this.labels[row] = label;
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
      labels: this.labels === null ? null : this.labels.slice(0, rows),
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
    if (this.labels !== null) {
      this.labels = copyInto(new Uint8Array(this.capacity), this.labels);
    }
  }
}

function copyInto<T extends Int32Array | Float64Array | Float32Array | Uint8Array>(target: T, source: T): T {
  target.set(source as never);
  return target;
}
