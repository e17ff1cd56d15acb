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

/**
 * Registers `Unpack` (`tf.unstack`) and `SplitV` (`tf.split`) kernels for the wasm backend that
 * copy each output straight from the wasm heap when the outputs are contiguous. They are
 * contiguous when every axis before the split axis has size 1, as in a split along axis 0 (the
 * time axis of a time-major recurrence). Every other call goes to the backend's own kernel.
 *
 * The wasm kernels of TensorFlow.js 4.22 slice each output with the internal `Slice`, which
 * copies the whole input first, so `tf.unstack` of `[200, 32, 150]` copied 200 times 3.8 MB.
 * The outputs are the same bytes as the backend's kernels give.
 */
export function registerFastSplits(): void {
  registerContiguousSplit('Unpack', (args) => {
    const x = args.inputs['value'] as tf.TensorInfo;
    const axis = normalizedAxis((args.attrs as { axis: number }).axis, x.shape.length);
    return { x, axis, sizes: new Array<number>(x.shape[axis]).fill(1), keepAxis: false };
  });
  registerContiguousSplit('SplitV', (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const attrs = args.attrs as { numOrSizeSplits: number[] | number; axis: number };
    const axis = normalizedAxis(attrs.axis, x.shape.length);
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
    return { x, axis, sizes, keepAxis: true };
  });
}

/** A split of `x` along `axis` into pieces of `sizes`. With `keepAxis` false, the pieces drop the axis (unstack). */
interface SplitRequest {
  x: tf.TensorInfo;
  axis: number;
  sizes: number[];
  keepAxis: boolean;
}

function normalizedAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function registerContiguousSplit(kernelName: 'Unpack' | 'SplitV', request: (args: KernelArgs) => SplitRequest): void {
  const existing = tf.getKernel(kernelName, 'wasm');
  if (existing === undefined || (existing.kernelFunc as KernelFunction)[FAST_SLICE] === true) {
    return;
  }
  const fallback = existing.kernelFunc as KernelFunction;
  const kernelFunc: KernelFunction = (args) => {
    const { x, axis, sizes, keepAxis } = request(args);
    const contiguous = x.shape.slice(0, axis).every((size) => size === 1);
    if (x.dtype === 'string' || !contiguous) {
      return fallback(args);
    }

    // Piece i starts after the earlier pieces, and one step along the axis is `inner` numbers.
    const backend = args.backend as WasmBackendLike;
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    let offset = 0;
    return sizes.map((size) => {
      const shape = keepAxis ? [...x.shape.slice(0, axis), size, ...x.shape.slice(axis + 1)] : [...x.shape.slice(0, axis), ...x.shape.slice(axis + 1)];
      // Allocate first: growing the heap would detach views taken earlier.
      const out = backend.makeOutput(shape, x.dtype);
      const count = size * inner;
      backend.typedArrayFromHeap(out).set(backend.typedArrayFromHeap(x).subarray(offset, offset + count));
      offset += count;
      return out;
    });
  };
  kernelFunc[FAST_SLICE] = true;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...existing, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
}
