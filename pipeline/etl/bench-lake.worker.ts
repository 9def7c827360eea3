/**
 * Writes the `pricedrop bench etl` lake on its own thread (see generateBenchLakeApart): the
 * generator's garbage stays out of the heap the measured ETL run shares.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { generateBenchLake } from './bench-etl';

const { workspace, rows, seed } = workerData as { workspace: string; rows: number; seed?: number };
try {
  parentPort?.postMessage({ ok: true, data: generateBenchLake(workspace, rows, seed) });
} catch (error) {
  parentPort?.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
