import type { CacheDb } from '../../pipeline/cache/cache-db';
import { createObservationWriter, type CleanRow, type ObservationWriter, type WriteResult } from '../../pipeline/cache/observation-writer';

/**
 * A cleaned observation for tests: `dt` follows from observed_at, and it is a "no drop" row
 * unless the fields say otherwise.
 */
export function cleanRow(fields: Pick<CleanRow, 'product_id' | 'observed_at'> & Partial<CleanRow>): CleanRow {
  return {
    source: 's',
    dt: fields.observed_at.slice(0, 10),
    title: `T ${fields.product_id}`,
    category: 'c',
    price: 2.5,
    old_price: null,
    currency: 'EUR',
    drop_amount: null,
    drop_pct: null,
    is_drop: false,
    drop_label: 'no drop',
    ...fields,
  };
}

/**
 * Stores rows in the cache the way the ETL and the sync do: through the observation writer, in
 * one transaction (the views are read-only; the writer keeps the rows and the rollups).
 */
export function storeRows(db: CacheDb, rows: readonly CleanRow[], origin: 'local' | 'athena' = 'local'): WriteResult {
  return writeInTransaction(db, createObservationWriter(db, { origin }), rows);
}

/** One batch through `writer`, committed with its rollups (a writer kept across batches, as the ETL keeps it). */
export function writeInTransaction(db: CacheDb, writer: ObservationWriter, rows: readonly CleanRow[]): WriteResult {
  return db.transaction(() => {
    const result = writer.writeBatch(rows);
    writer.flush();
    return result;
  })();
}
