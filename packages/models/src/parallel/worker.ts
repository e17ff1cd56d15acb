// Entry of a data-parallel training worker (a `node:worker_threads` thread started by
// `ReplicaPool`). The worker starts its own TensorFlow.js backend, builds a replica of the
// main thread's model, and for every step request copies the current weights in, computes
// its shard's weighted loss and gradients, and writes the gradients to its shared buffer.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/backend';
import { invalidArgument } from '../messages';
import { createModelOfKind } from '../model/factory';
import { isTrainableModel, type TrainableModel } from '../model/types';
import type { StepRequest, WorkerReply, WorkerSetup } from './protocol';
import { shardLossAndGradients } from './shards';

/** A worker's model and the version of the shared weights it holds. */
interface Replica {
  readonly model: TrainableModel;
  loadedVersion: number;
}

/** Builds the replica: starts the backend, creates the model and checks that its variables match the main thread's. */
async function createReplica(setup: WorkerSetup): Promise<Replica> {
  await initBackend(setup.backend);
  const model = createModelOfKind(setup.kind, setup.config, 0);
  if (!isTrainableModel(model)) {
    throw new TypeError(invalidArgument(`training worker ${setup.replica}`, 'kind', 'a model kind with trainable variables', `'${setup.kind}'`));
  }
  const names = model.variables.map((entry) => `${entry.name} [${entry.variable.shape.join(', ')}]`).join(', ');
  const expected = setup.slots.map((slot) => `${slot.name} [${slot.shape.join(', ')}]`).join(', ');
  if (names !== expected) {
    throw new RangeError(invalidArgument(`training worker ${setup.replica}`, 'model variables', expected, names));
  }
  return { model, loadedVersion: -1 };
}

/** Copies the shared weights into the replica when the main thread has written newer ones. */
function loadWeights(replica: Replica, setup: WorkerSetup): void {
  // The atomic read orders the main thread's earlier plain writes before the reads below.
  const version = Atomics.load(new Int32Array(setup.weightsVersion), 0);
  if (version === replica.loadedVersion) {
    return;
  }
  const weights = new Float32Array(setup.weights); // [parameters]
  tf.tidy(() => {
    replica.model.variables.forEach((entry, index) => {
      const slot = setup.slots[index];
      // slice copies, so the tensor never aliases the shared buffer on backends that keep the array.
      entry.variable.assign(tf.tensor(weights.slice(slot.offset, slot.offset + slot.size), [...slot.shape]));
    });
  });
  replica.model.weightsChanged();
  replica.loadedVersion = version;
}

/** Computes one shard and writes its weighted gradients to the worker's shared buffer. */
function runStep(replica: Replica, setup: WorkerSetup, request: StepRequest): number {
  loadWeights(replica, setup);
  const { loss, gradients } = shardLossAndGradients(replica.model, request.shard, request.settings);
  const output = new Float32Array(setup.gradients); // [parameters]
  gradients.forEach((gradient, index) => {
    output.set(gradient.dataSync() as Float32Array, setup.slots[index].offset);
    gradient.dispose();
  });
  return loss;
}

/** Serves step requests until the main thread terminates the worker. */
async function serve(port: MessagePort, setup: WorkerSetup): Promise<void> {
  const send = (reply: WorkerReply): void => port.postMessage(reply);
  const fail = (error: unknown): void =>
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? null) : null });

  // Build the replica, then reply to each step request in order.
  let replica: Replica;
  try {
    replica = await createReplica(setup);
  } catch (error) {
    fail(error);
    return;
  }
  port.on('message', (request: StepRequest) => {
    try {
      send({ type: 'done', id: request.id, loss: runStep(replica, setup, request) });
    } catch (error) {
      fail(error);
    }
  });
  send({ type: 'ready' });
}

if (parentPort !== null && typeof (workerData as Partial<WorkerSetup> | null)?.kind === 'string') {
  void serve(parentPort, workerData as WorkerSetup);
}
