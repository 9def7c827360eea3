/**
 * Worker thread of the local ETL (see local-etl.ts): runs the synchronous engine off the
 * caller's thread so the UI/HTTP event loop stays responsive during a long run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runEngineInThisThread, type EtlWorkerData, type EtlWorkerMessage } from './local-etl';

const data = workerData as EtlWorkerData;
const post = (message: EtlWorkerMessage) => parentPort?.postMessage(message);
try {
  const summary = runEngineInThisThread(data, (progress) => post({ type: 'progress', progress }));
  post({ type: 'done', summary });
} catch (error) {
  const err = error instanceof Error ? error : new Error(String(error));
  post({ type: 'error', name: err.name, message: err.message });
}
