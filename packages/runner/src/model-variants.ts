import type { MethodInfo } from '@malloc/compression';
import type { ModelSettings } from './config';

/**
 * Taxonomy entries of the head-level model variants. They are not compression strategies:
 * a run selects one with `model.kvHeads` or `model.kvLatentSize`, trains that model and
 * evaluates every strategy on its cache, so its rows sit on the same leaderboard.
 */
export const HEAD_VARIANT_METHODS: readonly MethodInfo[] = [
  {
    id: 'mqa',
    name: 'Multi-query attention',
    granularity: 'head',
    family: 'kv-head-sharing',
    needsTraining: true,
    reads: [],
    paper: 'Shazeer, 2019, arXiv 1911.02150. Model variant: set model.kvHeads to 1.',
  },
  {
    id: 'gqa',
    name: 'Grouped-query attention',
    granularity: 'head',
    family: 'kv-head-sharing',
    needsTraining: true,
    reads: [],
    paper: 'Ainslie et al., EMNLP 2023, arXiv 2305.13245. Model variant: set model.kvHeads to a divisor of heads.',
  },
  {
    id: 'mla',
    name: 'Multi-head latent attention',
    granularity: 'head',
    family: 'shared-low-rank-latent',
    needsTraining: true,
    reads: [],
    paper: 'DeepSeek-AI, DeepSeek-V2, 2024, arXiv 2405.04434. Model variant: set model.kvLatentSize to the latent width.',
  },
];

/** Ids of {@link HEAD_VARIANT_METHODS}. */
export const HEAD_VARIANT_IDS: ReadonlySet<string> = new Set(HEAD_VARIANT_METHODS.map((method) => method.id));

/**
 * Builds the `model` field of a results row: the model id, followed by the head-level
 * variant when the run sets one. Examples: `sasrec`, `sasrec-mqa`, `hstu-gqa2` (2 key/value
 * heads), `sasrec-mla16` (latent width 16) and `sasrec-mla16-kv2` (a latent projected up to
 * 2 key/value heads). `kvHeads` equal to `heads` is the base model and adds nothing.
 */
export function modelRowLabel(modelId: string, settings: ModelSettings): string {
  const kvHeads = settings.kvHeads ?? settings.heads;
  if (settings.kvLatentSize !== undefined) {
    const heads = kvHeads === settings.heads ? '' : `-kv${kvHeads}`;
    return `${modelId}-mla${settings.kvLatentSize}${heads}`;
  }
  if (kvHeads === settings.heads) {
    return modelId;
  }
  return kvHeads === 1 ? `${modelId}-mqa` : `${modelId}-gqa${kvHeads}`;
}
