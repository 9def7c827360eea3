import { availableParallelism } from 'node:os';
import { type Worker } from 'node:worker_threads';
import { startWorker } from '../../pipeline/base/worker-threads';
import { binColumns } from './binning';
import { accumulateOutOfBag, growTree, treeSeed, type ForestOptions, type Tree, type TrainingData, type Forest } from './random-forest';
import { type ForestJob, type ForestWorkerMessage } from './forest-train.worker';

export interface ForestFitInput {
  /** Feature columns (column-major): `columns[f][i]` is feature f of row i. NaN is allowed. */
  columns: ArrayLike<number>[];
  /** One label per row: 0/1 for classification, any number for regression. */
  y: ArrayLike<number>;
}

export interface ForestFitControl {
  /** Called after each tree: (trees done, trees total). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Worker threads to use; default: the machine's cores (2 here). 1 trains on this thread. */
  threads?: number;
  /** Also compute out-of-bag predictions (needs bootstrap). */
  outOfBag?: boolean;
  /**
   * Grow trees on the calling thread too (default true). Pass false where that thread must stay
   * responsive (a server, Electron's main process): then `threads` workers do all the growing.
   */
  useThisThread?: boolean;
}

export interface ForestFit {
  forest: Forest;
  /** Out-of-bag mean prediction per training row; NaN where a row was in every tree's sample. */
  outOfBag: Float64Array | undefined;
  /** Threads that could grow trees (this one included unless useThisThread is false). */
  threads: number;
  /** Trees grown on worker threads (the rest grew on the calling thread). */
  grownByWorkers: number;
}

/**
 * Below this much work (rows × trees) a worker's start-up (about 100 ms bundled, several hundred
 * under tsx, plus its own JIT warm-up) costs more than the second core saves, so small forests
 * train on this thread alone.
 */
const PARALLEL_MIN_WORK = 1_000_000;

/**
 * Trains a forest: bins the columns once into a SharedArrayBuffer, then grows the trees on this
 * thread and `threads − 1` worker threads (tree t is seeded by (seed, t) alone, so the forest is
 * the same for any thread count). This thread yields between trees, so progress events flow.
 * Abort with `control.signal`: the workers are terminated and the promise rejects.
 */
export async function fitForest(input: ForestFitInput, options: ForestOptions, control: ForestFitControl = {}): Promise<ForestFit> {
  const rows = input.y.length;
  const features = input.columns.length;
  if (rows === 0) throw new Error('cannot train a forest on 0 rows');
  for (const column of input.columns) if (column.length !== rows) throw new Error('every feature column must have one value per label');
  control.signal?.throwIfAborted();
  const useThisThread = control.useThisThread ?? true;
  const requested = control.threads ?? availableParallelism();
  const threads = Math.max(1, Math.min(requested, options.trees, useThisThread && rows * options.trees < PARALLEL_MIN_WORK ? 1 : requested));
  const workerCount = useThisThread ? threads - 1 : threads;
  // Workers boot while this thread bins (both take about 100 ms at 100k rows). Binning is
  // synchronous, so no worker event can fire before runWorkers attaches its listeners.
  const workers = Array.from({ length: workerCount }, () => startWorker(new URL('./forest-train.worker.ts', import.meta.url)));

  let binned: ReturnType<typeof binColumns>;
  const binsBuffer = new SharedArrayBuffer(rows * features);
  const yBuffer = new SharedArrayBuffer(rows * 8);
  const y = new Float64Array(yBuffer);
  try {
    binned = binColumns(rows, features, (f) => input.columns[f]!, binsBuffer);
    for (let i = 0; i < rows; i++) y[i] = input.y[i] as number;
  } catch (error) {
    for (const worker of workers) void worker.terminate();
    throw error;
  }
  const data: TrainingData = { rows, features, bins: binned.bins, edges: binned.edges, y };
  const wantOob = Boolean(control.outOfBag && options.bootstrap);
  const trees: (Tree | undefined)[] = new Array(options.trees);
  const oobSum: Float64Array | undefined = wantOob ? new Float64Array(rows) : undefined;
  const oobCount: Uint32Array | undefined = wantOob ? new Uint32Array(rows) : undefined;

  // Work sharing: this thread and (threads − 1) workers take the next tree index from one
  // shared counter, so a slow starter (a worker boots in about 100 ms) simply grows fewer trees.
  const counter = new Int32Array(new SharedArrayBuffer(4));
  let done = 0;
  let grownByWorkers = 0;
  const progress = (fromWorker: boolean) => {
    if (fromWorker) grownByWorkers++;
    control.onProgress?.(++done, options.trees);
  };
  const workersDone =
    workers.length > 0
      ? runWorkers(workers, { rows, features, bins: binsBuffer, y: yBuffer, edges: binned.edges, options, outOfBag: wantOob, counter: counter.buffer as SharedArrayBuffer }, trees, progress, control.signal)
      : Promise.resolve([]);
  // Keep a rejection from going unhandled while this thread is still growing its own trees.
  workersDone.catch(() => undefined);
  try {
    for (let t = useThisThread ? Atomics.add(counter, 0, 1) : options.trees; t < options.trees; t = Atomics.add(counter, 0, 1)) {
      control.signal?.throwIfAborted();
      const { tree, inBag } = growTree(data, options, treeSeed(options.seed, t));
      trees[t] = tree;
      if (oobSum && oobCount && inBag) accumulateOutOfBag(tree, inBag, data, oobSum, oobCount);
      progress(false);
      // Let the event loop run between trees: worker messages, progress events, abort.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } catch (error) {
    // Stop the workers too (an abort already did; a failure here must not leave them running).
    Atomics.store(counter, 0, options.trees);
    await workersDone.catch(() => undefined);
    throw error;
  }
  const partials = await workersDone;
  if (oobSum && oobCount) {
    for (const partial of partials) {
      for (let i = 0; i < rows; i++) {
        oobSum[i]! += partial.oobSum![i]!;
        oobCount[i]! += partial.oobCount![i]!;
      }
    }
  }

  let outOfBag: Float64Array | undefined;
  if (oobSum && oobCount) {
    outOfBag = new Float64Array(rows);
    for (let i = 0; i < rows; i++) outOfBag[i] = oobCount[i]! > 0 ? oobSum[i]! / oobCount[i]! : Number.NaN;
  }
  return { forest: { trees: trees as Tree[], features }, outOfBag, threads, grownByWorkers };
}

interface WorkerPartial {
  oobSum: Float64Array | undefined;
  oobCount: Uint32Array | undefined;
}

function runWorkers(workers: Worker[], job: ForestJob, trees: (Tree | undefined)[], progress: (fromWorker: boolean) => void, signal: AbortSignal | undefined): Promise<WorkerPartial[]> {
  const threads = workers.length;
  const terminateAll = () => {
    for (const worker of workers) void worker.terminate();
  };
  return new Promise<WorkerPartial[]>((resolve, reject) => {
    const partials: WorkerPartial[] = [];
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      terminateAll();
      reject(error);
    };
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new DOMException('training aborted', 'AbortError'));
    signal?.addEventListener('abort', onAbort, { once: true });
    workers.forEach((worker) => {
      let finished = false;
      worker.on('message', (message: ForestWorkerMessage) => {
        if (message.type === 'tree') {
          trees[message.index] = message.tree;
          progress(true);
        } else if (message.type === 'done') {
          finished = true;
          partials.push({ oobSum: message.oobSum, oobCount: message.oobCount });
          void worker.terminate();
          if (partials.length === threads && !settled) {
            settled = true;
            signal?.removeEventListener('abort', onAbort);
            resolve(partials);
          }
        } else fail(new Error(`forest worker failed: ${message.message}`));
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => {
        if (!finished) fail(new Error(`forest worker exited with code ${code}`));
      });
      worker.postMessage(job);
    });
  });
}
