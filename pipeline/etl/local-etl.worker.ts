/**
 * Worker thread of the local ETL (see local-etl.ts): runs the synchronous engine off the
 * caller's thread so the UI/HTTP event loop stays responsive during a long run.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { postWorkerTask } from '../base/worker-threads';
import { runEngineInThisThread, type EtlProgress, type EtlSummary, type EtlWorkerData } from './local-etl';

void postWorkerTask<EtlSummary, EtlProgress>(parentPort, (onProgress) => runEngineInThisThread(workerData as EtlWorkerData, onProgress));
