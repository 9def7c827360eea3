import { startWorker } from '../pipeline/runtime/worker-threads';
import { type TrainModelOptions, type TrainProgress, type TrainReport } from './training';
import { type TrainWorkerMessage } from './train-model.worker';

/**
 * Trains a model entirely on a worker thread: the caller's thread (the desktop backend, a
 * server) only receives progress events and the final report. Aborting terminates the worker;
 * the promise then rejects with an AbortError and no model file is written (the file is
 * replaced atomically at the very end of training).
 */
export function trainModelInWorker(options: TrainModelOptions, control: { onProgress?: (progress: TrainProgress) => void; signal?: AbortSignal } = {}): Promise<TrainReport> {
  control.signal?.throwIfAborted();
  const worker = startWorker(new URL('./train-model.worker.ts', import.meta.url));
  return new Promise<TrainReport>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, report?: TrainReport) => {
      if (settled) return;
      settled = true;
      control.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (error) reject(error);
      else resolve(report!);
    };
    const onAbort = () => finish(control.signal?.reason instanceof Error ? control.signal.reason : new DOMException('training aborted', 'AbortError'));
    control.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: TrainWorkerMessage) => {
      if (message.type === 'progress') control.onProgress?.(message.progress);
      else if (message.type === 'done') finish(undefined, message.report);
      else finish(new Error(message.message));
    });
    worker.on('error', (error) => finish(error));
    worker.on('exit', (code) => finish(new Error(`training worker exited with code ${code}`)));
    worker.postMessage(options);
  });
}
