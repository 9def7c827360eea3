import { parentPort } from 'node:worker_threads';
import { accumulateOutOfBag, growTree, treeSeed, type ForestOptions, type TrainingData, type Tree } from './random-forest';

/**
 * Grows trees on shared binned data, taking the next tree index from a shared counter until
 * none is left; posts each tree as it finishes (the main thread counts progress), then the
 * out-of-bag sums of its trees.
 */
export interface ForestJob {
  rows: number;
  features: number;
  bins: SharedArrayBuffer | ArrayBuffer;
  y: SharedArrayBuffer | ArrayBuffer;
  edges: Float64Array[];
  options: ForestOptions;
  /** Int32 counter of the next tree to grow, shared by every thread (Atomics.add). */
  counter: SharedArrayBuffer;
  outOfBag: boolean;
}

export type ForestWorkerMessage =
  | { type: 'tree'; index: number; tree: Tree }
  | { type: 'done'; oobSum: Float64Array | undefined; oobCount: Uint32Array | undefined }
  | { type: 'error'; message: string };

parentPort?.once('message', (job: ForestJob) => {
  try {
    const data: TrainingData = {
      rows: job.rows,
      features: job.features,
      // Local copies: reading a SharedArrayBuffer-backed array in the hot loop measured slower.
      bins: new Uint8Array(job.bins, 0, job.rows * job.features).slice(),
      edges: job.edges,
      y: new Float64Array(job.y, 0, job.rows).slice(),
    };
    const oobSum = job.outOfBag ? new Float64Array(job.rows) : undefined;
    const oobCount = job.outOfBag ? new Uint32Array(job.rows) : undefined;
    const counter = new Int32Array(job.counter);
    for (let index = Atomics.add(counter, 0, 1); index < job.options.trees; index = Atomics.add(counter, 0, 1)) {
      const { tree, inBag } = growTree(data, job.options, treeSeed(job.options.seed, index));
      if (oobSum && oobCount && inBag) accumulateOutOfBag(tree, inBag, data, oobSum, oobCount);
      const message: ForestWorkerMessage = { type: 'tree', index, tree };
      // The tree's arrays are fresh ArrayBuffers (growTree builds them with .from): transfer them.
      const buffers = [tree.feature, tree.threshold, tree.binThreshold, tree.left, tree.right, tree.value].map((array) => array.buffer as ArrayBuffer);
      parentPort!.postMessage(message, buffers);
    }
    const done: ForestWorkerMessage = { type: 'done', oobSum, oobCount };
    parentPort!.postMessage(done);
  } catch (error) {
    const message: ForestWorkerMessage = { type: 'error', message: error instanceof Error ? error.message : String(error) };
    parentPort!.postMessage(message);
  }
});
