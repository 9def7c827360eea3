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

/** The last observation time of each source (epoch ms): where labels stop being knowable. */
export function readDataEnds(db: CacheDb): Map<string, number> {
  const rows = db.prepare('SELECT source, MAX(observed_at) AS last FROM observations GROUP BY source').all() as { source: string; last: string }[];
  return new Map(rows.map((row) => [row.source, Date.parse(row.last)]));
}

/** Daily drop counts per category (from the ETL's is_drop), for the category drop-rate feature. */
export function readCategoryDropRates(db: CacheDb, category?: string): CategoryDropRates {
  const rows = db
    .prepare(
      `SELECT category, dt, SUM(is_drop) AS drops, COUNT(*) AS rows
         FROM observations ${category === undefined ? '' : 'WHERE category = ?'}
        GROUP BY category, dt`,
    )
    .all(...(category === undefined ? [] : [category])) as { category: string; dt: string; drops: number; rows: number }[];
  return new CategoryDropRates(rows.map((row) => ({ category: row.category, day: Math.floor(Date.parse(`${row.dt}T00:00:00Z`) / DAY_MS), drops: row.drops, rows: row.rows })));
}

/** Total observation rows (for progress totals). */
export function countObservations(db: CacheDb, filter: HistoryFilter = {}): number {
  const { sql, params } = whereClause(filter);
  return (db.prepare(`SELECT COUNT(*) AS n FROM observations ${sql}`).get(...params) as { n: number }).n;
}
