import { parentPort } from 'node:worker_threads';
import { trainModel, type TrainModelOptions, type TrainProgress, type TrainReport } from './training';

/** Runs `trainModel` off the caller's thread (see train-model-runner.ts); posts progress, then the report. */
export type TrainWorkerMessage = { type: 'progress'; progress: TrainProgress } | { type: 'done'; report: TrainReport } | { type: 'error'; message: string };

parentPort?.once('message', (options: TrainModelOptions) => {
  trainModel(options, { onProgress: (progress) => parentPort!.postMessage({ type: 'progress', progress } satisfies TrainWorkerMessage) })
    .then((report) => parentPort!.postMessage({ type: 'done', report } satisfies TrainWorkerMessage))
    .catch((error: unknown) => parentPort!.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies TrainWorkerMessage));
});
