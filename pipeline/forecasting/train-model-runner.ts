import { awaitTerminableTask, startWorker } from '../base/worker-threads';
import type { TrainProgress, TrainReport } from '../../model/training';
import type { TrainModelOptions } from './workspace-training';

/**
 * Trains a model entirely on a worker thread: the caller's thread (the desktop backend, a
 * server) only receives progress events and the final report. Aborting terminates the worker;
 * the promise then rejects with an AbortError and no model file is written (the file is
 * replaced atomically at the very end of training).
 */
export async function trainModelInWorker(options: TrainModelOptions, control: { onProgress?: (progress: TrainProgress) => void; signal?: AbortSignal } = {}): Promise<TrainReport> {
  const { signal } = control;
  signal?.throwIfAborted();
  const worker = startWorker(new URL('./train-model.worker.ts', import.meta.url), { workerData: options });
  return awaitTerminableTask<TrainReport, TrainProgress>(worker, 'training worker', {
    onProgress: control.onProgress,
    signal,
    abortError: () => (signal?.reason instanceof Error ? signal.reason : new DOMException('training aborted', 'AbortError')),
  });
}
