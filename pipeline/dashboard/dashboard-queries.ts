import type { CacheDb } from '../cache/cache-db';
import { dailyMemory, lowerBound, type DailyMemory, type DailyRow } from './daily-rollup-memory';
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

/*
 * Storage: the panels read the rollups of pipeline/cache/dashboard-rollups.ts, never a scan of
 * `observations` (a plain GROUP BY over 2M rows costs 250 to 460 ms here; see
 * `pricedrop bench dashboard` and docs/decisions/0002-dashboard-rollups.md). `rollup_daily` is
 * aggregated in memory (daily-rollup-memory.ts) with the same predicate as `filterWhere`, which
 * stays the parameterised SQL form of a filter for queries over `observations` (drill-down). The numbers mean exactly what they meant over the raw
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

/** "Monday of the week" / "first of the month" of a day, per grain; cached (a cache holds few distinct days). */
const periodCache: Record<TrendGrain, Map<string, string>> = { day: new Map(), week: new Map(), month: new Map() };
export function periodOf(dt: string, grain: TrendGrain): string {
  if (grain === 'day') return dt;
  const cache = periodCache[grain];
  let period = cache.get(dt);
  if (period === undefined) {
    if (grain === 'month') period = dt.slice(0, 7) + '-01';
    else {
      const d = new Date(dt + 'T00:00:00Z');
      d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      period = d.toISOString().slice(0, 10);
    }
    if (cache.size < 100_000) cache.set(dt, period);
  }
  return period;
}

/** Visits the in-memory rollup rows a filter selects (same predicate as filterWhere). */
function forEachSelected(db: CacheDb, filter: DashboardFilter, visit: (row: DailyRow, memory: DailyMemory) => void): void {
  const memory = dailyMemory(db);
  const lo = filter.from ? lowerBound(memory.days, filter.from) : 0;
  // Days are exactly 10 characters: day <= to  <=>  day < to + '\u0000'.
  const hi = filter.to ? lowerBound(memory.days, filter.to + '\u0000') - 1 : memory.days.length - 1;
  if (lo > hi) return;
  let mask: Uint8Array | undefined;
  if (filter.categories && filter.categories.length > 0) {
    mask = new Uint8Array(memory.categories.length);
    for (const name of filter.categories) {
      const c = memory.categoryIndex.get(name);
      if (c !== undefined) mask[c] = 1;
    }
  }
  const only = filter.dropStatus === 'drop' ? 1 : filter.dropStatus === 'no drop' ? 0 : -1;
  const end = memory.dayStart[hi + 1] as number;
  for (let i = memory.dayStart[lo] as number; i < end; i++) {
    const row = memory.rows[i] as DailyRow;
    if (mask && mask[row.category] !== 1) continue;
    if (only !== -1 && row.isDrop !== only) continue;
    visit(row, memory);
  }
}

interface Sums {
  observations: number;
  drops: number;
  n: number;
  sumC: number;
}

function addRow(sums: Sums, row: DailyRow): void {
  sums.observations += row.observations;
  if (row.isDrop === 1) {
    sums.drops += row.observations;
    sums.n += row.dropPctN;
    sums.sumC += row.dropPctSumC;
  }
}

const emptySums = (): Sums => ({ observations: 0, drops: 0, n: 0, sumC: 0 });

export function kpis(db: CacheDb, filter: DashboardFilter): KpiPanel {
  const sums = emptySums();
  forEachSelected(db, filter, (row) => addRow(sums, row));
  const kinds = presenceKinds(filter);
  const query = presenceQuery(filter);
  return {
    avg_drop_pct: averagePct(sums.sumC, sums.n),
    products_analysed: countPresentProducts(db, query, kinds.analysed),
    products_with_drop: kinds.withDrop ? countPresentProducts(db, query, kinds.withDrop) : 0,
    observations: sums.observations,
  };
}

export function dropTrend(db: CacheDb, filter: DashboardFilter, grain: TrendGrain = 'day'): TrendPoint[] {
  const periods = new Map<string, Sums>();
  forEachSelected(db, filter, (row, memory) => {
    const period = periodOf(memory.days[row.day] as string, grain);
    let sums = periods.get(period);
    if (!sums) periods.set(period, (sums = emptySums()));
    addRow(sums, row);
  });
  return [...periods.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, sums]) => ({ period, avg_drop_pct: averagePct(sums.sumC, sums.n), drops: sums.drops, observations: sums.observations }));
}

export function topCategories(db: CacheDb, filter: DashboardFilter, limit = 10): CategoryDrop[] {
  const byCategory = new Map<number, Sums>();
  let names: string[] = [];
  forEachSelected(db, filter, (row, memory) => {
    names = memory.categories;
    let sums = byCategory.get(row.category);
    if (!sums) byCategory.set(row.category, (sums = emptySums()));
    addRow(sums, row);
  });
  const categories = [...byCategory.entries()].map(([c, sums]) => ({
    category: names[c] as string,
    avg_drop_pct: averagePct(sums.sumC, sums.n),
    drops: sums.drops,
    observations: sums.observations,
  }));
  // Highest average drop first; categories without drops last; ties by name.
  categories.sort((a, b) => {
    if ((a.avg_drop_pct === null) !== (b.avg_drop_pct === null)) return a.avg_drop_pct === null ? 1 : -1;
    if (a.avg_drop_pct !== b.avg_drop_pct) return (b.avg_drop_pct ?? 0) - (a.avg_drop_pct ?? 0);
    return a.category < b.category ? -1 : a.category > b.category ? 1 : 0;
  });
  return categories.slice(0, limit);
}

export function dropSplit(db: CacheDb, filter: DashboardFilter): DropSplit {
  const split: DropSplit = { drop: 0, no_drop: 0 };
  forEachSelected(db, filter, (row) => {
    if (row.isDrop === 1) split.drop += row.observations;
    else split.no_drop += row.observations;
  });
  return split;
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
  return [...dailyMemory(db).categories].sort();
}

/** The span of days in the cache, for the date pickers; nulls when empty. */
export function dataSpan(db: CacheDb): { first_day: string | null; last_day: string | null; last_observed_at: string | null } {
  const memory = dailyMemory(db);
  return { first_day: memory.days[0] ?? null, last_day: memory.days[memory.days.length - 1] ?? null, last_observed_at: memory.lastObservedAt };
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
