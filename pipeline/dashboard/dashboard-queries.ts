import type { CacheDb } from '../cache/cache-db';

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

export function kpis(db: CacheDb, filter: DashboardFilter): KpiPanel {
  const where = filterWhere(filter);
  const row = db
    .prepare(
      `SELECT
         ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) AS avg_drop_pct,
         COUNT(DISTINCT source || char(31) || product_id) AS products_analysed,
         COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop,
         COUNT(*) AS observations
       FROM observations ${where.sql}`,
    )
    .get(...where.params) as KpiPanel;
  return row;
}

export function dropTrend(db: CacheDb, filter: DashboardFilter, grain: TrendGrain = 'day'): TrendPoint[] {
  const where = filterWhere(filter);
  return db
    .prepare(
      `SELECT ${PERIOD_SQL[grain]} AS period,
         ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) AS avg_drop_pct,
         SUM(is_drop) AS drops,
         COUNT(*) AS observations
       FROM observations ${where.sql}
       GROUP BY period ORDER BY period`,
    )
    .all(...where.params) as TrendPoint[];
}

export function topCategories(db: CacheDb, filter: DashboardFilter, limit = 10): CategoryDrop[] {
  const where = filterWhere(filter);
  return db
    .prepare(
      `SELECT category,
         ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) AS avg_drop_pct,
         SUM(is_drop) AS drops,
         COUNT(*) AS observations
       FROM observations ${where.sql}
       GROUP BY category
       ORDER BY avg_drop_pct IS NULL, avg_drop_pct DESC, category
       LIMIT ?`,
    )
    .all(...where.params, limit) as CategoryDrop[];
}

export function dropSplit(db: CacheDb, filter: DashboardFilter): DropSplit {
  const where = filterWhere(filter);
  const row = db
    .prepare(`SELECT COALESCE(SUM(is_drop), 0) AS drop_count, COUNT(*) - COALESCE(SUM(is_drop), 0) AS no_drop FROM observations ${where.sql}`)
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
  return db.prepare('SELECT DISTINCT category FROM observations ORDER BY category').pluck().all() as string[];
}

/** The span of days in the cache, for the date pickers; nulls when empty. */
export function dataSpan(db: CacheDb): { first_day: string | null; last_day: string | null; last_observed_at: string | null } {
  return db.prepare('SELECT MIN(dt) AS first_day, MAX(dt) AS last_day, MAX(observed_at) AS last_observed_at FROM observations').get() as {
    first_day: string | null;
    last_day: string | null;
    last_observed_at: string | null;
  };
}
