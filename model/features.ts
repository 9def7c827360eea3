/**
 * The forecaster's features: ONE module, used for training, by the desktop predictor and by the
 * headless server (through the bundle's feature states), so a feature means the same everywhere.
 *
 * A product's history is kept as price *segments*: a price holds from the observation that set it
 * until the next observation that changes it. Regular snapshots (daily, weekly, hourly) collapse
 * into segments, and a change-event log (a row only when the price changes) already is one, so
 * both work the same way; gaps simply extend the last known price.
 *
 * No look-ahead: `computeFeatures(history, t, ...)` reads only segments that started at or before
 * `t`, and the category drop rate only days strictly before t's day (see CategoryDropRates).
 * The test "changing future rows does not change past features" holds this in place.
 */

export const DAY_MS = 86_400_000;

/** Bumped whenever a feature's definition or order changes; stored in model files. */
export const FEATURE_SCHEMA_VERSION = 1;

/** Feature names, in vector order. Percentages are 0–100 scale; `rel_x` = 100 × (price / x − 1). */
export const FEATURE_NAMES = [
  'price',
  'list_price',
  'drop_pct_now',
  'mean_7d',
  'min_7d',
  'max_7d',
  'rel_mean_7d',
  'rel_min_7d',
  'rel_max_7d',
  'mean_30d',
  'min_30d',
  'max_30d',
  'rel_mean_30d',
  'rel_min_30d',
  'rel_max_30d',
  'mean_90d',
  'min_90d',
  'max_90d',
  'rel_mean_90d',
  'rel_min_90d',
  'rel_max_90d',
  'all_time_low',
  'rel_all_time_low',
  'days_since_change',
  'days_since_drop',
  'changes_30d',
  'mean_abs_change_pct_30d',
  'last_change_dir',
  'last_change_pct',
  'promo_age_days',
  'category_code',
  'category_drop_rate_30d',
  'day_of_week',
  'month',
  'history_days',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;
const F = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, i])) as Record<FeatureName, number>;

/** `days_since_drop` when the product never dropped in its known history. */
export const NEVER_DAYS = 9999;

/** One cleaned observation, as the cache holds it (observed_at as epoch ms). */
export interface Observation {
  source: string;
  productId: string;
  observedAt: number;
  title: string;
  category: string;
  price: number;
  oldPrice: number | null;
  currency: string;
}

/** A product's price history as segments (see the module comment). All arrays ascending by start. */
export interface ProductHistory {
  source: string;
  productId: string;
  title: string;
  category: string;
  currency: string;
  /** When each segment's price took effect (epoch ms). */
  start: Float64Array;
  price: Float64Array;
  /** The list ("was") price shown with the segment's price; NaN when none. */
  oldPrice: Float64Array;
  /** All-time low up to and including each segment. */
  lowSoFar: Float64Array;
  /** Index of the latest segment ≤ i whose price differs from the one before; −1 if none. */
  lastChange: Int32Array;
  /** Index of the latest segment ≤ i whose price is below the one before; −1 if none. */
  lastDrop: Int32Array;
  /** Decision points: the last observation of each UTC day the product was observed (epoch ms). */
  checkpoints: Float64Array;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Collects one product's observations (in time order) into a ProductHistory.
 * Observations at the same instant: the last one wins. Title, category and currency follow the
 * latest observation.
 */
export class HistoryBuilder {
  private starts: number[] = [];
  private prices: number[] = [];
  private oldPrices: number[] = [];
  private checkpoints: number[] = [];
  private lastDay = Number.NaN;
  private first = Number.NaN;
  private last = Number.NaN;
  private latest: Observation | undefined;

  add(observation: Observation): void {
    const { observedAt, price } = observation;
    if (!Number.isFinite(observedAt) || !Number.isFinite(price) || price <= 0) return;
    if (this.latest && observedAt < this.last) throw new Error(`observations of ${observation.productId} must come in time order`);
    const oldPrice = observation.oldPrice !== null && Number.isFinite(observation.oldPrice) && observation.oldPrice > 0 ? observation.oldPrice : Number.NaN;
    const n = this.prices.length;
    if (n > 0 && this.starts[n - 1] === observedAt) {
      // Same instant: replace (a later duplicate corrects the earlier one).
      this.prices[n - 1] = price;
      this.oldPrices[n - 1] = oldPrice;
      if (n >= 2 && this.prices[n - 2] === price && sameOld(this.oldPrices[n - 2]!, oldPrice)) this.pop();
    } else if (n === 0 || this.prices[n - 1] !== price || !sameOld(this.oldPrices[n - 1]!, oldPrice)) {
      this.starts.push(observedAt);
      this.prices.push(price);
      this.oldPrices.push(oldPrice);
    }
    const day = Math.floor(observedAt / DAY_MS);
    if (day === this.lastDay) this.checkpoints[this.checkpoints.length - 1] = observedAt;
    else this.checkpoints.push(observedAt);
    this.lastDay = day;
    if (Number.isNaN(this.first)) this.first = observedAt;
    this.last = observedAt;
    this.latest = observation;
  }

  private pop(): void {
    this.starts.pop();
    this.prices.pop();
    this.oldPrices.pop();
  }

  get size(): number {
    return this.prices.length;
  }

  build(): ProductHistory | undefined {
    const latest = this.latest;
    if (!latest || this.prices.length === 0) return undefined;
    const n = this.prices.length;
    const price = Float64Array.from(this.prices);
    const lowSoFar = new Float64Array(n);
    const lastChange = new Int32Array(n);
    const lastDrop = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      lowSoFar[i] = i === 0 ? price[0]! : Math.min(lowSoFar[i - 1]!, price[i]!);
      const changed = i > 0 && price[i] !== price[i - 1];
      lastChange[i] = changed ? i : i > 0 ? lastChange[i - 1]! : -1;
      lastDrop[i] = i > 0 && price[i]! < price[i - 1]! ? i : i > 0 ? lastDrop[i - 1]! : -1;
    }
    return {
      source: latest.source,
      productId: latest.productId,
      title: latest.title,
      category: latest.category,
      currency: latest.currency,
      start: Float64Array.from(this.starts),
      price,
      oldPrice: Float64Array.from(this.oldPrices),
      lowSoFar,
      lastChange,
      lastDrop,
      checkpoints: Float64Array.from(this.checkpoints),
      firstSeen: this.first,
      lastSeen: this.last,
    };
  }
}

function sameOld(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Builds a history from observations already in time order (tests, small inputs). */
export function historyOf(observations: readonly Observation[]): ProductHistory | undefined {
  const builder = new HistoryBuilder();
  for (const observation of observations) builder.add(observation);
  return builder.build();
}

/** Index of the segment in force at `t` (the last one starting at or before t), −1 before the first. */
export function segmentAt(history: ProductHistory, t: number): number {
  const start = history.start;
  let lo = 0;
  let hi = start.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The price in force at `t` (NaN before the first observation). */
export function priceAt(history: ProductHistory, t: number): number {
  const k = segmentAt(history, t);
  return k < 0 ? Number.NaN : history.price[k]!;
}

/** The lowest price in force at any moment of [from, to] (NaN if nothing is known by `to`). */
export function minPriceBetween(history: ProductHistory, from: number, to: number): number {
  let k = segmentAt(history, from);
  let low = k >= 0 ? history.price[k]! : Number.POSITIVE_INFINITY;
  for (k = k + 1; k < history.start.length && history.start[k]! <= to; k++) low = Math.min(low, history.price[k]!);
  return Number.isFinite(low) ? low : Number.NaN;
}

/**
 * The share of a category's observations flagged as drops (the ETL's `is_drop`) over the 30 days
 * before a given day (that day excluded, so nothing later than the decision can leak in).
 */
export class CategoryDropRates {
  private readonly perCategory = new Map<string, { days: Int32Array; drops: Float64Array; rows: Float64Array }>();

  /** @param daily rows of (category, day number = floor(epoch ms / DAY_MS), drops, observations). */
  constructor(daily: Iterable<{ category: string; day: number; drops: number; rows: number }>) {
    const grouped = new Map<string, { day: number; drops: number; rows: number }[]>();
    for (const entry of daily) {
      const list = grouped.get(entry.category) ?? [];
      list.push({ day: entry.day, drops: entry.drops, rows: entry.rows });
      grouped.set(entry.category, list);
    }
    for (const [category, list] of grouped) {
      list.sort((a, b) => a.day - b.day);
      // Prefix sums: drops[i] = Σ drops of days[0..i-1].
      const days = Int32Array.from(list, (e) => e.day);
      const drops = new Float64Array(list.length + 1);
      const rows = new Float64Array(list.length + 1);
      list.forEach((e, i) => {
        drops[i + 1] = drops[i]! + e.drops;
        rows[i + 1] = rows[i]! + e.rows;
      });
      this.perCategory.set(category, { days, drops, rows });
    }
  }

  /** Drop share in [day(t) − 30, day(t) − 1]; 0 when the category has no rows there. */
  rate(category: string, t: number, windowDays = 30): number {
    const entry = this.perCategory.get(category);
    if (!entry) return 0;
    const day = Math.floor(t / DAY_MS);
    const from = lowerBound(entry.days, day - windowDays);
    const to = lowerBound(entry.days, day);
    const rows = entry.rows[to]! - entry.rows[from]!;
    return rows > 0 ? (entry.drops[to]! - entry.drops[from]!) / rows : 0;
  }

  categories(): string[] {
    return [...this.perCategory.keys()].sort();
  }
}

function lowerBound(values: Int32Array, target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What features need beyond the product's own history. */
export interface FeatureContext {
  /** The category's code (the model stores the code table; −1 for a category it never saw). */
  categoryCode(category: string): number;
  categoryDropRate(category: string, t: number): number;
}

/** A code table over sorted category names (stored in the model file). */
export function categoryCoder(categories: readonly string[]): (category: string) => number {
  const codes = new Map(categories.map((category, i) => [category, i]));
  return (category) => codes.get(category) ?? -1;
}

const WINDOWS = [7, 30, 90] as const;

/**
 * The feature vector of `history` as of time `t` (epoch ms), from segments started at or before t
 * only. Returns undefined before the product's first observation.
 */
export function computeFeatures(history: ProductHistory, t: number, context: FeatureContext, out: Float64Array = new Float64Array(FEATURE_COUNT)): Float64Array | undefined {
  const k = segmentAt(history, t);
  if (k < 0) return undefined;
  const { start, price: prices, oldPrice } = history;
  const price = prices[k]!;
  const list = oldPrice[k]!;
  out[F.price] = price;
  out[F.list_price] = Number.isNaN(list) ? price : list;
  out[F.drop_pct_now] = !Number.isNaN(list) && list > price ? (100 * (list - price)) / list : 0;

  // Time-weighted mean, min and max over each window, in one backward pass over the segments.
  for (let w = 0; w < WINDOWS.length; w++) {
    const from = t - WINDOWS[w]! * DAY_MS;
    let weighted = 0;
    let duration = 0;
    let low = price;
    let high = price;
    for (let j = k; j >= 0; j--) {
      const segmentEnd = j === k ? t : start[j + 1]!;
      const segmentStart = Math.max(start[j]!, from);
      if (segmentEnd > segmentStart) {
        weighted += prices[j]! * (segmentEnd - segmentStart);
        duration += segmentEnd - segmentStart;
      }
      if (segmentEnd > from || j === k) {
        low = Math.min(low, prices[j]!);
        high = Math.max(high, prices[j]!);
      }
      if (start[j]! <= from) break;
    }
    const mean = duration > 0 ? weighted / duration : price;
    const base = F.mean_7d + w * 6;
    out[base] = mean;
    out[base + 1] = low;
    out[base + 2] = high;
    out[base + 3] = relative(price, mean);
    out[base + 4] = relative(price, low);
    out[base + 5] = relative(price, high);
  }

  out[F.all_time_low] = history.lowSoFar[k]!;
  out[F.rel_all_time_low] = relative(price, history.lowSoFar[k]!);
  const lastChange = history.lastChange[k]!;
  const lastDrop = history.lastDrop[k]!;
  out[F.days_since_change] = (t - (lastChange >= 0 ? start[lastChange]! : history.firstSeen)) / DAY_MS;
  out[F.days_since_drop] = lastDrop >= 0 ? (t - start[lastDrop]!) / DAY_MS : NEVER_DAYS;

  let changes = 0;
  let absoluteChange = 0;
  const monthAgo = t - 30 * DAY_MS;
  for (let j = k; j >= 1 && start[j]! > monthAgo; j--) {
    if (prices[j] === prices[j - 1]) continue;
    changes++;
    absoluteChange += Math.abs(relative(prices[j]!, prices[j - 1]!));
  }
  out[F.changes_30d] = changes;
  out[F.mean_abs_change_pct_30d] = changes > 0 ? absoluteChange / changes : 0;
  if (lastChange >= 1) {
    const before = prices[lastChange - 1]!;
    const after = prices[lastChange]!;
    out[F.last_change_dir] = Math.sign(after - before);
    out[F.last_change_pct] = relative(after, before);
  } else {
    out[F.last_change_dir] = 0;
    out[F.last_change_pct] = 0;
  }

  // Promotion age: how long the current reduced price has lasted. A shown "was" price marks a
  // promotion; without one, a last change that was a drop does.
  let promoStart = Number.NaN;
  if (!Number.isNaN(list) && list > price) {
    let j = k;
    while (j > 0 && !Number.isNaN(oldPrice[j - 1]!) && oldPrice[j - 1]! > prices[j - 1]!) j--;
    promoStart = start[j]!;
  } else if (lastChange >= 1 && prices[lastChange]! < prices[lastChange - 1]!) {
    promoStart = start[lastChange]!;
  }
  out[F.promo_age_days] = Number.isNaN(promoStart) ? 0 : (t - promoStart) / DAY_MS;

  out[F.category_code] = context.categoryCode(history.category);
  out[F.category_drop_rate_30d] = context.categoryDropRate(history.category, t);
  const date = new Date(t);
  out[F.day_of_week] = date.getUTCDay();
  out[F.month] = date.getUTCMonth() + 1;
  out[F.history_days] = (t - history.firstSeen) / DAY_MS;
  return out;
}

function relative(price: number, reference: number): number {
  return reference > 0 ? 100 * (price / reference - 1) : 0;
}

/**
 * The decision points of a history: its checkpoints (one per observed day), plus, inside gaps
 * longer than `fillDays`, one point every `fillDays` (the price holds through a gap, and a
 * change-event log has long gaps by design).
 */
export function decisionPoints(history: ProductHistory, fillDays = 7): number[] {
  const points: number[] = [];
  const checkpoints = history.checkpoints;
  const step = fillDays * DAY_MS;
  for (let i = 0; i < checkpoints.length; i++) {
    const t = checkpoints[i]!;
    points.push(t);
    const next = i + 1 < checkpoints.length ? checkpoints[i + 1]! : t;
    for (let filler = t + step; filler < next; filler += step) points.push(filler);
  }
  return points;
}

/** The label's ingredients at t: does the price fall at least `minDropPct` % below today's within `horizonDays`? */
export interface LabelAt {
  /** 1, 0, or undefined when the horizon reaches past the end of the data (unknown yet). */
  label: 0 | 1 | undefined;
  /** The deepest fall in the horizon, in % of today's price (0 when it never falls). */
  maxDropPct: number;
}

/**
 * The target: 1 when some price in force during (t, t + H] is at least X % below the price at t.
 * Unknown (undefined) when t + H is after `dataEnd`, the last moment the source was observed.
 */
export function labelAt(history: ProductHistory, t: number, horizonDays: number, minDropPct: number, dataEnd: number): LabelAt {
  const horizonEnd = t + horizonDays * DAY_MS;
  const k = segmentAt(history, t);
  const price = k >= 0 ? history.price[k]! : Number.NaN;
  let low = Number.POSITIVE_INFINITY;
  for (let j = k + 1; j < history.start.length && history.start[j]! <= horizonEnd; j++) low = Math.min(low, history.price[j]!);
  const maxDropPct = Number.isFinite(low) && low < price ? (100 * (price - low)) / price : 0;
  if (horizonEnd > dataEnd || Number.isNaN(price)) return { label: undefined, maxDropPct };
  return { label: maxDropPct >= minDropPct - 1e-9 ? 1 : 0, maxDropPct };
}
