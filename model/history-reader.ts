import { type CacheDb } from '../pipeline/cache/cache-db';
import { CategoryDropRates, DAY_MS, HistoryBuilder, type ProductHistory } from './features';

/**
 * Reads price histories out of the cache (the `observations` views over `observation_rows`),
 * streaming, in the order (source, product_id, observed_at): one product's rows arrive together
 * and in time order, so memory holds one product's raw rows at a time. One product is read
 * through `product_observations` (a key seek per hour); all of them through one sorted scan.
 */

export interface HistoryFilter {
  source?: string;
  productId?: string;
}

interface ObservationRow {
  source: string;
  product_id: string;
  /** observed_at, ms since 1970-01-01 UTC. */
  t: number;
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

/**
 * The rows of `iterateHistories`, in (source, product_id, observed_at) order. One product: its
 * per-product view. Several: the narrow rows are sorted by the product's rank in (source,
 * product_id) order and time, and joined to their strings only then, in memory. All histories of
 * a 2M-row cache: 3.4 s (sorting the joined rows instead: 7.0 s; the layout before 0008: 4.0 s).
 */
function historyRows(db: CacheDb, filter: HistoryFilter): Iterable<ObservationRow> {
  if (filter.productId !== undefined && filter.source !== undefined) {
    return db
      .prepare(
        `SELECT source, product_id, t, title, category, price, old_price, currency
           FROM product_observations WHERE source = ? AND product_id = ? ORDER BY t`,
      )
      .iterate(filter.source, filter.productId) as Iterable<ObservationRow>;
  }
  const { sql, params } = whereClause(filter);
  // Strings are joined here, after SQLite sorted the narrow rows (joined rows are 3x wider to sort).
  const products = new Map<number, [string, string]>();
  for (const [id, source, productId] of db.prepare(`SELECT id, source, product_id FROM product_keys ${sql}`).raw().iterate(...params) as Iterable<[number, string, string]>) {
    products.set(id, [source, productId]);
  }
  const descriptors = new Map<number, [string, string, string]>();
  for (const [id, title, category, currency] of db.prepare('SELECT id, title, category, currency FROM descriptors').raw().iterate() as Iterable<[number, string, string, string]>) {
    descriptors.set(id, [title, category, currency]);
  }
  const rows = db
    .prepare(
      `WITH ranked AS MATERIALIZED (
         SELECT id, ROW_NUMBER() OVER (ORDER BY source, product_id) AS r FROM product_keys ${sql}
       )
       SELECT o.product, o.t, o.descriptor, o.price, o.old_price
         FROM observation_rows o JOIN ranked r ON r.id = o.product
        ORDER BY r.r, o.t`,
    )
    .raw()
    .iterate(...params) as Iterable<[number, number, number, number, number | null]>;
  return (function* () {
    for (const [product, t, descriptor, price, oldPrice] of rows) {
      const [source, productId] = products.get(product) as [string, string];
      const [title, category, currency] = descriptors.get(descriptor) as [string, string, string];
      yield { source, product_id: productId, t, title, category, price, old_price: oldPrice, currency };
    }
  })();
}

/** Yields each product's history (segments), product after product, in (source, product_id) order. */
export function* iterateHistories(db: CacheDb, filter: HistoryFilter = {}): Generator<ProductHistory> {
  let builder = new HistoryBuilder();
  let key = '';
  for (const row of historyRows(db, filter)) {
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
      observedAt: row.t,
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

/** The sources in the cache, from the product dictionary (its unique index, no table scan). */
export function readSources(db: CacheDb): string[] {
  return db.prepare('SELECT DISTINCT k.source FROM product_keys k ORDER BY k.source').pluck().all() as string[];
}

/** One product's histories (one per source that has the id), each read through the primary key. */
export function readProductHistories(db: CacheDb, productId: string, source?: string): ProductHistory[] {
  const sources = source === undefined ? readSources(db) : [source];
  return sources.flatMap((s) => [...iterateHistories(db, { source: s, productId })]);
}

/**
 * The last observation time of each source (epoch ms): where labels stop being knowable. From
 * `products` (its last_observed_at is each product's latest observation, an invariant of the
 * observation writer), not a scan of every row.
 */
export function readDataEnds(db: CacheDb): Map<string, number> {
  const rows = db.prepare('SELECT source, MAX(last_observed_at) AS last FROM products GROUP BY source').all() as { source: string; last: string }[];
  return new Map(rows.map((row) => [row.source, Date.parse(row.last)]));
}

/**
 * The last observation time of one source, fast: `observation_hours` gives the newest hour, and
 * only its day, then the last 31 days, are searched for the source (the whole table only if the
 * source is older).
 */
export function readDataEnd(db: CacheDb, source: string): number | undefined {
  const newestHour = db.prepare('SELECT MAX(hour) FROM observation_hours').pluck().get() as number | null;
  if (newestHour === null) return undefined;
  const maxSince = db
    .prepare('SELECT MAX(o.t) FROM observation_rows o JOIN product_keys k ON k.id = o.product WHERE o.hour >= ? AND k.source = ?')
    .pluck();
  const last = (maxSince.get(newestHour - 24, source) ?? maxSince.get(newestHour - 31 * 24, source) ?? maxSince.get(Number.MIN_SAFE_INTEGER, source)) as number | null;
  return last === null ? undefined : last;
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
  const params: (string | number)[] = [];
  if (days) {
    where.push('o.hour >= ? AND o.hour < ?');
    params.push(dayNumber(days.from) * 24, (dayNumber(days.to) + 1) * 24);
  }
  if (category !== undefined) {
    where.push('d.category = ?');
    params.push(category);
  }
  const rows = db
    .prepare(
      `SELECT d.category AS category, ${DAY_OF_HOUR} AS day, SUM(o.flags & 1) AS drops, COUNT(*) AS rows
         FROM observation_rows o JOIN descriptors d ON d.id = o.descriptor
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        GROUP BY d.category, ${DAY_OF_HOUR}`,
    )
    .all(...params) as { category: string; day: number; drops: number; rows: number }[];
  return new CategoryDropRates(rows);
}

/** The day (since 1970-01-01) of observation_rows.hour: floor division, also before 1970. */
const DAY_OF_HOUR = '((o.hour - (((o.hour % 24) + 24) % 24)) / 24)';

/** Days since 1970-01-01 of a `YYYY-MM-DD`. */
function dayNumber(dt: string): number {
  return Math.floor(Date.parse(`${dt}T00:00:00Z`) / DAY_MS);
}

/**
 * The same counts from the dashboard's `rollup_daily` (pipeline/cache/dashboard-rollups.ts), used
 * only when they provably match: the row count per day of the stored rows must equal the rollup's
 * (a cache written around the observation writer, through the view's trigger, has no rollups).
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
    .prepare(
      `SELECT ${DAY_OF_HOUR} AS day, COUNT(*) AS rows FROM observation_rows o JOIN descriptors d ON d.id = o.descriptor
        WHERE o.hour >= ? AND o.hour < ? AND d.category = ? GROUP BY ${DAY_OF_HOUR}`,
    )
    .all(dayNumber(days.from) * 24, (dayNumber(days.to) + 1) * 24, category) as { day: number; rows: number }[];
  if (counts.length !== rollup.length) return undefined;
  const byDay = new Map(rollup.map((row) => [dayNumber(row.dt), row.rows]));
  if (!counts.every((row) => byDay.get(row.day) === row.rows)) return undefined;
  return new CategoryDropRates(rollup.map((row) => ({ category, day: Math.floor(Date.parse(`${row.dt}T00:00:00Z`) / DAY_MS), drops: row.drops, rows: row.rows })));
}

/** Total observation rows (for progress totals). */
export function countObservations(db: CacheDb, filter: HistoryFilter = {}): number {
  if (filter.source === undefined && filter.productId === undefined) return db.prepare('SELECT COUNT(*) FROM observation_rows').pluck().get() as number;
  const { sql, params } = whereClause(filter);
  const view = filter.productId !== undefined && filter.source !== undefined ? 'product_observations' : 'observations';
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${view} ${sql}`).get(...params) as { n: number }).n;
}
