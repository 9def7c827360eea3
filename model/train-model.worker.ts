import { parentPort, workerData } from 'node:worker_threads';
import { postWorkerTask } from '../pipeline/base/worker-threads';
import { trainModel, type TrainModelOptions, type TrainProgress, type TrainReport } from './training';

/** Runs `trainModel` off the caller's thread (see train-model-runner.ts): progress events, then the report. */
void postWorkerTask<TrainReport, TrainProgress>(parentPort, (onProgress) => trainModel(workerData as TrainModelOptions, { onProgress }));
