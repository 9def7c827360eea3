import { parentPort, workerData } from 'node:worker_threads';
import type { BacktestReport } from '../../model/evaluation/report-types';
import { backtestWorkspace } from './workspace-backtest';
import { postWorkerTask } from '../base/worker-threads';

/** Runs the forecaster's backtest off the backend's thread (it reads every history and replays decisions). */
export interface BacktestProgress {
  done: number;
  total: number;
}

const { workspace } = workerData as { workspace: string };
void postWorkerTask<BacktestReport & { model_version: string }, BacktestProgress>(parentPort, (onProgress) =>
  backtestWorkspace({ workspace, onProgress: (done, total) => onProgress({ done, total }) }),
);
