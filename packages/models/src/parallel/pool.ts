import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../backend/backend';
import { trainingWorkerFailed } from '../messages';
import type { TrainableModel } from '../model/types';
import type { StepSettings } from '../training/step';
import { WORKER_BOOTSTRAP_SOURCE, workerEntryFile } from './bootstrap';
import { layoutVariables, shardTransferList, type StepRequest, type VariableSlot, type WorkerReply, type WorkerSetup } from './protocol';
import type { TrainingShard } from './shards';

/** Settings of {@link ReplicaPool.start}. */
export interface ReplicaPoolOptions {
  /**
   * Worker threads to start, each with a replica of the model.
   * @minimum 1
   */
  threads: number;
  /** Backend that each worker starts, normally the main thread's. */
  backend: BackendName;
}

/** The reply that one worker owes: its start-up or a step. */
interface Pending {
  resolve: (reply: WorkerReply) => void;
  reject: (error: Error) => void;
}

/** One worker thread and its state on the main thread. */
interface WorkerHandle {
  readonly worker: Worker;
  /** Replica number: 1 for the first worker, as in messages. */
  readonly replica: number;
  readonly gradients: Float32Array;
  pending: Pending | null;
}

/**
 * Worker threads that each hold a replica of a model, for data-parallel training. The main
 * thread keeps the model that the optimizer updates. It publishes the weights to one shared
 * buffer after each update, and each worker copies them in before its next shard. Each
 * worker writes its shard's weighted gradients to its own shared buffer, which the main
 * thread adds to its own shard's gradients. A worker that fails (an error in a shard, an
 * uncaught exception, an unexpected exit) fails the pool: the pending call and every later
 * one reject with the worker's message. {@link close} terminates every worker and must run
 * on every exit path.
 */
export class ReplicaPool {
  private failure: Error | null = null;
  private closed = false;
  private nextStep = 0;

  private constructor(
    private readonly handles: WorkerHandle[],
    private readonly slots: readonly VariableSlot[],
    private readonly weights: Float32Array,
    private readonly weightsVersion: Int32Array,
  ) {}

  /**
   * Starts the workers, publishes the model's current weights and waits until every replica
   * is built. When a worker fails to start, every worker is terminated before the error is
   * thrown.
   *
   * @throws Error naming the worker and its message when a worker fails to start.
   */
  static async start(model: TrainableModel, options: ReplicaPoolOptions): Promise<ReplicaPool> {
    // Shared buffers: the weights for all workers, one gradient buffer per worker.
    const { slots, parameters } = layoutVariables(model.variables);
    const weights = new SharedArrayBuffer(parameters * Float32Array.BYTES_PER_ELEMENT);
    const weightsVersion = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const handles: WorkerHandle[] = [];
    const pool = new ReplicaPool(handles, slots, new Float32Array(weights), new Int32Array(weightsVersion));
    for (let replica = 1; replica <= options.threads; replica++) {
      const gradients = new SharedArrayBuffer(parameters * Float32Array.BYTES_PER_ELEMENT);
      const setup: WorkerSetup = {
        replica,
        kind: model.kind,
        config: { ...model.config },
        backend: options.backend,
        slots,
        weights,
        gradients,
        weightsVersion,
      };
      let worker: Worker;
      try {
        worker = new Worker(WORKER_BOOTSTRAP_SOURCE, { eval: true, workerData: { ...setup, entry: workerEntryFile() } });
      } catch (error) {
        await pool.close();
        throw error;
      }
      const handle: WorkerHandle = { worker, replica, gradients: new Float32Array(gradients), pending: null };
      handles.push(handle);
      pool.listen(handle);
    }

    // Publish the weights, then wait for every replica.
    try {
      pool.publishWeights(model);
      await Promise.all(handles.map((handle) => pool.expect(handle)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Number of worker threads. */
  get threads(): number {
    return this.handles.length;
  }

  /** Copies the model's weights to the shared buffer. The workers load them before their next shard. */
  publishWeights(model: TrainableModel): void {
    model.variables.forEach((entry, index) => {
      this.weights.set(entry.variable.dataSync() as Float32Array, this.slots[index].offset);
    });
    // The atomic write orders the plain writes above before a worker's atomic read of the version.
    Atomics.add(this.weightsVersion, 0, 1);
  }

  /**
   * Sends shard i to worker i and waits for all of them. Posting a shard moves its batch
   * arrays to the worker, so the caller must not read them afterwards.
   *
   * @param shards - at most {@link threads} shards.
   * @returns the weighted loss of each shard; its weighted gradients are in the worker's buffer (see {@link gradientsOf}).
   * @throws Error naming the worker and its message when a worker fails.
   */
  async computeShards(shards: readonly TrainingShard[], settings: StepSettings): Promise<number[]> {
    const id = ++this.nextStep;
    const replies = shards.map((shard, index) => {
      const handle = this.handles[index];
      const reply = this.expect(handle);
      if (this.failure === null) {
        const request: StepRequest = { type: 'step', id, shard, settings };
        handle.worker.postMessage(request, shardTransferList(shard));
      }
      return reply;
    });
    const settled = await Promise.allSettled(replies);
    const rejected = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (rejected !== undefined) {
      throw rejected.reason;
    }
    return settled.map((result) => {
      const reply = (result as PromiseFulfilledResult<WorkerReply>).value;
      return reply.type === 'done' ? reply.loss : Number.NaN;
    });
  }

  /**
   * Reads the weighted gradients of worker `index`'s last shard as tensors, one per variable in
   * `model.variables` order; the caller disposes them.
   */
  gradientsOf(index: number): tf.Tensor[] {
    const buffer = this.handles[index].gradients;
    // slice copies, so the tensor never aliases the shared buffer on backends that keep the array.
    return this.slots.map((slot) => tf.tensor(buffer.slice(slot.offset, slot.offset + slot.size), [...slot.shape]));
  }

  /** Terminates every worker and waits until each has stopped. Safe to call more than once. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.handles.map((handle) => handle.worker.terminate()));
  }

  /** Routes a worker's replies, errors and exit to its pending call. */
  private listen(handle: WorkerHandle): void {
    handle.worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'failed') {
        const cause = new Error(reply.message);
        cause.stack = reply.stack ?? cause.stack;
        this.fail(handle, new Error(trainingWorkerFailed(handle.replica, reply.message), { cause }));
        return;
      }
      const pending = handle.pending;
      handle.pending = null;
      pending?.resolve(reply);
    });
    handle.worker.on('error', (error: Error) => {
      this.fail(handle, new Error(trainingWorkerFailed(handle.replica, error.message), { cause: error }));
    });
    handle.worker.on('exit', (code: number) => {
      if (!this.closed) {
        this.fail(handle, new Error(trainingWorkerFailed(handle.replica, `the thread exited with code ${code}`)));
      }
    });
  }

  /** Returns a promise of the worker's next reply, or a rejection when the pool has failed. */
  private expect(handle: WorkerHandle): Promise<WorkerReply> {
    if (this.failure !== null) {
      return Promise.reject(this.failure);
    }
    return new Promise<WorkerReply>((resolve, reject) => {
      handle.pending = { resolve, reject };
    });
  }

  /** Records the first failure and rejects every pending call with it. */
  private fail(handle: WorkerHandle, error: Error): void {
    this.failure ??= error;
    for (const other of this.handles) {
      const pending = other.pending;
      other.pending = null;
      pending?.reject(other === handle ? error : this.failure);
    }
  }
}
