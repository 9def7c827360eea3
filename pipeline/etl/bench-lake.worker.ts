/**
 * Writes the `pricedrop bench etl` lake on its own thread (see generateBenchLakeApart): the
 * generator's garbage stays out of the heap the measured ETL run shares.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { postWorkerTask } from '../base/worker-threads';
import { generateBenchLake } from './bench-etl';

const { workspace, rows, seed } = workerData as { workspace: string; rows: number; seed?: number };
void postWorkerTask(parentPort, () => generateBenchLake(workspace, rows, seed));
