import { parentPort } from 'node:worker_threads';
import type { BacktestReport } from '../../model/evaluation/backtest';
import { backtestWorkspace } from '../../model/workspace-backtest';

/** Runs the forecaster's backtest off the backend's thread (it reads every history and replays decisions). */
export type BacktestWorkerMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; report: BacktestReport & { model_version: string } }
  | { type: 'error'; message: string };

parentPort?.once('message', (options: { workspace: string }) => {
  try {
    const report = backtestWorkspace({ workspace: options.workspace, onProgress: (done, total) => parentPort!.postMessage({ type: 'progress', done, total } satisfies BacktestWorkerMessage) });
    parentPort!.postMessage({ type: 'done', report } satisfies BacktestWorkerMessage);
  } catch (error) {
    parentPort!.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies BacktestWorkerMessage);
  }
});
