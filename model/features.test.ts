import { describe, expect, it } from 'vitest';
import { CategoryDropRates, DAY_MS, FEATURE_COUNT, FEATURE_NAMES, NEVER_DAYS, computeFeatures, decisionPoints, historyOf, labelAt, minPriceBetween, priceAt, type FeatureContext, type Observation } from './features';

const T0 = Date.parse('2025-03-01T10:00:00Z');
const day = (d: number, hours = 0) => T0 + d * DAY_MS + hours * 3_600_000;
const f = (name: (typeof FEATURE_NAMES)[number]) => FEATURE_NAMES.indexOf(name);

function obs(d: number, price: number, oldPrice: number | null = null, extra: Partial<Observation> = {}): Observation {
  return { source: 's', productId: 'A', observedAt: day(d), title: 'A', category: 'dairy', price, oldPrice, currency: 'EUR', ...extra };
}

const context: FeatureContext = { categoryCode: (c) => (c === 'dairy' ? 0 : -1), categoryDropRate: () => 0.25 };

/** Daily snapshots over 60 days: 10.00, a promo at 8.00 (was 10) on days 20–26, a rise to 11 on day 40. */
function snapshots(): Observation[] {
  const rows: Observation[] = [];
  for (let d = 0; d < 60; d++) rows.push(d >= 20 && d < 27 ? obs(d, 8, 10) : obs(d, d >= 40 ? 11 : 10));
  return rows;
}

/** The same prices as a change-event log: a row only when the price changes. */
function changeLog(): Observation[] {
  return [obs(0, 10), obs(20, 8, 10), obs(27, 10), obs(40, 11)];
}

describe('product histories', () => {
  it('collapses snapshots into price segments, keeping one checkpoint per observed day', () => {
    const history = historyOf(snapshots())!;
    expect(Array.from(history.price)).toEqual([10, 8, 10, 11]);
    expect(history.checkpoints.length).toBe(60);
    expect(priceAt(history, day(25))).toBe(8);
    expect(priceAt(history, day(-1))).toBeNaN();
    expect(minPriceBetween(history, day(10), day(21))).toBe(8);
    expect(minPriceBetween(history, day(28), day(50))).toBe(10);
  });

  it('computes the same features from snapshots and from a change-event log', () => {
    const a = historyOf(snapshots())!;
    const b = historyOf(changeLog())!;
    for (const t of [day(5), day(22), day(30), day(45), day(59)]) {
      const fa = Array.from(computeFeatures(a, t, context)!);
      const fb = Array.from(computeFeatures(b, t, context)!);
      expect(fb).toEqual(fa);
    }
  });

  it('computes windows, lows, promotion age and recency as documented', () => {
    const history = historyOf(changeLog())!;
    const x = computeFeatures(history, day(24), context)!;
    expect(x.length).toBe(FEATURE_COUNT);
    expect(x[f('price')]).toBe(8);
    expect(x[f('list_price')]).toBe(10);
    expect(x[f('drop_pct_now')]).toBeCloseTo(20);
    expect(x[f('min_7d')]).toBe(8);
    expect(x[f('max_7d')]).toBe(10);
    // 7-day window [day 17, day 24]: 3 days at 10, 4 days at 8 → 62/7.
    expect(x[f('mean_7d')]).toBeCloseTo(62 / 7, 10);
    expect(x[f('rel_max_7d')]).toBeCloseTo(-20);
    expect(x[f('all_time_low')]).toBe(8);
    expect(x[f('days_since_change')]).toBe(4);
    expect(x[f('days_since_drop')]).toBe(4);
    expect(x[f('last_change_dir')]).toBe(-1);
    expect(x[f('last_change_pct')]).toBeCloseTo(-20);
    expect(x[f('promo_age_days')]).toBe(4);
    expect(x[f('changes_30d')]).toBe(1);
    expect(x[f('history_days')]).toBe(24);
    expect(x[f('category_code')]).toBe(0);
    expect(x[f('category_drop_rate_30d')]).toBe(0.25);
    const later = computeFeatures(history, day(50), context)!;
    expect(later[f('last_change_dir')]).toBe(1);
    expect(later[f('promo_age_days')]).toBe(0);
    expect(later[f('days_since_drop')]).toBe(30);
    const before = computeFeatures(history, day(10), context)!;
    expect(before[f('days_since_drop')]).toBe(NEVER_DAYS);
    expect(computeFeatures(history, day(-1), context)).toBeUndefined();
  });

  it('has no look-ahead: changing future rows does not change past features', () => {
    const base = snapshots();
    const altered = base.map((o) => (o.observedAt > day(30) ? { ...o, price: o.price * 0.5 + 3, oldPrice: 99 } : o));
    altered.push(obs(70, 1));
    const a = historyOf(base)!;
    const b = historyOf(altered)!;
    for (let d = 0; d <= 30; d++) {
      for (const hours of [0, 5]) {
        const t = day(d, hours);
        expect(Array.from(computeFeatures(b, t, context)!)).toEqual(Array.from(computeFeatures(a, t, context)!));
      }
    }
    // …and the category rate only reads days strictly before the decision's day.
    const rates = new CategoryDropRates([
      { category: 'dairy', day: Math.floor(day(5) / DAY_MS), drops: 1, rows: 4 },
      { category: 'dairy', day: Math.floor(day(6) / DAY_MS), drops: 4, rows: 4 },
    ]);
    expect(rates.rate('dairy', day(6))).toBe(0.25);
    expect(rates.rate('dairy', day(7))).toBe(5 / 8);
    expect(rates.rate('dairy', day(40))).toBe(0);
    expect(rates.rate('unknown', day(7))).toBe(0);
  });

  it('survives gaps: the price holds, and decision points fill the gap weekly', () => {
    const rows = snapshots().filter((o) => o.observedAt < day(30) || o.observedAt >= day(52));
    const history = historyOf(rows)!;
    expect(priceAt(history, day(45))).toBe(10);
    const points = decisionPoints(history, 7);
    expect(points.filter((t) => t > day(29) && t < day(52))).toEqual([day(36), day(43), day(50)]);
    expect(Array.from(computeFeatures(history, day(45), context)!).every((v) => Number.isFinite(v))).toBe(true);
  });

  it('labels a drop of at least X % within H days, and leaves it unknown past the data end', () => {
    const history = historyOf(changeLog())!;
    const end = day(59);
    expect(labelAt(history, day(10), 14, 5, end)).toEqual({ label: 1, maxDropPct: 20 });
    expect(labelAt(history, day(5), 14, 5, end).label).toBe(0);
    expect(labelAt(history, day(10), 14, 25, end).label).toBe(0);
    // A rise is not a drop; a drop exactly at t + H counts.
    expect(labelAt(history, day(30), 14, 5, end).label).toBe(0);
    expect(labelAt(history, day(6), 14, 5, end).label).toBe(1);
    expect(labelAt(history, day(50), 14, 5, end).label).toBeUndefined();
  });

  it('keeps the last of several observations at one instant, and rejects out-of-order rows', () => {
    const history = historyOf([obs(0, 10), obs(1, 9), { ...obs(1, 10) }, obs(2, 10)])!;
    expect(Array.from(history.price)).toEqual([10]);
    expect(() => historyOf([obs(2, 10), obs(1, 9)])).toThrow(/time order/);
  });
});
