import { invalidArgument } from '../messages';
import { createHstu } from '../hstu/hstu';
import type { HstuConfig } from '../hstu/config';
import { createSasRec } from '../sasrec/sasrec';
import type { SasRecConfig } from '../sasrec/config';
import { createGru4Rec } from '../recurrent/gru4rec';
import { createRwkv } from '../recurrent/rwkv';
import type { RecurrentConfig } from '../recurrent/config';
import type { SequentialModel } from './types';

/**
 * Creates a model of the given kind from its stored configuration (used by checkpoints).
 *
 * @throws RangeError for an unknown kind.
 */
export function createModelOfKind(kind: string, config: Record<string, unknown>, seed: number): SequentialModel {
  if (kind === 'sasrec') {
    return createSasRec(config as unknown as Partial<SasRecConfig> & { itemCount: number }, seed);
  }
  if (kind === 'hstu') {
    return createHstu(config as unknown as Partial<HstuConfig> & { itemCount: number }, seed);
  }
  if (kind === 'gru4rec') {
    return createGru4Rec(config as unknown as Partial<RecurrentConfig> & { itemCount: number }, seed);
  }
  if (kind === 'rwkv') {
    return createRwkv(config as unknown as Partial<RecurrentConfig> & { itemCount: number }, seed);
  }
  throw new RangeError(invalidArgument('createModelOfKind', 'kind', "'sasrec', 'hstu', 'gru4rec' or 'rwkv'", `'${kind}'`));
}
