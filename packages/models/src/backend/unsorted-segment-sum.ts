import * as tf from '@tensorflow/tfjs';

/** Backend methods the kernel uses; the cpu backend has `makeTensorInfo`, wasm has `makeOutput`. */
interface KernelBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo?: (shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues) => tf.TensorInfo;
  makeOutput?: (shape: number[], dtype: tf.DataType) => tf.TensorInfo;
  typedArrayFromHeap?: (info: tf.TensorInfo) => tf.backend_util.TypedArray;
}

/**
 * Sums the rows of `x` into `numSegments` output rows chosen by `segmentIds`, in plain
 * JavaScript: `out[segmentIds[i], ...] += x[i, ...]`. Ids outside `[0, numSegments)` are
 * dropped, as TensorFlow's `UnsortedSegmentSum` drops them.
 *
 * This is the gradient of `tf.gather` (so of every embedding lookup). The wasm backend of
 * TensorFlow.js 4.22 has no kernel for it. The cpu backend's kernel makes one full pass over
 * `x` per segment, O(numSegments · size(x)): 3,707 passes for the ML-1M item table. This
 * kernel makes one pass, O(size(x)).
 *
 * @param x - `[n, ...inner]` row-major, float32 or int32.
 * @param segmentIds - `[n]` int32 (or any shape that is a prefix of `x`'s shape, flattened).
 * @param numSegments - number of output rows.
 * @returns `[numSegments, ...inner]` row-major, same dtype as `x`.
 */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  segmentIds: ArrayLike<number>,
  numSegments: number,
  out: { [index: number]: number; fill(value: number): unknown },
): void {
  // Width of one row: the elements of x per segment id.
  const rows = segmentIds.length;
  const inner = rows === 0 ? 0 : x.length / rows;
  out.fill(0);

  // Add every row of x into the output row its id selects.
  for (let i = 0; i < rows; i++) {
    const id = segmentIds[i];
    if (id < 0 || id >= numSegments) {
      continue;
    }
    const source = i * inner;
    const target = id * inner;
    for (let j = 0; j < inner; j++) {
      out[target + j] += x[source + j];
    }
  }
}

function unsortedSegmentSumKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as KernelBackendLike;
  const x = args.inputs['x'] as tf.TensorInfo;
  const segmentIds = args.inputs['segmentIds'] as tf.TensorInfo;
  const numSegments = (args.attrs as { numSegments: number }).numSegments;

  // Output shape: the segment axis replaces the leading axes that segmentIds covers.
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  const outSize = outShape.reduce((a, b) => a * b, 1);

  // On wasm, read and write the heap in place; allocate first, because growing the heap
  // detaches views taken earlier.
  if (backend.makeOutput !== undefined && backend.typedArrayFromHeap !== undefined) {
    const out = backend.makeOutput(outShape, x.dtype);
    unsortedSegmentSumValues(backend.typedArrayFromHeap(x), backend.typedArrayFromHeap(segmentIds), numSegments, backend.typedArrayFromHeap(out));
    return out;
  }
  const xValues = backend.readSync(x.dataId);
  const idValues = backend.readSync(segmentIds.dataId);
  const values = x.dtype === 'int32' ? new Int32Array(outSize) : new Float32Array(outSize);
  unsortedSegmentSumValues(xValues, idValues, numSegments, values);
  if (backend.makeTensorInfo === undefined) {
    throw new TypeError('UnsortedSegmentSum: the backend has neither makeOutput nor makeTensorInfo.');
  }
  return backend.makeTensorInfo(outShape, x.dtype, values);
}

/**
 * Registers the one-pass JavaScript `UnsortedSegmentSum` kernel for a backend, replacing a
 * kernel already registered there (the cpu backend's is O(numSegments · size(x))).
 *
 * @param backendName - `wasm` or `cpu`.
 */
export function registerUnsortedSegmentSum(backendName: string): void {
  if (tf.getKernel('UnsortedSegmentSum', backendName) !== undefined) {
    tf.unregisterKernel('UnsortedSegmentSum', backendName);
  }
  tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSumKernel as unknown as tf.KernelFunc });
}
