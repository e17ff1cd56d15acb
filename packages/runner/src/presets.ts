import type { RunConfigInput } from './config';

/**
 * Named presets. A preset is a partial configuration applied on top of the defaults and
 * below a config file and the command line.
 *
 * - `smoke`: seconds; a tiny synthetic dataset and a tiny model, for tests.
 * - `quick`: the reference SASRec size (max length 200, d = 50, 2 blocks, 1 head) trained for
 *   12 epochs with batches of 32, because smaller batches take more optimiser steps within the
 *   short budget; minutes on the synthetic default.
 * - `paper`: the reference training budget, 3 seeds and the kvpress ratio grid. Training runs
 *   all 100 epochs, as generative-recommenders trains its 101, and keeps the epoch with the
 *   best validation NDCG@10. It does not stop early, because on ML-1M validation NDCG@10 moves
 *   by about 0.003 from one epoch to the next. With patience 10, HSTU stopped at epoch 49 (best
 *   0.1556), and when training went on it reached 0.1604 at epoch 72 (BENCHMARKS.md).
 */
export const PRESETS: Readonly<Record<string, RunConfigInput>> = {
  smoke: {
    dataset: 'synthetic',
    synthetic: { users: 120, items: 60, meanLength: 24, maxLength: 60, seed: 7 },
    model: { maxLength: 32, hiddenSize: 16, layers: 2, heads: 1, dropout: 0.1 },
    training: { epochs: 2, batchSize: 32, negatives: 16, validationUsers: 60 },
    evaluation: { bootstrapResamples: 200 },
  },
  quick: {
    model: { maxLength: 200, hiddenSize: 50, layers: 2, heads: 1, dropout: 0.2 },
    training: { epochs: 12, batchSize: 32, negatives: 128, validationUsers: 1000 },
  },
  paper: {
    dataset: 'ml-1m',
    seeds: [1, 2, 3],
    compressionRatios: [0.25, 0.5, 0.75, 0.875],
    model: { maxLength: 200, hiddenSize: 50, layers: 2, heads: 1, dropout: 0.2 },
    training: { epochs: 100, batchSize: 128, negatives: 128, patience: null, validationUsers: null },
  },
};

/** Ids of the presets, in the order `--help` lists them. */
export const PRESET_IDS: readonly string[] = Object.keys(PRESETS);
