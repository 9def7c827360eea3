import { type GridProduct, type WaitPolicy } from './buyer-backtest';

/**
 * The simple policies the model must beat, as WaitPolicy factories over the price grid. Each
 * decides on day t from prices up to and including t only (no look-ahead), ignores the days left,
 * and is computed per product into one byte per day.
 */

/** The fixed yardstick: "wait while the price is more than 5 % above its 90-day low". */
export const RULE_BASELINE_WINDOW_DAYS = 90;

/** Wait while today's price is more than `thresholdPct` % above the lowest known price of the last `windowDays` days (today included). */
export function rulePolicy(products: readonly GridProduct[], thresholdPct: number, windowDays: number): WaitPolicy {
  return dailyPolicy(products, (p) => {
    const low = trailingLow(p.prices, windowDays);
    const waits = new Uint8Array(p.prices.length);
    for (let t = 0; t < waits.length; t++) if ((100 * (p.prices[t]! - low[t]!)) / low[t]! > thresholdPct) waits[t] = 1;
    return waits;
  });
}

export function ruleText(thresholdPct: number, windowDays: number): string {
  return `wait while the price is more than ${thresholdPct} % above its ${windowDays}-day low, otherwise buy`;
}

/**
 * Wait when the product's own past rate of ≥ X % drops within H days is above `level`: the share
 * of drops among its past days whose label is known on the decision day (day ≤ t − H: the horizon
 * has passed). `labels[i]` is product i's label per day of its grid (1, 0, NaN unknown), the
 * forecaster's own (timeline.ts `outcomesOf`), so this is exactly its `past_drop_rate` feature.
 * No past labels: Buy now.
 */
export function frequencyPolicy(products: readonly GridProduct[], labels: readonly ArrayLike<number>[], horizonDays: number, level: number): WaitPolicy {
  return dailyPolicy(products, (p, index) => {
    const own = labels[index]!;
    const waits = new Uint8Array(p.prices.length);
    let labelled = 0;
    let positives = 0;
    for (let t = 0; t < waits.length; t++) {
      const s = t - horizonDays;
      if (s >= 0 && !Number.isNaN(own[s] as number)) {
        labelled++;
        positives += own[s] as number;
      }
      if (labelled > 0 && positives / labelled > level) waits[t] = 1;
    }
    return waits;
  });
}

export function frequencyText(horizonDays: number, minDropPct: number, level: number): string {
  return `wait while this product's past share of ${horizonDays}-day windows with a drop of ${minDropPct} % or more is above ${Math.round(level * 100)} %, otherwise buy`;
}

/**
 * How many ≥ X % drops began before `beforeIndex`: a drop begins on a day whose price is at least
 * X % below the highest known price of the H days before it, when the previous known day was not
 * already so far below (a sale that lasts counts once).
 */
export function countDropsBefore(prices: Float64Array, horizonDays: number, minDropPct: number, beforeIndex: number): number {
  const high = trailingHigh(prices, horizonDays);
  const factor = (1 - minDropPct / 100) * (1 + 1e-9);
  let drops = 0;
  let inDrop = false;
  const end = Math.min(beforeIndex, prices.length);
  for (let t = 1; t < end; t++) {
    const price = prices[t]!;
    if (Number.isNaN(price)) continue;
    const down = price <= high[t - 1]! * factor; // NaN (nothing known before) compares false
    if (down && !inDrop) drops++;
    inDrop = down;
  }
  return drops;
}

/** The lowest known price over the `window` days ending on each day (NaN where none is known). Monotonic deque: O(days). */
export function trailingLow(prices: Float64Array, window: number): Float64Array {
  const out = new Float64Array(prices.length);
  const deque = new Int32Array(prices.length);
  let head = 0;
  let tail = 0;
  for (let t = 0; t < prices.length; t++) {
    const price = prices[t]!;
    if (!Number.isNaN(price)) {
      while (tail > head && prices[deque[tail - 1]!]! >= price) tail--;
      deque[tail++] = t;
    }
    while (tail > head && deque[head]! <= t - window) head++;
    out[t] = tail > head ? prices[deque[head]!]! : Number.NaN;
  }
  return out;
}

function trailingHigh(prices: Float64Array, window: number): Float64Array {
  const low = trailingLow(prices.map((price) => -price), window);
  return low.map((price) => -price);
}

/**
 * A policy that decides per (product, day) from a table computed once per product for calls, and
 * fresh for the replay, which asks once per product (so tuning over 40 candidates does not keep
 * 40 grids of tables alive).
 */
function dailyPolicy(products: readonly GridProduct[], waitsOf: (product: GridProduct, index: number) => Uint8Array): WaitPolicy {
  const tables: (Uint8Array | undefined)[] = new Array(products.length);
  const policy = (product: number, day: number): boolean => {
    const p = products[product]!;
    let waits = tables[product];
    if (waits === undefined) {
      waits = waitsOf(p, product);
      tables[product] = waits;
    }
    return waits[day - p.firstDay] === 1;
  };
  return Object.assign(policy, { daily: (product: number) => tables[product] ?? waitsOf(products[product]!, product) });
}
