import { invalidArgument } from '../messages';
import { createHstu } from '../hstu/hstu';
import type { HstuConfig } from '../hstu/config';
import { createSasRec } from '../sasrec/sasrec';
import type { SasRecConfig } from '../sasrec/config';
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
  throw new RangeError(invalidArgument('createModelOfKind', 'kind', "'sasrec' or 'hstu'", `'${kind}'`));
}
