import * as tf from '@tensorflow/tfjs';

/** Methods of the wasm backend that the kernel uses. */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/** Marks the kernel function installed here, so that registering twice does not wrap it twice. */
const FAST_SLICE = Symbol('malloc.fastSlice');

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type KernelFunction = ((args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[]) & { [FAST_SLICE]?: true };

/**
 * Registers a `Slice` kernel for the wasm backend that copies a contiguous slice straight
 * from the wasm heap, and hands every other slice to the backend's own kernel.
 *
 * The wasm `Slice` kernel of TensorFlow.js 4.22 first copies its whole input out of the heap
 * (`readSync`). Taking the 128 batch entries of a `[128, 200, 200]` tensor one by one thus
 * copied 128 × 20 MB and took 0.76 s. The result is the same bytes as the backend's kernel.
 */
export function registerFastSlice(): void {
  const existing = tf.getKernel('Slice', 'wasm');
  if (existing === undefined || (existing.kernelFunc as KernelFunction)[FAST_SLICE] === true) {
    return;
  }
  const fallback = existing.kernelFunc as KernelFunction;
  const kernelFunc: KernelFunction = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const attrs = args.attrs as { begin: number[]; size: number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
    if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, begin, size)) {
      return fallback(args);
    }

    // Allocate first: growing the heap would detach views taken earlier.
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput(size, x.dtype);
    const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x.shape));
    const count = size.reduce((a, b) => a * b, 1);
    backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + count));
    return out;
  };
  kernelFunc[FAST_SLICE] = true;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ ...existing, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
