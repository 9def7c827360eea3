import { parentPort, workerData } from 'node:worker_threads';
import { postWorkerTask } from '../base/worker-threads';
import type { TrainProgress, TrainReport } from '../../model/training';
import { trainModel, type TrainModelOptions } from './workspace-training';

/** Runs `trainModel` off the caller's thread (see train-model-runner.ts): progress events, then the report. */
void postWorkerTask<TrainReport, TrainProgress>(parentPort, (onProgress) => trainModel(workerData as TrainModelOptions, { onProgress }));
