import { silentLogger, type Logger } from '@malloc/compression';
import * as tf from '@tensorflow/tfjs';
import { backendSelected, backendUnavailable, invalidArgument, missingKernel, nativeBindingSkipped } from '../messages';
import { registerFastSlice, registerFastSplits } from './fast-slice';
import { registerUnsortedSegmentSum } from './unsorted-segment-sum';

/** A TensorFlow.js backend: the native binding (`tensorflow`), WebAssembly, or plain JavaScript. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/**
 * Kernels that the models run on any path (training, prefill, append, scoring). Checked when
 * a backend is initialised, so a missing one fails at start-up with its name instead of deep
 * inside a training step.
 */
export const REQUIRED_KERNELS: readonly string[] = [
  'Abs',
  'Add',
  'BatchMatMul',
  'Cast',
  'Concat',
  'Exp',
  'GatherV2',
  'GreaterEqual',
  'Identity',
  'Log',
  'Max',
  'Maximum',
  'Mean',
  'Multiply',
  'Neg',
  'Pack',
  'PadV2',
  'Pow',
  'Range',
  'RealDiv',
  'Relu',
  'Reshape',
  'Rsqrt',
  'Sigmoid',
  'Slice',
  'Softmax',
  'Softplus',
  'SplitV',
  'Sqrt',
  'Square',
  'Step',
  'Sub',
  'Sum',
  'Transpose',
  'UnsortedSegmentSum',
];

/** Native bindings tried in order by `initBackend('tensorflow' | 'auto')`. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/**
 * Selects and initialises a TensorFlow.js backend and returns the one in use.
 *
 * `auto` takes the native TensorFlow binding when `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node` is installed (both are optional, because their install script
 * downloads libtensorflow), else WebAssembly, else plain JavaScript. On wasm and cpu it
 * registers the one-pass JavaScript `UnsortedSegmentSum` kernel (the gradient of every
 * embedding lookup). It then checks that every kernel in {@link REQUIRED_KERNELS} exists and
 * switches TensorFlow.js to production mode, which turns off its debug checks and its
 * console banner on the cpu backend.
 *
 * @param requested - the backend to use, or `auto`.
 * @param logger - receives the selected backend (info) and skipped native packages (debug).
 * @returns the backend now active.
 * @throws Error when an explicitly requested backend cannot start, or a required kernel is missing (the message names the op).
 * @example
 * const backend = await initBackend('auto', logger); // 'wasm' on a machine without tfjs-node
 */
export async function initBackend(requested: BackendName | 'auto', logger: Logger = silentLogger): Promise<BackendName> {
  // Validate the request.
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(requested)) {
    throw new RangeError(invalidArgument('initBackend', 'requested', "'auto', 'tensorflow', 'wasm' or 'cpu'", `'${String(requested)}'`));
  }
  tf.enableProdMode();

  // Try the backends in order of preference.
  const candidates: BackendName[] = requested === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [requested];
  for (const candidate of candidates) {
    const failure = await tryBackend(candidate, logger);
    if (failure === null) {
      checkKernels(candidate);
      logger.info(backendSelected(candidate, await describeBackend(candidate)));
      return candidate;
    }
    if (requested !== 'auto') {
      throw new Error(backendUnavailable(candidate, failure));
    }
    logger.debug(backendUnavailable(candidate, failure));
  }
  throw new Error(backendUnavailable('auto', 'none of tensorflow, wasm and cpu could start'));
}

/**
 * Throws when the active backend lacks a kernel that the models need.
 *
 * @throws Error naming the first missing op and the backend.
 */
export function checkKernels(backend: string = tf.getBackend()): void {
  for (const kernel of REQUIRED_KERNELS) {
    if (tf.getKernel(kernel, backend) === undefined) {
      throw new Error(missingKernel(kernel, backend));
    }
  }
}

/** Starts one backend; returns `null` on success or the reason it failed. */
async function tryBackend(backend: BackendName, logger: Logger): Promise<string | null> {
  try {
    if (backend === 'tensorflow') {
      const loaded = loadNativeBinding(logger);
      if (loaded === null) {
        return `neither ${NATIVE_PACKAGES.join(' nor ')} is installed`;
      }
    }
    if (backend === 'wasm') {
      require('@tensorflow/tfjs-backend-wasm');
    }
    const ok = await tf.setBackend(backend);
    if (!ok) {
      return 'TensorFlow.js could not initialise it';
    }
    await tf.ready();
    if (backend === 'wasm' || backend === 'cpu') {
      registerUnsortedSegmentSum(backend);
    }
    if (backend === 'wasm') {
      registerFastSlice();
      registerFastSplits();
    }
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Loads the first native binding that is installed; returns its package name or `null`. */
function loadNativeBinding(logger: Logger): string | null {
  for (const name of NATIVE_PACKAGES) {
    try {
      require(name);
      return name;
    } catch (error) {
      logger.debug(nativeBindingSkipped(name, error instanceof Error ? error.message.split('\n')[0] : String(error)));
    }
  }
  return null;
}

async function describeBackend(backend: BackendName): Promise<string> {
  if (backend === 'wasm') {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    return `WebAssembly${simd ? ' with SIMD' : ' without SIMD'}${threads ? ', multi-threaded' : ', single-threaded'}`;
  }
  if (backend === 'tensorflow') {
    return 'native TensorFlow binding';
  }
  return 'plain JavaScript';
}
