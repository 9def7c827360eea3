import type { CacheDb } from '../cache/cache-db';
import { countPresentProducts, presentProductKeys, type PresenceKind, type PresenceQuery } from './product-presence';

/** The filters every dashboard panel honours. Days are inclusive, UTC, `YYYY-MM-DD`. */
export interface DashboardFilter {
  from?: string;
  to?: string;
  /** Empty or absent: every category. */
  categories?: string[];
  /** `drop`: only rows labelled drop; `no drop`: only the others; absent or `all`: both. */
  dropStatus?: 'all' | 'drop' | 'no drop';
}

export type TrendGrain = 'day' | 'week' | 'month';

export interface KpiPanel {
  /** Average drop % over the observations labelled `drop` (the typical size of a drop); null when none. */
  avg_drop_pct: number | null;
  /** Distinct products (source, product_id) with at least one observation in the filter. */
  products_analysed: number;
  /** Distinct products with at least one observation labelled `drop` in the filter. */
  products_with_drop: number;
  observations: number;
}

export interface TrendPoint {
  /** First day of the period (`YYYY-MM-DD`; weeks start on Monday). */
  period: string;
  avg_drop_pct: number | null;
  drops: number;
  observations: number;
}

export interface CategoryDrop {
  category: string;
  avg_drop_pct: number | null;
  drops: number;
  observations: number;
}

export interface DropSplit {
  drop: number;
  no_drop: number;
}

export interface DashboardPanels {
  kpis: KpiPanel;
  trend: TrendPoint[];
  top_categories: CategoryDrop[];
  split: DropSplit;
}

interface Where {
  sql: string;
  params: (string | number)[];
}

/** Builds the parameterised WHERE clause of a filter. Values never enter the SQL text. */
export function filterWhere(filter: DashboardFilter): Where {
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (filter.from) {
    clauses.push('dt >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    clauses.push('dt <= ?');
    params.push(filter.to);
  }
  if (filter.categories && filter.categories.length > 0) {
    clauses.push(`category IN (${filter.categories.map(() => '?').join(', ')})`);
    params.push(...filter.categories);
  }
  if (filter.dropStatus === 'drop') clauses.push('is_drop = 1');
  if (filter.dropStatus === 'no drop') clauses.push('is_drop = 0');
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

const PERIOD_SQL: Record<TrendGrain, string> = {
  day: 'dt',
  // SQLite: weekday 0 is Sunday; "weekday 0, -6 days" lands on the Monday of dt's week.
  week: "date(dt, 'weekday 0', '-6 days')",
  month: "substr(dt, 1, 7) || '-01'",
};

/*
 * Storage: the panels read the rollups of pipeline/cache/dashboard-rollups.ts, never a scan of
 * `observations` (a plain GROUP BY over 2M rows costs 250 to 460 ms here; the rollups answer a
 * six-panel refresh over 10M rows in milliseconds, see `pricedrop bench dashboard`).
 * `rollup_daily` has the filter's columns (dt, category, is_drop) under the same names, so
 * `filterWhere` applies to it unchanged. The numbers mean exactly what they meant over the raw
 * rows: averages are the mean of drop_pct (2 decimals) over the drop rows, rounded half up to 2
 * decimals from exact integer sums of hundredths; distinct products are exact (product-presence.ts).
 */

/** Mean in percent from exact sums of hundredths, rounded half up to 2 decimals; null when n = 0. */
function averagePct(sumCents: number | null, n: number | null): number | null {
  if (!n || sumCents === null) return null;
  return Math.round(sumCents / n) / 100;
}

/** Which presence kind counts "products analysed" and "products with a drop" under a drop status. */
function presenceKinds(filter: DashboardFilter): { analysed: PresenceKind; withDrop: PresenceKind | null } {
  if (filter.dropStatus === 'drop') return { analysed: 'drop', withDrop: 'drop' };
  if (filter.dropStatus === 'no drop') return { analysed: 'no drop', withDrop: null };
  return { analysed: 'any', withDrop: 'drop' };
}

function presenceQuery(filter: DashboardFilter): PresenceQuery {
  const query: PresenceQuery = {};
  if (filter.from) query.from = filter.from;
  if (filter.to) query.to = filter.to;
  if (filter.categories?.length) query.categories = filter.categories;
  return query;
}

export function kpis(db: CacheDb, filter: DashboardFilter): KpiPanel {
  const where = filterWhere(filter);
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(observations), 0) AS observations,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_n END) AS n,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_sum_c END) AS sum_c
       FROM rollup_daily ${where.sql}`,
    )
    .get(...where.params) as { observations: number; n: number | null; sum_c: number | null };
  const kinds = presenceKinds(filter);
  const query = presenceQuery(filter);
  return {
    avg_drop_pct: averagePct(row.sum_c, row.n),
    products_analysed: countPresentProducts(db, query, kinds.analysed),
    products_with_drop: kinds.withDrop ? countPresentProducts(db, query, kinds.withDrop) : 0,
    observations: row.observations,
  };
}

export function dropTrend(db: CacheDb, filter: DashboardFilter, grain: TrendGrain = 'day'): TrendPoint[] {
  const where = filterWhere(filter);
  const rows = db
    .prepare(
      `SELECT ${PERIOD_SQL[grain]} AS period,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_n END) AS n,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_sum_c END) AS sum_c,
         SUM(CASE WHEN is_drop = 1 THEN observations ELSE 0 END) AS drops,
         SUM(observations) AS observations
       FROM rollup_daily ${where.sql}
       GROUP BY period ORDER BY period`,
    )
    .all(...where.params) as { period: string; n: number | null; sum_c: number | null; drops: number; observations: number }[];
  return rows.map((r) => ({ period: r.period, avg_drop_pct: averagePct(r.sum_c, r.n), drops: r.drops, observations: r.observations }));
}

export function topCategories(db: CacheDb, filter: DashboardFilter, limit = 10): CategoryDrop[] {
  const where = filterWhere(filter);
  const rows = db
    .prepare(
      `SELECT category,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_n END) AS n,
         SUM(CASE WHEN is_drop = 1 THEN drop_pct_sum_c END) AS sum_c,
         SUM(CASE WHEN is_drop = 1 THEN observations ELSE 0 END) AS drops,
         SUM(observations) AS observations
       FROM rollup_daily ${where.sql}
       GROUP BY category`,
    )
    .all(...where.params) as { category: string; n: number | null; sum_c: number | null; drops: number; observations: number }[];
  const categories = rows.map((r) => ({ category: r.category, avg_drop_pct: averagePct(r.sum_c, r.n), drops: r.drops, observations: r.observations }));
  // Highest average drop first; categories without drops last; ties by name.
  categories.sort((a, b) => {
    if ((a.avg_drop_pct === null) !== (b.avg_drop_pct === null)) return a.avg_drop_pct === null ? 1 : -1;
    if (a.avg_drop_pct !== b.avg_drop_pct) return (b.avg_drop_pct ?? 0) - (a.avg_drop_pct ?? 0);
    return a.category < b.category ? -1 : a.category > b.category ? 1 : 0;
  });
  return categories.slice(0, limit);
}

export function dropSplit(db: CacheDb, filter: DashboardFilter): DropSplit {
  const where = filterWhere(filter);
  const row = db
    .prepare(
      `SELECT COALESCE(SUM(CASE WHEN is_drop = 1 THEN observations END), 0) AS drop_count,
         COALESCE(SUM(CASE WHEN is_drop = 0 THEN observations END), 0) AS no_drop
       FROM rollup_daily ${where.sql}`,
    )
    .get(...where.params) as { drop_count: number; no_drop: number };
  return { drop: row.drop_count, no_drop: row.no_drop };
}

/** All six panels for one filter: what one dashboard refresh costs. */
export function dashboardPanels(db: CacheDb, filter: DashboardFilter, grain: TrendGrain = 'day'): DashboardPanels {
  return {
    kpis: kpis(db, filter),
    trend: dropTrend(db, filter, grain),
    top_categories: topCategories(db, filter),
    split: dropSplit(db, filter),
  };
}

/** The categories present in the cache, for the filter's picker. */
export function listCategories(db: CacheDb): string[] {
  return db.prepare('SELECT DISTINCT category FROM rollup_daily ORDER BY category').pluck().all() as string[];
}

/** The span of days in the cache, for the date pickers; nulls when empty. */
export function dataSpan(db: CacheDb): { first_day: string | null; last_day: string | null; last_observed_at: string | null } {
  const days = db.prepare('SELECT MIN(dt) AS first_day, MAX(dt) AS last_day FROM rollup_daily').get() as { first_day: string | null; last_day: string | null };
  // products.last_observed_at is each product's latest observed_at (observation-writer invariant).
  const last = db.prepare('SELECT MAX(last_observed_at) FROM products').pluck().get() as string | null;
  return { ...days, last_observed_at: last };
}

/** One product in a drill-down: its latest known state plus what the filter selects of it. */
export interface ProductRow {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  /** Latest known price and when it was seen (any filter aside). */
  latest_price: number;
  latest_observed_at: string;
  /** Within the filter: observations, drops, average and largest drop % over the drop rows. */
  observations: number;
  drops: number;
  avg_drop_pct: number | null;
  max_drop_pct: number | null;
  /** Within the filter: the latest observation's price and drop % (null when it had no old price). */
  last_price_in_filter: number;
  last_drop_pct: number | null;
}

export interface ProductPage {
  /** Distinct products matching the filter: `products_analysed` of the same filter. */
  total: number;
  offset: number;
  limit: number;
  products: ProductRow[];
}

/**
 * The products behind a panel selection (drill-down): every product with at least one
 * observation in the filter, ordered by (source, product_id), one page at a time. The total is
 * the `products_analysed` KPI of the same filter.
 */
export function productsForFilter(db: CacheDb, filter: DashboardFilter, page: { offset?: number; limit?: number } = {}): ProductPage {
  const offset = page.offset ?? 0;
  const limit = page.limit ?? 50;
  const keys = presentProductKeys(db, presenceQuery(filter), presenceKinds(filter).analysed).sort();
  const where = filterWhere(filter);
  const extra = where.sql ? ' AND ' + where.sql.slice('WHERE '.length) : '';
  const latest = db.prepare('SELECT title, category, currency, last_price, last_observed_at FROM products WHERE source = ? AND product_id = ?');
  const stats = db.prepare(
    `SELECT COUNT(*) AS observations, COALESCE(SUM(is_drop), 0) AS drops,
       AVG(CASE WHEN is_drop = 1 THEN drop_pct END) AS avg_drop_pct,
       MAX(CASE WHEN is_drop = 1 THEN drop_pct END) AS max_drop_pct
     FROM observations WHERE source = ? AND product_id = ?${extra}`,
  );
  const last = db.prepare(`SELECT price, drop_pct FROM observations WHERE source = ? AND product_id = ?${extra} ORDER BY observed_at DESC LIMIT 1`);
  const products: ProductRow[] = [];
  for (const key of keys.slice(offset, offset + limit)) {
    const [source, productId] = key.split('\u0000') as [string, string];
    const known = latest.get(source, productId) as { title: string; category: string; currency: string; last_price: number; last_observed_at: string } | undefined;
    const s = stats.get(source, productId, ...where.params) as { observations: number; drops: number; avg_drop_pct: number | null; max_drop_pct: number | null };
    const l = last.get(source, productId, ...where.params) as { price: number; drop_pct: number | null } | undefined;
    if (!known || !l) continue;
    products.push({
      source,
      product_id: productId,
      title: known.title,
      category: known.category,
      currency: known.currency,
      latest_price: known.last_price,
      latest_observed_at: known.last_observed_at,
      observations: s.observations,
      drops: s.drops,
      avg_drop_pct: s.avg_drop_pct === null ? null : Math.round(s.avg_drop_pct * 100) / 100,
      max_drop_pct: s.max_drop_pct,
      last_price_in_filter: l.price,
      last_drop_pct: l.drop_pct,
    });
  }
  return { total: keys.length, offset, limit, products };
}

/** The inclusive days of the trend period starting at `period` (`YYYY-MM-DD`) for a grain. */
export function periodRange(period: string, grain: TrendGrain): { from: string; to: string } {
  const start = new Date(period + 'T00:00:00Z');
  const end = new Date(start);
  if (grain === 'week') end.setUTCDate(end.getUTCDate() + 6);
  if (grain === 'month') {
    end.setUTCMonth(end.getUTCMonth() + 1, 1);
    end.setUTCDate(0);
  }
  return { from: period, to: end.toISOString().slice(0, 10) };
}

/** A filter narrowed to one trend period (the intersection of both date ranges). */
export function narrowToPeriod(filter: DashboardFilter, period: string, grain: TrendGrain): DashboardFilter {
  const range = periodRange(period, grain);
  return {
    ...filter,
    from: filter.from && filter.from > range.from ? filter.from : range.from,
    to: filter.to && filter.to < range.to ? filter.to : range.to,
  };
}
