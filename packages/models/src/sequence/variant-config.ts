import { invalidArgument } from '../messages';
import { validateBeacon, type BeaconConfig } from './beacon';
import { validateLinformer, type LinformerConfig } from './linformer';
import { validateLsh, type LshConfig } from './lsh';

/** Sequence-level variant fields that SASRec and HSTU configurations share. */
export interface SequenceVariantFields {
  beacon?: BeaconConfig;
  linformer?: LinformerConfig;
  lsh?: LshConfig;
}

/**
 * Validates the sequence-level variant fields of a configuration and copies the one that is
 * set onto `resolved`, with defaults filled in. A configuration without one comes back
 * unchanged, without the keys.
 *
 * @param where - function named in errors, for example `createHstu`.
 * @param resolved - the configuration with every other field already resolved and validated.
 * @param config - the configuration as the caller gave it.
 * @throws RangeError when two variants that condense the cache differently are combined, or LSH meets grouped or latent key/value heads.
 */
export function withSequenceVariant<T extends { heads: number; maxLength: number }>(
  where: string,
  resolved: T,
  config: SequenceVariantFields & { kvHeads?: number; kvLatentSize?: number },
): T & SequenceVariantFields {
  if (config.lsh !== undefined) {
    validateLsh(where, config.lsh);
    const others: string[] = (['kvLatentSize', 'beacon', 'linformer'] as const).filter((field) => config[field] !== undefined);
    if (config.kvHeads !== undefined && config.kvHeads !== resolved.heads) {
      others.unshift('kvHeads');
    }
    if (others.length > 0) {
      throw new RangeError(invalidArgument(where, 'config.lsh', "no kvHeads below heads, kvLatentSize, beacon or linformer besides it (LSH shares each query head's projection with its key)", `lsh and ${others.join(', ')}`));
    }
    return { ...resolved, lsh: { buckets: config.lsh.buckets, seed: config.lsh.seed ?? 0 } };
  }
  if (config.linformer !== undefined) {
    validateLinformer(where, config.linformer, resolved.maxLength);
    if (config.beacon !== undefined || config.kvLatentSize !== undefined) {
      const other = config.beacon !== undefined ? 'beacon' : 'kvLatentSize';
      throw new RangeError(invalidArgument(where, 'config.linformer', `no ${other} besides it (each variant condenses the cache its own way)`, `linformer and ${other}`));
    }
    return { ...resolved, linformer: { blockSize: config.linformer.blockSize, projectedRows: config.linformer.projectedRows } };
  }
  if (config.beacon === undefined) {
    return resolved;
  }
  validateBeacon(where, config.beacon, resolved.maxLength);
  return { ...resolved, beacon: { chunkSize: config.beacon.chunkSize, beaconsPerChunk: config.beacon.beaconsPerChunk } };
}
