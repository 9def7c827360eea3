import { repairBulkLoad, startBulkLoad, type BulkLoad } from '../cache/bulk-load';
import { cachePath, openCache, type OpenCacheOptions } from '../cache/cache-db';
import { awaitWorkerTask, startWorker } from '../base/worker-threads';
import { EtlAbortedError, emptySummary, processRawFiles, type EtlProgress, type EtlSummary } from './etl-engine';
import { lakeDir } from '../base/lake-layout';
import { pendingRawFiles } from './pending-raw-files';
import { withWorkspaceLock } from './workspace-lock';
import { isNoSpace, noSpaceError } from '../base/disk-full';

export type { EtlProgress, EtlSummary } from './etl-engine';
export { EtlAbortedError } from './etl-engine';

export interface LocalEtlOptions {
  workspace: string;
  onProgress?: (progress: EtlProgress) => void;
  /** Aborting rolls back the file in progress; committed files stay committed. Rejects with an AbortError. */
  signal?: AbortSignal;
  /** `is_drop` threshold in percent (default 0.01). */
  minDropPct?: number;
  /** Tolerance of the future-timestamp rule (default 15 minutes). */
  futureToleranceMs?: number;
  /** The run's clock, epoch ms (default: now). Tests pin it. */
  now?: number;
  /** Run the engine on the calling thread instead of a worker thread (tests, benchmarks of the engine alone). */
  inline?: boolean;
  /** Parse on a second thread ahead of the writer; default: when the pending files hold 4 MB or more. */
  parseAhead?: boolean;
  /** Told before a migration of an existing cache runs (some rewrite every row: see logMigrations). */
  onMigration?: OpenCacheOptions['onMigration'];
  /** Told how far such a migration is (see logMigrations). */
  onMigrationProgress?: OpenCacheOptions['onMigrationProgress'];
}

/**
 * Pending bytes from which parsing moves to a second thread: below, a thread's start-up
 * (~50 ms) costs more than it saves; producer batches of a few hundred rows stay on one thread.
 */
const PARSE_AHEAD_MIN_BYTES = 4 << 20;

/**
 * Page cache of the ETL's connection, KiB. The typed rows of 0900 append, but their key and
 * descriptor indexes are product-major: each commit sweeps them. 1M-row bench lake, same load
 * (2026-12-06): 20,420 rows/s and 339 MB peak RSS with 64 MB against 17,328 and 274 MB with 16 MB.
 * (With the 0700 layout, rows only appended, 16 MB had measured faster.)
 */
const ETL_CACHE_KIB = 65536;

/**
 * Raw CSV bytes per row, to tell a bulk load from the pending files' size: about what the
 * producer writes (the bench lake: 5M rows in about 500 MB). A guess too high or too low only
 * moves where the cache starts building its secondary indexes after the rows (bulk-load.ts).
 */
const RAW_BYTES_PER_ROW = 100;

/**
 * The worker's V8 heap limits. Its live data is small (one chunk, one row batch, the latest price
 * per product), but V8 collects lazily and would otherwise grow the heap to hundreds of MB. The
 * young generation holds a row batch while it is written (8,192 rows, about 3 MB, plus the parsed
 * batches behind it): at 16 MB most of it was copied to the old generation, 8.8 s on the 2M-row
 * bench lake against 6.4 s at 48 MB (64 MB: no faster, 60 MB more RSS).
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 48 };

/** What the worker thread receives. */
export interface EtlWorkerData {
  workspace: string;
  nowMs: number;
  minDropPct?: number;
  futureToleranceMs?: number;
  /** Int32 flag: 1 asks the worker to stop (polled between row batches). */
  stop: SharedArrayBuffer;
  parseAhead?: boolean;
}

/**
 * Processes the raw files of `<workspace>/lake/price-stream/` that the manifest does not list yet
 * into `<workspace>/cache.db` (quarantined rows into `<workspace>/quarantine/`).
 *
 * - Cheap when nothing is new: a directory listing and one manifest query, no worker.
 * - One run at a time per workspace (in-process queue plus a lock file across processes).
 * - Crash-safe: each file commits with its manifest entry in one transaction.
 * - Memory flat: rows are streamed; only the latest price per product is held.
 */
export async function runLocalEtl(options: LocalEtlOptions): Promise<EtlSummary> {
  options.signal?.throwIfAborted();
  try {
    return await runLocked(options);
  } catch (error) {
    // The engine says how far it got; a full disk before it started (opening the cache, the lock file) says so too.
    if (isNoSpace(error)) throw noSpaceError(error, `the workspace (${options.workspace})`, 'the ETL stopped before committing anything new; run it again once there is room');
    throw error;
  }
}

function runLocked(options: LocalEtlOptions): Promise<EtlSummary> {
  return withWorkspaceLock(options.workspace, 'etl', async () => {
    options.signal?.throwIfAborted();
    const db = openCache(cachePath(options.workspace), { onMigration: options.onMigration, onMigrationProgress: options.onMigrationProgress });
    let pending: number;
    try {
      // Under the workspace lock no load of this process runs: one that stopped short (a full
      // disk at its index build, in this app's ETL thread) is finished here.
      repairBulkLoad(db, { ownProcess: true });
      pending = pendingRawFiles(db, lakeDir(options.workspace)).length;
    } finally {
      db.close();
    }
    if (pending === 0) return emptySummary();
    const data: EtlWorkerData = {
      workspace: options.workspace,
      nowMs: options.now ?? Date.now(),
      minDropPct: options.minDropPct,
      futureToleranceMs: options.futureToleranceMs,
      stop: new SharedArrayBuffer(4),
      parseAhead: options.parseAhead,
    };
    if (options.inline) return runEngineInThisThread(data, options.onProgress, options.signal);
    return runInWorker(data, options);
  });
}

/** The engine over the pending files, synchronously on this thread (the worker's body). */
export function runEngineInThisThread(data: EtlWorkerData, onProgress?: (progress: EtlProgress) => void, signal?: AbortSignal): EtlSummary {
  const stop = new Int32Array(data.stop);
  const db = openCache(cachePath(data.workspace));
  db.pragma(`cache_size = -${ETL_CACHE_KIB}`);
  let bulk = false;
  let load: BulkLoad | undefined;
  try {
    const files = pendingRawFiles(db, lakeDir(data.workspace));
    const bytes = files.reduce((n, file) => n + file.size, 0);
    // One checkpoint at the end of a bulk run, not one per 1,000 WAL pages: 2M-row bench lake
    // 6.4 s against 7.7 s with automatic checkpoints (5M rows, earlier layout: 83.3 s -> 74.8 s).
    bulk = bytes >= PARSE_AHEAD_MIN_BYTES;
    if (bulk) {
      db.pragma('wal_autocheckpoint = 0');
      // As many rows as the cache holds, or more: indexes after the rows (bulk-load.ts).
      load = startBulkLoad(db, Math.floor(bytes / RAW_BYTES_PER_ROW));
    }
    let summary: EtlSummary;
    try {
      summary = processRawFiles(db, data.workspace, files, {
        parseAhead: data.parseAhead ?? bulk,
        nowMs: data.nowMs,
        minDropPct: data.minDropPct,
        futureToleranceMs: data.futureToleranceMs,
        shouldStop: () => Atomics.load(stop, 0) === 1 || signal?.aborted === true,
        onProgress,
      });
    } catch (error) {
      // A failed or aborted run: the committed files' rows get their indexes now, or (a full disk)
      // at the next run, which repairs before it starts.
      if (load?.deferred) repairBulkLoad(db, { ownProcess: true });
      throw error;
    }
    try {
      load?.finish();
    } catch (error) {
      // Not tried again here: the next run builds them, once there is room.
      if (!isNoSpace(error)) throw error;
      throw noSpaceError(error, `the workspace (${data.workspace})`, `all ${summary.files} files are in the cache; its day and category indexes are built by the next run, once there is room`);
    }
    return summary;
  } finally {
    try {
      if (bulk) db.pragma('wal_checkpoint(PASSIVE)'); // readers may hold it back; later autocheckpoints finish
    } catch {
      // A checkpoint only moves committed pages into the main file; on a full disk it fails and
      // must not hide the error that stopped the run (the WAL keeps everything committed).
    }
    db.close();
  }
}

async function runInWorker(data: EtlWorkerData, options: LocalEtlOptions): Promise<EtlSummary> {
  const worker = startWorker(new URL('./local-etl.worker.ts', import.meta.url), { workerData: data, resourceLimits: WORKER_LIMITS });
  const stop = new Int32Array(data.stop);
  try {
    // Aborting asks the engine to stop between batches: it rolls back the file in progress.
    return await awaitWorkerTask<EtlSummary, EtlProgress>(worker, 'ETL worker', { onProgress: options.onProgress, signal: options.signal, onAbort: () => void Atomics.store(stop, 0, 1) });
  } catch (error) {
    throw error instanceof Error && error.name === 'AbortError' ? new EtlAbortedError(error.message) : error;
  }
}
