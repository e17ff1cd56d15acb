import { invalidArgument } from '../messages';
import { BLOCKED } from '../ops/layers';
import type { EncoderBatch } from '../model/types';
import { firstCondensedPosition } from './chunk-cache';

// Activation Beacon memory (Peitian Zhang et al., "Long Context Compression with Activation
// Beacon", 2024, arXiv:2401.03462), adapted to item sequences.
//
// The history is split into chunks of `chunkSize` items. After each complete chunk,
// `beaconsPerChunk` learned beacon tokens condense it: beacon j of chunk c has the input
// `beaconEmbedding[j] + positionEmbedding[p]`, where p is position j of the chunk's last
// `beaconsPerChunk` positions. The beacons' keys and values replace the chunk's in the cache,
// and the newest, incomplete chunk stays raw. Attention rules, shared by training and serving:
//
// - an item of chunk c attends to the beacons of chunks before c and to the items of chunk c
//   up to itself;
// - beacon j of chunk c attends to the beacons of chunks before c, to every item of chunk c
//   and to beacons 0..j of chunk c.
//
// Training runs one pass over the items with the beacons interleaved after each complete
// chunk, under a mask with these rules. Serving appends the items of a chunk to the cache and,
// when the chunk completes, runs the beacons against the cache and drops the chunk's rows.
// HSTU also gives each beacon the timestamp of its chunk's last item, for the time bias.

/** Activation Beacon settings of a model configuration. */
export interface BeaconConfig {
  /**
   * Items per chunk.
   * @minimum 1
   */
  chunkSize: number;
  /**
   * Beacon tokens that replace each complete chunk in the cache, at most `chunkSize`.
   * @minimum 1
   */
  beaconsPerChunk: number;
}

/**
 * Validates the `beacon` field of a model configuration.
 *
 * @param where - function named in errors, for example `createSasRec`.
 * @throws TypeError when `beacon` is not an object.
 * @throws RangeError when a count is not an integer ≥ 1, `beaconsPerChunk` exceeds `chunkSize` or `chunkSize` exceeds `maxLength`.
 */
export function validateBeacon(where: string, beacon: BeaconConfig, maxLength: number): void {
  if (beacon === null || typeof beacon !== 'object') {
    throw new TypeError(invalidArgument(where, 'config.beacon', 'an object { chunkSize, beaconsPerChunk }', String(beacon)));
  }
  const { chunkSize, beaconsPerChunk } = beacon;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > maxLength) {
    throw new RangeError(invalidArgument(where, 'config.beacon.chunkSize', `an integer in [1, maxLength ${maxLength}]`, String(chunkSize)));
  }
  if (!Number.isInteger(beaconsPerChunk) || beaconsPerChunk < 1 || beaconsPerChunk > chunkSize) {
    throw new RangeError(invalidArgument(where, 'config.beacon.beaconsPerChunk', `an integer in [1, chunkSize ${chunkSize}]`, String(beaconsPerChunk)));
  }
}

/** A padded encoder batch with beacon tokens inserted after each complete chunk. */
export interface BeaconBatch {
  /** Tokens per row of the expanded batch. */
  readonly len: number;
  /** `[batch, len]` item ids; 0 at beacons and padding. */
  readonly items: Int32Array;
  /** `[batch, len]` beacon index j, or -1 at items and padding. */
  readonly beaconIndex: Int32Array;
  /** `[batch, len]` positions; 0 at padding. */
  readonly positions: Int32Array;
  /**
   * `[batch, len]` timestamps in seconds: an item's own, and for a beacon the timestamp of
   * its chunk's last item; 0 at padding. `null` when the input batch has none.
   */
  readonly timestamps: Float64Array | null;
  /** `[batch, len]` 1 at items and beacons, 0 at padding. */
  readonly valid: Float32Array;
  /** `[batch, len, len]` additive attention bias: 0 where allowed, {@link BLOCKED} elsewhere. */
  readonly bias: Float32Array;
  /** `[batch · originalLen]` row of the expanded batch for each row of the input batch. */
  readonly sourceRows: Int32Array;
}

/**
 * Expands an encoder batch for a beacon model. Each row keeps its items in order, left-aligned,
 * with `beaconsPerChunk` beacons after each item at position `chunkSize · c − 1`. A row with
 * padding maps its padding to a padding token of the expanded row, so that every input row has
 * a source row.
 */
export function expandBeaconBatch(batch: EncoderBatch, beacon: BeaconConfig): BeaconBatch {
  // Lay out each row: items in order, beacons after each complete chunk.
  const { chunkSize, beaconsPerChunk } = beacon;
  const rows: { item: number; beaconIndex: number; position: number; time: number; source: number }[][] = [];
  let hasPadding = false;
  for (let b = 0; b < batch.batch; b++) {
    const row: { item: number; beaconIndex: number; position: number; time: number; source: number }[] = [];
    for (let i = 0; i < batch.len; i++) {
      const source = b * batch.len + i;
      const item = batch.items[source];
      if (item === 0) {
        hasPadding = true;
        continue;
      }
      const position = batch.positions[source];
      const time = batch.timestamps === null ? 0 : batch.timestamps[source];
      row.push({ item, beaconIndex: -1, position, time, source });
      if ((position + 1) % chunkSize === 0) {
        const first = firstCondensedPosition(position + 1, beaconsPerChunk);
        for (let j = 0; j < beaconsPerChunk; j++) {
          row.push({ item: 0, beaconIndex: j, position: first + j, time, source: -1 });
        }
      }
    }
    rows.push(row);
  }
  const len = rows.reduce((max, row) => Math.max(max, row.length), 0) + (hasPadding ? 1 : 0);

  // Fill the flat arrays; padding sources point at the row's last token, which is padding.
  const items = new Int32Array(batch.batch * len); // [batch, len]
  const beaconIndex = new Int32Array(batch.batch * len).fill(-1); // [batch, len]
  const positions = new Int32Array(batch.batch * len); // [batch, len]
  const timestamps = batch.timestamps === null ? null : new Float64Array(batch.batch * len); // [batch, len]
  const valid = new Float32Array(batch.batch * len); // [batch, len]
  const sourceRows = new Int32Array(batch.batch * batch.len); // [batch · originalLen]
  rows.forEach((row, b) => {
    for (let i = 0; i < batch.len; i++) {
      sourceRows[b * batch.len + i] = b * len + len - 1;
    }
    row.forEach((token, t) => {
      const index = b * len + t;
      items[index] = token.item;
      beaconIndex[index] = token.beaconIndex;
      positions[index] = token.position;
      if (timestamps !== null) {
        timestamps[index] = token.time;
      }
      valid[index] = 1;
      if (token.source >= 0) {
        sourceRows[token.source] = index;
      }
    });
  });
  return { len, items, beaconIndex, positions, timestamps, valid, bias: beaconBias(beacon, beaconIndex, positions, valid, batch.batch, len), sourceRows };
}

/**
 * Builds the attention bias of an expanded batch from the rules at the top of this file. A
 * padding query has every key blocked, which gives a uniform softmax over finite numbers.
 */
function beaconBias(beacon: BeaconConfig, beaconIndex: Int32Array, positions: Int32Array, valid: Float32Array, batch: number, len: number): Float32Array {
  const bias = new Float32Array(batch * len * len).fill(BLOCKED); // [batch, len, len]
  for (let b = 0; b < batch; b++) {
    for (let q = 0; q < len; q++) {
      const query = b * len + q;
      if (valid[query] === 0) {
        continue;
      }
      const queryChunk = Math.floor(positions[query] / beacon.chunkSize);
      const queryBeacon = beaconIndex[query];
      for (let k = 0; k < len; k++) {
        const key = b * len + k;
        if (valid[key] === 0) {
          continue;
        }
        const keyChunk = Math.floor(positions[key] / beacon.chunkSize);
        const keyBeacon = beaconIndex[key];
        let allowed: boolean;
        if (keyBeacon >= 0) {
          allowed = keyChunk < queryChunk || (keyChunk === queryChunk && queryBeacon >= 0 && keyBeacon <= queryBeacon);
        } else {
          allowed = keyChunk === queryChunk && (queryBeacon >= 0 || positions[key] <= positions[query]);
        }
        if (allowed) {
          bias[query * len + k] = 0;
        }
      }
    }
  }
  return bias;
}
