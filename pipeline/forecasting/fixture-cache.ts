import { openCache, type CacheDb } from '../cache/cache-db';
import { createObservationWriter } from '../cache/observation-writer';
import { fixtureRows, type FixtureOptions, type FixtureRow } from '../../model/test-fixtures';

/**
 * The forecaster's fixture histories (model/test-fixtures.ts) written into a cache: for tests and
 * `pricedrop bench serve`, which need a trained model without the ETL.
 */

/** Writes rows through the ETL's observation writer, so products and dashboard rollups match them. */
export function writeFixtureRows(db: CacheDb, rows: readonly FixtureRow[]): void {
  const writer = createObservationWriter(db);
  db.transaction(() => {
    writer.writeBatch(rows);
    writer.flush();
  })();
}

/** Creates `<workspace>/cache.db` filled with fixture rows. */
export function writeFixtureCache(cacheFile: string, options: FixtureOptions = {}): FixtureRow[] {
  const rows = fixtureRows(options);
  const db = openCache(cacheFile);
  try {
    writeFixtureRows(db, rows);
  } finally {
    db.close();
  }
  return rows;
}
