/**
 * The analyst's side of `pricedrop bench dashboard`: four queries an analyst types against
 * `observations` (in Debian's sqlite3, or through ODBC), timed on the cache and, in the same run,
 * on a reference: a plain table with the Athena table's 14 columns holding the same rows, with
 * indexes on dt and product_id. The cache's storage is worth what these cost next to that table.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { CacheDb } from '../cache/cache-db';

/** Milliseconds of each query, read to its last row. */
export interface AnalystSqlTimes {
  group_by_category_ms: number;
  one_day_ms: number;
  one_product_ms: number;
  full_scan_ms: number;
}

/** What the queries answered, to check that both sides hold the same rows. */
export interface AnalystSqlAnswers {
  byCategory: unknown[];
  oneDay: unknown;
  oneProductRows: number;
  fullScanRows: number;
}

export interface AnalystSqlArgs {
  /** A day in the data (YYYY-MM-DD). */
  day: string;
  source: string;
  productId: string;
}

/** Runs per query; the fastest counts (the first may read the file from disk, on either side). */
const RUNS = 2;

function fastest(fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    fn();
    best = Math.min(best, performance.now() - started);
  }
  return Math.round(best * 100) / 100;
}

/** Times the four queries over `observations` of `db`. */
export function timeAnalystSql(db: Database.Database, args: AnalystSqlArgs): { times: AnalystSqlTimes; answers: AnalystSqlAnswers } {
  const byCategory = db.prepare('SELECT category, avg(drop_pct), count(*) FROM observations GROUP BY category ORDER BY category').raw();
  const oneDay = db.prepare('SELECT count(*), avg(price) FROM observations WHERE dt = ?').raw();
  const oneProduct = db.prepare('SELECT * FROM observations WHERE source = ? AND product_id = ?').raw();
  const fullScan = db.prepare('SELECT * FROM observations').raw();
  const answers: AnalystSqlAnswers = { byCategory: [], oneDay: undefined, oneProductRows: 0, fullScanRows: 0 };
  const times: AnalystSqlTimes = {
    group_by_category_ms: fastest(() => (answers.byCategory = byCategory.all())),
    one_day_ms: fastest(() => (answers.oneDay = oneDay.get(args.day))),
    one_product_ms: fastest(() => (answers.oneProductRows = oneProduct.all(args.source, args.productId).length)),
    full_scan_ms: fastest(() => {
      let n = 0;
      for (const row of fullScan.iterate()) if (row) n++;
      answers.fullScanRows = n;
    }),
  };
  return { times, answers };
}

/**
 * Copies the cache's `observations` into a plain table of a new database in `dir` (the
 * reference), with indexes on dt and product_id; returns its file and its bytes per row.
 */
export function buildReferenceTable(cache: CacheDb, dir: string): { file: string; bytesPerRow: number } {
  const file = join(dir, 'reference.db');
  const reference = new Database(file);
  reference.pragma('journal_mode = WAL');
  reference.exec(`CREATE TABLE observations (
    source TEXT NOT NULL, product_id TEXT NOT NULL, observed_at TEXT NOT NULL, dt TEXT NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL,
    price REAL NOT NULL, old_price REAL, currency TEXT NOT NULL, drop_amount REAL, drop_pct REAL, is_drop INTEGER NOT NULL, drop_label TEXT NOT NULL,
    origin TEXT NOT NULL)`);
  reference.close();
  cache.prepare('ATTACH DATABASE ? AS reference').run(file);
  try {
    cache.exec(`INSERT INTO reference.observations SELECT * FROM main.observations;
                CREATE INDEX reference.observations_dt ON observations (dt);
                CREATE INDEX reference.observations_product_id ON observations (product_id);`);
  } finally {
    cache.exec('DETACH DATABASE reference');
  }
  const check = new Database(file);
  try {
    check.pragma('wal_checkpoint(TRUNCATE)');
    const rows = check.prepare('SELECT COUNT(*) FROM observations').pluck().get() as number;
    return { file, bytesPerRow: bytesPerRow(check, rows) };
  } finally {
    check.close();
  }
}

/** The database's bytes in use (pages not on the free list) per observation. */
export function bytesPerRow(db: Database.Database, rows: number): number {
  const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
  return rows === 0 ? 0 : Math.round((pages * (db.pragma('page_size', { simple: true }) as number)) / rows);
}
