import type { CacheDb } from '../cache/cache-db';
import { DAY_MS, dayOf, instantMs } from '../base/time';

/**
 * What the Products screen asks the cache: search, one product's price history with its drops and
 * promotions marked, and the statistics behind the advice (lowest ever, rolling averages, the
 * "good deal" badge, the "drop after a recent rise" warning).
 */
export interface ProductSummary {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  last_price: number;
  last_observed_at: string;
}

export interface HistoryPoint {
  observed_at: string;
  price: number;
  old_price: number | null;
  drop_pct: number | null;
  is_drop: 0 | 1;
  /** A new fall: labelled drop, and below the previous observed price. */
  drop: boolean;
  /**
   * On promotion: the source showed a "was" price above the price. The ETL fills a missing
   * old_price with the previous observed price, so a promotion is an old_price above the price
   * that differs from the previous observed price, extended back over its first day.
   */
  promotion: boolean;
}

export interface ProductStats {
  current_price: number;
  last_observed_at: string;
  lowest_price: number;
  lowest_at: string;
  highest_price: number;
  avg_30d: number | null;
  avg_90d: number | null;
  avg_180d: number | null;
  observations: number;
  /** The current price is within 5 % of the lowest ever. */
  good_deal: boolean;
  /** Percent above the lowest ever (0 at the lowest). */
  above_lowest_pct: number;
  /** Set when the latest drop follows a recent rise: the "drop" only undoes it. */
  rise_warning: string | null;
}

export interface ProductDetail {
  product: ProductSummary;
  history: HistoryPoint[];
  stats: ProductStats;
}

/** The "good deal" band above the lowest price ever. */
export const GOOD_DEAL_BAND = 0.05;
/** A rise counts when the recent peak is this much above the price a month before. */
export const RISE_THRESHOLD = 0.05;
const HISTORY_DAYS = 730;

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Products whose id starts with, or whose title contains, `query` (case-insensitive); an exact id
 * first. Empty query: the most recently observed products.
 */
export function searchProducts(db: CacheDb, query: string, limit = 50): ProductSummary[] {
  const q = query.trim();
  if (q === '') {
    return db.prepare('SELECT * FROM products ORDER BY last_observed_at DESC, title LIMIT ?').all(limit) as ProductSummary[];
  }
  const like = `%${escapeLike(q.toLowerCase())}%`;
  return db
    .prepare(
      `SELECT * FROM products
       WHERE lower(product_id) = lower(?) OR lower(product_id) LIKE ? ESCAPE '\\' OR lower(title) LIKE ? ESCAPE '\\'
       ORDER BY lower(product_id) = lower(?) DESC, title
       LIMIT ?`,
    )
    .all(q, `${escapeLike(q.toLowerCase())}%`, like, q, limit) as ProductSummary[];
}

export function getProduct(db: CacheDb, source: string, productId: string): ProductSummary | undefined {
  return db.prepare('SELECT * FROM products WHERE source = ? AND product_id = ?').get(source, productId) as ProductSummary | undefined;
}

/** One stored observation of a product (observed_at as ms since 1970-01-01 UTC). */
interface ProductRow {
  t: number;
  price: number;
  old_price: number | null;
  drop_pct: number | null;
  is_drop: 0 | 1;
}

/**
 * A product's rows, oldest first: the one read behind its page (history and statistics), a range
 * of the key index (product, observed_at).
 */
function productRows(db: CacheDb, source: string, productId: string): ProductRow[] {
  const rows = db
    .prepare(
      `SELECT o.observed_at, o.price, o.old_price, o.drop_pct, o.is_drop
         FROM product_keys k CROSS JOIN observation_records o ON o.product = k.id
        WHERE k.source = ? AND k.product_id = ? ORDER BY o.observed_at`,
    )
    .raw()
    .all(source, productId) as [string, number, number | null, number | null, 0 | 1][];
  return rows.map(([observedAt, price, oldPrice, dropPct, isDrop]) => ({ t: instantMs(observedAt), price, old_price: oldPrice, drop_pct: dropPct, is_drop: isDrop }));
}

/**
 * The product's price history, oldest first, one point a day (the day's last observation, so a
 * live producer observing every few seconds does not flood the chart), the latest HISTORY_DAYS
 * days (UTC), with drops and promotions marked. `rows` oldest first.
 */
export function priceHistory(rows: readonly ProductRow[]): HistoryPoint[] {
  const lastOfDay: ProductRow[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as ProductRow;
    const next = rows[i + 1];
    if (next === undefined || dayOf(next.t) !== dayOf(row.t)) lastOfDay.push(row);
  }
  return markHistory(
    lastOfDay.slice(-HISTORY_DAYS).map((row) => ({
      observed_at: new Date(row.t).toISOString(),
      price: row.price,
      old_price: row.old_price,
      drop_pct: row.drop_pct,
      is_drop: row.is_drop,
    })),
  );
}

/** Marks drops and promotions on rows ordered by time. Pure; exported for tests. */
export function markHistory(rows: readonly Omit<HistoryPoint, 'drop' | 'promotion'>[]): HistoryPoint[] {
  const marked = rows.map((row, i) => {
    const previous = i > 0 ? rows[i - 1]!.price : null;
    const drop = row.is_drop === 1 && (previous === null || row.price < previous);
    const shownWas = row.old_price !== null && row.old_price > row.price;
    const promotion = shownWas && (previous === null || Math.abs(row.old_price! - previous) > 0.005);
    return { ...row, drop, promotion };
  });
  // A promotion's first day looks like a plain drop (its "was" price equals the previous price):
  // extend each promotion back over the days before it that showed the same "was" price.
  for (let i = marked.length - 1; i > 0; i--) {
    const row = marked[i]!;
    const before = marked[i - 1]!;
    if (row.promotion && !before.promotion && before.old_price !== null && before.old_price > before.price && Math.abs(before.old_price - row.old_price!) <= 0.005) {
      before.promotion = true;
    }
  }
  return marked;
}

/** The statistics of a product over its full history in the cache (`rows`: all of it). */
export function productStats(rows: readonly ProductRow[], history: readonly HistoryPoint[]): ProductStats | undefined {
  if (rows.length === 0) return undefined;
  let lowestPrice = Infinity;
  let highestPrice = -Infinity;
  let lastT = -Infinity;
  let current = NaN;
  let lowestT = -Infinity;
  for (const { t, price } of rows) {
    if (price < lowestPrice) lowestPrice = price;
    if (price > highestPrice) highestPrice = price;
    if (t > lastT) {
      lastT = t;
      current = price;
    }
  }
  for (const { t, price } of rows) if (price === lowestPrice && t > lowestT) lowestT = t;
  const average = (days: number): number | null => {
    const since = lastT - days * DAY_MS;
    // Kahan summation, as SQLite's AVG: the same cents whatever the row order.
    let sum = 0;
    let carry = 0;
    let n = 0;
    for (const { t, price } of rows) {
      if (t <= since) continue;
      const y = price - carry;
      const next = sum + y;
      carry = next - sum - y;
      sum = next;
      n++;
    }
    return n === 0 ? null : Math.round((sum / n) * 100) / 100;
  };
  const lowest = lowestPrice;
  return {
    current_price: current,
    last_observed_at: new Date(lastT).toISOString(),
    lowest_price: lowest,
    lowest_at: new Date(lowestT).toISOString(),
    highest_price: highestPrice,
    avg_30d: average(30),
    avg_90d: average(90),
    avg_180d: average(180),
    observations: rows.length,
    good_deal: current <= lowest * (1 + GOOD_DEAL_BAND) + 1e-9,
    above_lowest_pct: lowest > 0 ? Math.round(((current - lowest) / lowest) * 10000) / 100 : 0,
    rise_warning: riseWarning(history),
  };
}

/**
 * The warning for a "drop" that only undoes a recent rise: the latest observation is a drop,
 * the peak of the 14 days before it stood at least RISE_THRESHOLD above the price 15 to 45 days
 * before it (the level before the rise), and the dropped price is not meaningfully below that
 * level (within 2 %). Pure; exported for tests.
 */
export function riseWarning(history: readonly HistoryPoint[]): string | null {
  const last = history.at(-1);
  if (!last || !last.drop) return null;
  const lastMs = Date.parse(last.observed_at);
  const before = history.slice(0, -1);
  const inWindow = (fromDays: number, toDays: number) =>
    before.filter((p) => {
      const age = (lastMs - Date.parse(p.observed_at)) / DAY_MS;
      return age > fromDays && age <= toDays;
    });
  const recent = inWindow(0, 14);
  const earlier = inWindow(15, 45);
  if (recent.length === 0 || earlier.length === 0) return null;
  const peak = Math.max(...recent.map((p) => p.price));
  const sorted = earlier.map((p) => p.price).sort((a, b) => a - b);
  const baseline = sorted[Math.floor(sorted.length / 2)]!;
  if (peak < baseline * (1 + RISE_THRESHOLD)) return null;
  if (last.price < baseline * 0.98) return null;
  const risePct = Math.round(((peak - baseline) / baseline) * 1000) / 10;
  return `This drop follows a ${risePct} % rise in the two weeks before: the price (${last.price}) is not below its level of a month ago (${baseline}).`;
}

export function productDetail(db: CacheDb, source: string, productId: string): ProductDetail | undefined {
  const product = getProduct(db, source, productId);
  if (!product) return undefined;
  const rows = productRows(db, source, productId);
  const history = priceHistory(rows);
  const stats = productStats(rows, history);
  if (!stats) return undefined;
  return { product, history, stats };
}
