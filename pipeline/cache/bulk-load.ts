import type { CacheDb } from './cache-db';
import { processAlive } from '../base/process-alive';

/**
 * Bulk loads with the indexes of `observation_records` built after the rows
 * (docs/decisions/0012-typed-cache-rows.md, "Bulk loads"). `(dt)` and `(descriptor)` are
 * dropped while a load appends and built at its end with one sort each, as migration 0900 builds
 * them. The unique key `(product, observed_at)` is dropped too when the table is empty at the
 * start (a new cache, a first ETL, the benches): the writer knows each product's latest row
 * (`product_keys.last_row`, migration 1000), so a row later than it is new and one at that very
 * instant a duplicate, with no index. Anything only the key can answer (a late row, the price
 * before a late row, the rollups' rebuild) builds it first, in the caller's transaction
 * (`ensureKeyIndex`), and the load goes on with it: every count and every row is what an indexed
 * load gives. Readers stay correct meanwhile: the product views read `last_row`, not the key; a
 * filter on a day, a category or one product's history scans the table instead of seeking.
 *
 * The deferred state is the `bulk_load` row of `meta` (the loading process's pid), committed with
 * the DROP INDEX: a load that dies (killed, crashed, a full disk while the indexes are built) is
 * finished by the next `openCache` once its process is gone. Rows appended without the key never
 * repeat one (above), so building it cannot fail on a duplicate.
 */

/** The key as migrations/0900-typed-observation-records.ts creates it. */
const KEY_INDEX = 'CREATE UNIQUE INDEX IF NOT EXISTS observation_records_key ON observation_records (product, observed_at)';
/** The two secondary indexes as migrations/0900-typed-observation-records.ts creates them. */
const DEFERRED_INDEXES = [
  'CREATE INDEX IF NOT EXISTS observation_records_dt ON observation_records (dt)',
  'CREATE INDEX IF NOT EXISTS observation_records_descriptor ON observation_records (descriptor)',
];
const DROP_INDEXES = 'DROP INDEX IF EXISTS observation_records_dt; DROP INDEX IF EXISTS observation_records_descriptor;';
const DROP_KEY_INDEX = 'DROP INDEX IF EXISTS observation_records_key';
const META_KEY = 'bulk_load';

export interface BulkLoad {
  /** Whether this load appends without the secondary indexes (finish() builds them). */
  readonly deferred: boolean;
  /** Whether it also started without the key (an empty table; see above). */
  readonly keyDeferred: boolean;
  /**
   * Builds the deferred indexes (one sort each) and clears the deferred state, in one
   * transaction; call it after the load's last commit, outside a transaction. A failure (a full
   * disk) rolls back to the deferred state, consistent: the next `openCache` finishes it.
   */
  finish(): void;
}

function loaderPid(db: CacheDb): number | undefined {
  const value = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(META_KEY) as string | undefined;
  return value === undefined ? undefined : (JSON.parse(value) as { pid: number }).pid;
}

/**
 * A check, prepared once, of whether `observation_records` has its key now (not during a bulk load
 * into an empty table): the writer asks it at every batch.
 */
export function keyIndexCheck(db: CacheDb): () => boolean {
  const key = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'observation_records_key'");
  return () => key.get() !== undefined;
}

/** Whether `observation_records` has its key now. */
export function hasKeyIndex(db: CacheDb): boolean {
  return keyIndexCheck(db)();
}

/**
 * Builds the key if a bulk load deferred it (one sort of the rows so far); nothing otherwise.
 * Runs in the caller's transaction, if any.
 */
export function ensureKeyIndex(db: CacheDb): void {
  db.exec(KEY_INDEX);
}

function buildIndexes(db: CacheDb): void {
  db.transaction(() => {
    db.exec(KEY_INDEX);
    for (const sql of DEFERRED_INDEXES) db.exec(sql);
    db.prepare('DELETE FROM meta WHERE key = ?').run(META_KEY);
  }).immediate();
}

/**
 * Starts a load that will write about `expectedRows` rows. When that is at least as many as the
 * table holds (a new cache, a first big ETL, the benches), the secondary indexes are deferred:
 * rebuilding them from all rows then costs about what maintaining them row by row would cost
 * for the table's own rows, and far less than maintaining them for the load's. Call outside a
 * transaction.
 */
export function startBulkLoad(db: CacheDb, expectedRows: number): BulkLoad {
  // Rows are only appended (a rowid table), so the largest rowid is the row count or more: no scan.
  const held = db.prepare('SELECT COALESCE(MAX(rowid), 0) FROM observation_records').pluck().get() as number;
  const owner = loaderPid(db);
  const someoneElseLoads = owner !== undefined && owner !== process.pid && processAlive(owner);
  const deferred = expectedRows >= held && expectedRows > 0 && !someoneElseLoads;
  if (!deferred) return { deferred, keyDeferred: false, finish: () => undefined };
  const keyDeferred = held === 0;
  db.transaction(() => {
    db.exec(DROP_INDEXES);
    if (keyDeferred) db.exec(DROP_KEY_INDEX);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(META_KEY, JSON.stringify({ pid: process.pid }));
  }).immediate();
  return { deferred, keyDeferred, finish: () => buildIndexes(db) };
}

/**
 * Finishes a load whose process is gone (called by `openCache`): builds the deferred indexes.
 * `ownProcess`: also one of this process (the caller knows none of its loads is running, as the
 * ETL under its workspace lock). Leaves it for later when the cache is busy (another writer) or
 * the disk is full: until then the cache is consistent and every query correct, only day and
 * category filters scan.
 */
export function repairBulkLoad(db: CacheDb, options: { ownProcess?: boolean } = {}): void {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
  if (!hasMeta) return;
  const owner = loaderPid(db);
  if (owner === undefined || (owner === process.pid ? !options.ownProcess : processAlive(owner))) return;
  try {
    buildIndexes(db);
  } catch (error) {
    // Another writer holds the cache (its busy timeout ran out), or no room for the indexes.
    const code = (error as { code?: unknown }).code;
    if (code === 'SQLITE_FULL' || code === 'SQLITE_BUSY') return;
    throw error;
  }
}
