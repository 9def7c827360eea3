import { describe, expect, it } from 'vitest';
import { F, FEATURE_COUNT, FEATURE_NAMES, forEachFeatureRow, latestFeatures } from './features';
import { inputsOf, minimumHistoryDays, planSlices, prepareData, trainingTable, type ForecastData } from './decision-data';
import { categoryCoder } from './model-file';
import { DAY_MS } from '../pipeline/base/time';
import { historyOf, type Observation, type ProductHistory } from './price-history';
import { fixtureRows, type FixtureOptions } from './test-fixtures';
import type { SourceKind } from './timeline';

/** Fixture histories; `reprice` may change an observation's price (by product index and time). */
function histories(options: FixtureOptions, reprice: (price: number, t: number, product: number) => number = (price) => price): ProductHistory[] {
  const byProduct = new Map<string, Observation[]>();
  for (const row of fixtureRows(options)) {
    const list = byProduct.get(row.product_id) ?? byProduct.set(row.product_id, []).get(row.product_id)!;
    const observedAt = Date.parse(row.observed_at);
    const price = reprice(row.price, observedAt, Number(row.product_id.slice(1)) + list.length);
    list.push({ source: row.source, productId: row.product_id, observedAt, title: row.title, category: row.category, price, oldPrice: row.old_price, currency: row.currency });
  }
  return [...byProduct.values()].map((rows) => historyOf(rows)!);
}

function prepare(list: ProductHistory[], kind: SourceKind, horizonDays = 14): ForecastData {
  const end = Math.max(...list.map((h) => h.lastSeen));
  return prepareData({ histories: list, kindOf: () => kind, dataEndOf: () => end }, { horizonDays, minDropPct: 5 });
}

/** Every product's feature rows, keyed by product and epoch day. */
function allRows(data: ForecastData): Map<string, Float64Array> {
  const code = categoryCoder(data.categories);
  const rows = new Map<string, Float64Array>();
  for (const product of data.products) {
    forEachFeatureRow(inputsOf(data, product, code), () => true, (d, row) => rows.set(`${product.timeline.productId}@${product.timeline.firstDay + d}`, Float64Array.from(row)));
  }
  return rows;
}

describe('features', () => {
  it('uses nothing after the decision day: changing every later price moves no earlier feature, for every feature', () => {
    for (const kind of ['snapshots', 'changes'] as const) {
      const options: FixtureOptions = { products: 24, days: 300, mode: kind, seed: 3 };
      const cutoffDay = Math.floor(Date.parse('2025-01-01T00:00:00Z') / DAY_MS) + 200;
      const before = allRows(prepare(histories(options), kind));
      const changed = histories(options, (price, t, k) => (t >= (cutoffDay + 1) * DAY_MS ? price * (k % 2 === 0 ? 0.5 : 1.7) : price));
      const after = allRows(prepare(changed, kind));
      let compared = 0;
      for (const [key, row] of before) {
        const day = Number(key.split('@')[1]);
        if (day > cutoffDay) continue;
        const other = after.get(key)!;
        for (let f = 0; f < FEATURE_COUNT; f++) {
          if (!Object.is(row[f], other[f])) throw new Error(`${FEATURE_NAMES[f]} of ${key} (${kind}) changed with later prices: ${row[f]} → ${other[f]}`);
        }
        compared++;
      }
      expect(compared).toBeGreaterThan(24 * 150);
    }
  });

  it('are finite on every day of every product', () => {
    const rows = allRows(prepare(histories({ products: 12, days: 400, seed: 5 }), 'snapshots'));
    const notFinite = [...rows].flatMap(([key, row]) => FEATURE_NAMES.filter((_, f) => !Number.isFinite(row[f]!)).map((name) => `${name} of ${key}`));
    expect(rows.size).toBe(12 * 400);
    expect(notFinite).toEqual([]);
  });

  it('learn a product\'s discount cycle: gap, days since the last one, depth and the expected next one', () => {
    const data = prepare(histories({ products: 1, days: 300, seed: 7 }), 'snapshots');
    const latest = latestFeatures(inputsOf(data, data.products[0]!, categoryCoder(data.categories)))!;
    const x = latest.features;
    expect(x[F.drops_365d]).toBeGreaterThanOrEqual(7);
    expect(x[F.typical_gap_days]).toBeGreaterThanOrEqual(21);
    expect(x[F.typical_gap_days]).toBeLessThanOrEqual(35);
    expect(x[F.typical_depth_pct]).toBeGreaterThanOrEqual(10);
    expect(x[F.typical_depth_pct]).toBeLessThanOrEqual(30);
    expect(x[F.days_to_expected_drop]).toBeCloseTo(x[F.typical_gap_days]! - x[F.days_since_drop_start]!, 9);
    expect(x[F.past_drop_rate]).toBeGreaterThan(0.2);
    expect(x[F.dropped_year_ago]).toBe(-1); // 300 days do not reach a year back
  });

  it('share the market: when every product starts a sale on the same day, the store share says so that day', () => {
    // Every product goes into a 40 % sale from day 150 on (the same calendar day for all).
    const saleStart = Date.parse('2025-01-01T00:00:00Z') + 150 * DAY_MS;
    const data = prepare(histories({ products: 10, days: 200, seed: 11 }, (price, t) => (t >= saleStart ? price * 0.6 : price)), 'snapshots');
    const code = categoryCoder(data.categories);
    const day = Math.floor(saleStart / DAY_MS) + 1;
    let shares = 0;
    for (const product of data.products) {
      forEachFeatureRow(inputsOf(data, product, code), (d) => product.timeline.firstDay + d === day, (_d, row) => {
        expect(row[F.source_on_drop_share]).toBeGreaterThan(0.9);
        expect(row[F.source_start_share_7d]).toBeGreaterThan(0.5);
        shares++;
      });
    }
    expect(shares).toBe(10);
  });
});

describe('slices and training rows', () => {
  it('cut train | H | validation | H | test in time order with 20 % held out each', () => {
    const data = prepare(histories({ products: 8, days: 400, seed: 2 }), 'snapshots');
    const s = planSlices(data);
    expect(s.train.from).toBe(data.firstDay);
    expect(s.validation.from - s.train.to - 1).toBe(14);
    expect(s.test.from - s.validation.to - 1).toBe(14);
    expect(s.test.to).toBe(data.lastDay - 14);
    const span = data.lastDay - 14 - data.firstDay + 1;
    expect(s.test.to - s.test.from + 1).toBe(Math.round(span * 0.2));
    expect(s.validation.to - s.validation.from + 1).toBe(Math.round(span * 0.2));
  });

  it('refuse a history shorter than the minimum, saying how much is needed', () => {
    const data = prepare(histories({ products: 4, days: minimumHistoryDays(14) - 2, seed: 2 }), 'snapshots');
    expect(() => planSlices(data)).toThrow(/needs at least 84/);
  });

  it('take training labels only from decisions whose horizon ends before validation', () => {
    const data = prepare(histories({ products: 8, days: 300, seed: 4 }), 'snapshots');
    const s = planSlices(data);
    const table = trainingTable(data, s, categoryCoder(data.categories), 1e9, 1);
    const days = data.products.reduce((n, p) => n + Math.max(0, Math.min(s.train.to, p.timeline.firstDay + p.timeline.price.length - 1) - Math.max(s.train.from, p.timeline.firstDay) + 1), 0);
    expect(table.rows).toBe(days); // snapshots every day: every training day has a known label
    const sampled = trainingTable(data, s, categoryCoder(data.categories), 300, 1);
    expect(sampled.rows).toBeGreaterThan(200);
    expect(sampled.rows).toBeLessThanOrEqual(300);
  });
});
