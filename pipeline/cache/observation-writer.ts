import type { CacheDb } from './cache-db';
import { createRollupMaintainer } from './dashboard-rollups';

/**
 * A cleaned, labelled observation: one row of `observations`. Produced by the local ETL
 * (pipeline/etl/price-rules.ts) and by the Athena sync (rows of the Glue job's cleaned/ table).
 */
export interface CleanRow {
  source: string;
  product_id: string;
  /** UTC ISO 8601 with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  observed_at: string;
  /** `YYYY-MM-DD` of observed_at. */
  dt: string;
  title: string;
  category: string;
  price: number;
  old_price: number | null;
  currency: string;
  drop_amount: number | null;
  drop_pct: number | null;
  is_drop: boolean;
  drop_label: 'drop' | 'no drop';
}

export interface WriteResult {
  /** Rows that were new. */
  inserted: number;
  /** Rows whose (source, product_id, observed_at) was already in the cache (or earlier in the batch). */
  duplicates: number;
}

export interface ObservationWriterOptions {
  /** Recorded in `observations.origin`: 'local' (desktop ETL, the default) or 'athena' (cloud sync). */
  origin?: 'local' | 'athena';
  /**
   * Smallest batch that may take the bulk path (see createObservationWriter); default
   * BULK_MIN_ROWS. Tests lower it to run both paths over small inputs.
   */
  bulkMinRows?: number;
}

export interface ObservationWriter {
  /**
   * Inserts a batch; the first row for a key wins, later ones count as duplicates.
   * Runs inside the caller's transaction (the caller commits), so a file's rows and its
   * manifest entry can commit together.
   */
  writeBatch(rows: readonly CleanRow[]): WriteResult;
  /**
   * Writes the pending `products` updates (latest price per product, kept write-behind because
   * one upsert per row costs as much as the insert). Call it before committing.
   */
  flush(): void;
}

interface ProductUpdate {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  price: number;
  observed_at: string;
}

function compareKey(a: CleanRow, b: CleanRow): number {
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.product_id !== b.product_id) return a.product_id < b.product_id ? -1 : 1;
  if (a.observed_at !== b.observed_at) return a.observed_at < b.observed_at ? -1 : 1;
  return 0;
}

/** Above this many pending products, flush even before the caller asks (bounds memory). */
const MAX_PENDING_PRODUCTS = 50_000;

/**
 * Batches below this size never take the bulk path: the live ETL's small batches keep the plain
 * incremental inserts (no schema change, no index rebuild). docs/decisions/0007-bulk-ingest.md.
 */
export const BULK_MIN_ROWS = 100_000;

/**
 * The single path by which cleaned rows enter the cache: `observations` plus the latest known
 * price per product in `products` (invariant after flush(): products.last_observed_at is the
 * latest observed_at of that product's observations). Rollups over `observations` hook in here.
 *
 * Two insert paths with the same result (same rows, same rowids, same rollups, same counts):
 * - incremental: `INSERT OR IGNORE` row by row in key order, the key index deciding duplicates;
 * - bulk, for a batch of at least `bulkMinRows` rows into an empty `observations` (a first load,
 *   an initial sync): duplicates are found in memory (equal keys are adjacent in the stably
 *   sorted batch), the secondary indexes of `observations` are dropped, the rows appended, and
 *   the indexes re-created from their stored SQL, all under one savepoint inside the caller's
 *   transaction (a failure or a crash leaves the table and its indexes as they were).
 *   Over a non-empty table the rebuild of the whole index costs more than it saves (measured
 *   even for a batch twice the table's size): docs/decisions/0007-bulk-ingest.md.
 */
export function createObservationWriter(db: CacheDb, options: ObservationWriterOptions = {}): ObservationWriter {
  const origin = options.origin ?? 'local';
  const insert = db.prepare(
    `INSERT OR IGNORE INTO observations
       (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const upsertProduct = db.prepare(
    `INSERT INTO products (source, product_id, title, category, currency, last_price, last_observed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (source, product_id) DO UPDATE SET
       title = excluded.title, category = excluded.category, currency = excluded.currency,
       last_price = excluded.last_price, last_observed_at = excluded.last_observed_at
     WHERE excluded.last_observed_at > products.last_observed_at`,
  );
  const bulkMinRows = options.bulkMinRows ?? BULK_MIN_ROWS;
  const anyRow = db.prepare('SELECT 1 FROM observations LIMIT 1').pluck();
  // Named indexes only: an automatic index (a UNIQUE/PRIMARY KEY constraint) has no SQL and cannot be dropped.
  const secondaryIndexes = db.prepare(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observations' AND sql IS NOT NULL ORDER BY name",
  );
  const pending = new Map<string, ProductUpdate>();
  // Dashboard rollups (dashboard-rollups.ts): fed each inserted row, written at flush().
  const rollups = createRollupMaintainer(db);

  function flush(): void {
    for (const p of pending.values()) upsertProduct.run(p.source, p.product_id, p.title, p.category, p.currency, p.price, p.observed_at);
    pending.clear();
    rollups.flush();
  }

  function insertRow(row: CleanRow): number {
    return insert.run(
      row.source,
      row.product_id,
      row.observed_at,
      row.dt,
      row.title,
      row.category,
      row.price,
      row.old_price,
      row.currency,
      row.drop_amount,
      row.drop_pct,
      row.is_drop ? 1 : 0,
      row.drop_label,
      origin,
    ).changes;
  }

  /** Books a row that was just inserted: rollup deltas and the pending products update. */
  function accept(row: CleanRow): void {
    rollups.add(row);
    const key = row.source + '\u0000' + row.product_id;
    const known = pending.get(key);
    // ISO strings of one fixed format compare like the instants they name.
    if (known === undefined || row.observed_at > known.observed_at) {
      pending.set(key, { source: row.source, product_id: row.product_id, title: row.title, category: row.category, currency: row.currency, price: row.price, observed_at: row.observed_at });
    }
  }

  function insertIncrementally(sorted: readonly CleanRow[]): number {
    let inserted = 0;
    for (const row of sorted) {
      if (insertRow(row) === 0) continue;
      inserted++;
      accept(row);
    }
    return inserted;
  }

  /** Only into an empty table: no stored row can share a key with the batch. */
  function insertInBulk(sorted: readonly CleanRow[]): number {
    // First row of each key: equal keys are adjacent and in input order (stable sort).
    const fresh: CleanRow[] = [];
    let previous: CleanRow | undefined;
    for (const row of sorted) {
      if (previous !== undefined && compareKey(previous, row) === 0) continue;
      previous = row;
      fresh.push(row);
    }
    const indexes = secondaryIndexes.all() as { name: string; sql: string }[];
    const inserted: CleanRow[] = [];
    db.transaction(() => {
      for (const index of indexes) db.exec(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
      // Still INSERT OR IGNORE: a row another constraint rejects is skipped as on the incremental path.
      for (const row of fresh) if (insertRow(row) > 0) inserted.push(row);
      for (const index of indexes) db.exec(index.sql);
    })();
    // Booked only once the savepoint holds: a failed rebuild leaves no deltas behind.
    for (const row of inserted) accept(row);
    return inserted.length;
  }

  function writeBatch(rows: readonly CleanRow[]): WriteResult {
    rollups.beginBatch();
    // Key order: producers write time-major, the key starts with the product, so unsorted inserts
    // hit B-tree pages at random. Stable sort: among equal keys the first row still wins.
    // Measured on 1M rows, 20k products: 23 s instead of 29 s wall for the inserts.
    const sorted = rows.length > 1 ? [...rows].sort(compareKey) : rows;
    const inserted = rows.length >= bulkMinRows && anyRow.get() === undefined ? insertInBulk(sorted) : insertIncrementally(sorted);
    if (pending.size > MAX_PENDING_PRODUCTS || rollups.pendingSize() > MAX_PENDING_PRODUCTS) flush();
    return { inserted, duplicates: rows.length - inserted };
  }

  return { writeBatch, flush };
}
