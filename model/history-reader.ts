import { type CacheDb } from '../pipeline/cache/cache-db';
import { CategoryDropRates, DAY_MS, HistoryBuilder, type ProductHistory } from './features';

/**
 * Reads price histories out of the cache (`observations`), streaming, in the order
 * (source, product_id, observed_at) that the primary key already keeps: one product's rows
 * arrive together and in time order, so memory holds one product's raw rows at a time.
 */

export interface HistoryFilter {
  source?: string;
  productId?: string;
}

interface ObservationRow {
  source: string;
  product_id: string;
  observed_at: string;
  title: string;
  category: string;
  price: number;
  old_price: number | null;
  currency: string;
}

function whereClause(filter: HistoryFilter): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.source !== undefined) {
    parts.push('source = ?');
    params.push(filter.source);
  }
  if (filter.productId !== undefined) {
    parts.push('product_id = ?');
    params.push(filter.productId);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** Yields each product's history (segments), product after product. */
export function* iterateHistories(db: CacheDb, filter: HistoryFilter = {}): Generator<ProductHistory> {
  const { sql, params } = whereClause(filter);
  const statement = db.prepare(
    `SELECT source, product_id, observed_at, title, category, price, old_price, currency
       FROM observations ${sql}
      ORDER BY source, product_id, observed_at`,
  );
  let builder = new HistoryBuilder();
  let key = '';
  for (const row of statement.iterate(...params) as Iterable<ObservationRow>) {
    const rowKey = row.source + '\u0000' + row.product_id;
    if (rowKey !== key) {
      const history = builder.build();
      if (history) yield history;
      builder = new HistoryBuilder();
      key = rowKey;
    }
    builder.add({
      source: row.source,
      productId: row.product_id,
      observedAt: Date.parse(row.observed_at),
      title: row.title,
      category: row.category,
      price: row.price,
      oldPrice: row.old_price,
      currency: row.currency,
    });
  }
  const last = builder.build();
  if (last) yield last;
}

/**
 * The sources in the cache, through the primary key (a skip-scan: one index seek per source,
 * not a table scan; a product lookup by id without its source scanned all 310k Pick n Pay rows).
 */
export function readSources(db: CacheDb): string[] {
  const rows = db
    .prepare(
      `WITH RECURSIVE s(source) AS (
         SELECT MIN(source) FROM observations
         UNION ALL
         SELECT (SELECT MIN(source) FROM observations WHERE source > s.source) FROM s WHERE s.source IS NOT NULL
       )
       SELECT source FROM s WHERE source IS NOT NULL`,
    )
    .pluck()
    .all() as string[];
  return rows;
}

/** One product's histories (one per source that has the id), each read through the primary key. */
export function readProductHistories(db: CacheDb, productId: string, source?: string): ProductHistory[] {
  const sources = source === undefined ? readSources(db) : [source];
  return sources.flatMap((s) => [...iterateHistories(db, { source: s, productId })]);
}

/** The last observation time of each source (epoch ms): where labels stop being knowable. */
export function readDataEnds(db: CacheDb): Map<string, number> {
  const rows = db.prepare('SELECT source, MAX(observed_at) AS last FROM observations GROUP BY source').all() as { source: string; last: string }[];
  return new Map(rows.map((row) => [row.source, Date.parse(row.last)]));
}

/**
 * The last observation time of one source, fast: the `(dt, category)` index finds the newest day,
 * and only that day, then the last 31 days, are searched for the source (the whole source only
 * if it is older).
 */
export function readDataEnd(db: CacheDb, source: string): number | undefined {
  const newestDay = (db.prepare('SELECT MAX(dt) AS dt FROM observations').get() as { dt: string | null }).dt;
  if (newestDay === null) return undefined;
  const from = new Date(Date.parse(`${newestDay}T00:00:00Z`) - 31 * DAY_MS).toISOString().slice(0, 10);
  // `+source`: keeps SQLite on the dt index; left to itself it walks the whole source's primary key.
  const maxSince = (day: string) => (db.prepare('SELECT MAX(observed_at) AS last FROM observations WHERE dt >= ? AND +source = ?').get(day, source) as { last: string | null }).last;
  const last = maxSince(newestDay) ?? maxSince(from) ?? (db.prepare('SELECT MAX(observed_at) AS last FROM observations WHERE source = ?').get(source) as { last: string | null }).last;
  return last === null ? undefined : Date.parse(last);
}

/**
 * Daily drop counts per category (from the ETL's is_drop), for the category drop-rate feature.
 * With `category` and `days` ({from, to} as YYYY-MM-DD, inclusive), only that slice is read
 * (through the `(dt, category)` index): what one product's prediction needs.
 */
export function readCategoryDropRates(db: CacheDb, category?: string, days?: { from: string; to: string }): CategoryDropRates {
  if (category !== undefined && days) {
    const fromRollup = rollupDropRates(db, category, days);
    if (fromRollup) return fromRollup;
  }
  const where: string[] = [];
  const params: string[] = [];
  if (days) {
    where.push('dt >= ? AND dt <= ?');
    params.push(days.from, days.to);
  }
  if (category !== undefined) {
    where.push('category = ?');
    params.push(category);
  }
  const rows = db
    .prepare(
      `SELECT category, dt, SUM(is_drop) AS drops, COUNT(*) AS rows
         FROM observations ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY category, dt`,
    )
    .all(...params) as { category: string; dt: string; drops: number; rows: number }[];
  return new CategoryDropRates(rows.map((row) => ({ category: row.category, day: Math.floor(Date.parse(`${row.dt}T00:00:00Z`) / DAY_MS), drops: row.drops, rows: row.rows })));
}

/**
 * The same counts from the dashboard's `rollup_daily` (pipeline/cache/dashboard-rollups.ts), used
 * only when they provably match: the row count per day from the `(dt, category)` index (no table
 * lookups) must equal the rollup's. Summing is_drop from observations costs one lookup per row
 * (about 200 ms for a month of Pick n Pay); this costs a few ms.
 */
function rollupDropRates(db: CacheDb, category: string, days: { from: string; to: string }): CategoryDropRates | undefined {
  const hasRollup = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollup_daily'").get();
  if (!hasRollup) return undefined;
  const rollup = db
    .prepare(
      `SELECT dt, SUM(CASE WHEN is_drop = 1 THEN observations ELSE 0 END) AS drops, SUM(observations) AS rows
         FROM rollup_daily WHERE category = ? AND dt >= ? AND dt <= ? GROUP BY dt`,
    )
    .all(category, days.from, days.to) as { dt: string; drops: number; rows: number }[];
  const counts = db
    .prepare('SELECT dt, COUNT(*) AS rows FROM observations WHERE dt >= ? AND dt <= ? AND category = ? GROUP BY dt')
    .all(days.from, days.to, category) as { dt: string; rows: number }[];
  if (counts.length !== rollup.length) return undefined;
  const byDay = new Map(rollup.map((row) => [row.dt, row.rows]));
  if (!counts.every((row) => byDay.get(row.dt) === row.rows)) return undefined;
  return new CategoryDropRates(rollup.map((row) => ({ category, day: Math.floor(Date.parse(`${row.dt}T00:00:00Z`) / DAY_MS), drops: row.drops, rows: row.rows })));
}

/** Total observation rows (for progress totals). */
export function countObservations(db: CacheDb, filter: HistoryFilter = {}): number {
  const { sql, params } = whereClause(filter);
  return (db.prepare(`SELECT COUNT(*) AS n FROM observations ${sql}`).get(...params) as { n: number }).n;
}
