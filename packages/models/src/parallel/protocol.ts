import type { BackendName } from '../backend/backend';
import type { NamedVariable } from '../model/types';
import type { StepSettings } from '../training/step';
import type { TrainingShard } from './shards';

/** Place of one variable in a flat float32 buffer of all the model's variables. */
export interface VariableSlot {
  readonly name: string;
  readonly shape: readonly number[];
  /** First element, in float32 elements from the start of the buffer. */
  readonly offset: number;
  readonly size: number;
}

/** Everything a training worker needs to build its replica, passed as `workerData`. */
export interface WorkerSetup {
  /** Replica number, 1 for the first worker (the main thread is replica 0); used in messages. */
  readonly replica: number;
  /** Model kind and stored configuration, as `createModelOfKind` takes them. */
  readonly kind: string;
  readonly config: Record<string, unknown>;
  /** Backend of the main thread; the worker starts the same one. */
  readonly backend: BackendName;
  readonly slots: readonly VariableSlot[];
  /** Current weights of all variables, written by the main thread between steps, `[parameters]` float32. */
  readonly weights: SharedArrayBuffer;
  /** Weighted gradients of this worker's last shard, written by the worker, `[parameters]` float32. */
  readonly gradients: SharedArrayBuffer;
  /** `[1]` int32: the version of `weights`, increased by the main thread after each write. */
  readonly weightsVersion: SharedArrayBuffer;
}

/** A message from the main thread to a training worker. */
export interface StepRequest {
  readonly type: 'step';
  /** Step counter, echoed in the reply. */
  readonly id: number;
  readonly shard: TrainingShard;
  readonly settings: StepSettings;
}

/** A message from a training worker to the main thread. */
export type WorkerReply =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly loss: number }
  | { readonly type: 'failed'; readonly message: string; readonly stack: string | null };

/**
 * Lays the variables out back to back in `model.variables` order.
 *
 * @returns the slots and the total number of parameters.
 */
export function layoutVariables(variables: readonly NamedVariable[]): { slots: VariableSlot[]; parameters: number } {
  const slots: VariableSlot[] = [];
  let offset = 0;
  for (const entry of variables) {
    const size = entry.variable.size;
    slots.push({ name: entry.name, shape: [...entry.variable.shape], offset, size });
    offset += size;
  }
  return { slots, parameters: offset };
}

/** Buffers of transferable typed arrays in a shard, so that posting it moves them instead of copying. */
export function shardTransferList(shard: TrainingShard): ArrayBuffer[] {
  const { encoder, targets, rows } = shard.batch;
  const views: ArrayBufferView[] = [encoder.items, encoder.positions, targets, rows];
  if (encoder.timestamps !== null) {
    views.push(encoder.timestamps);
  }
  if (encoder.requestTimes !== undefined && encoder.requestTimes !== null) {
    views.push(encoder.requestTimes);
  }
  if ('labels' in shard.batch) {
    views.push(shard.batch.labels);
  }
  // Every shard has its own negatives (planShards copies shared ones), so they move too.
  if (shard.negativeIds !== null) {
    views.push(shard.negativeIds);
  }
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    if (view.buffer instanceof ArrayBuffer) {
      buffers.add(view.buffer);
    }
  }
  return [...buffers];
}
