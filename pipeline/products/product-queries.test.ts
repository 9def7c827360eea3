import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache, type CacheDb } from '../cache/cache-db';
import { markHistory, productDetail, riseWarning, searchProducts } from './product-queries';
import type { CleanRow } from '../cache/observation-writer';
import { cleanRow, storeRows } from '../../test/support/clean-rows';

const DAY = 86_400_000;
const START = Date.parse('2026-09-01T12:00:00Z');

/** One product observed once a day with these prices and "was" prices. */
function cacheWith(prices: readonly number[], wasPrices: readonly (number | null)[] = []): CacheDb {
  const db = openCache(join(mkdtempSync(join(tmpdir(), 'pricedrop-products-')), 'cache.db'));
  storeRows(
    db,
    prices.map((price, i) => {
      const old = wasPrices[i] ?? (i > 0 ? prices[i - 1]! : null);
      const dropPct = old !== null && old > price ? Math.round(((old - price) / old) * 10000) / 100 : old === null ? null : 0;
      const isDrop = dropPct !== null && dropPct > 0;
      return lamp(new Date(START + i * DAY).toISOString(), price, { old_price: old, drop_amount: old === null ? null : old - price, drop_pct: dropPct, is_drop: isDrop, drop_label: isDrop ? 'drop' : 'no drop' });
    }),
  );
  return db;
}

/** A row of the one product, P-1 of source sim. */
function lamp(observedAt: string, price: number, extra: Partial<CleanRow> = {}): CleanRow {
  return cleanRow({ source: 'sim', product_id: 'P-1', observed_at: observedAt, title: 'Desk Lamp', category: 'Home', price, ...extra });
}

describe('product queries', () => {
  it('finds a product by id prefix or by a word of its name, case-insensitively', () => {
    const db = cacheWith([10, 10]);
    expect(searchProducts(db, 'p-').map((p) => p.product_id)).toEqual(['P-1']);
    expect(searchProducts(db, 'LAMP').map((p) => p.product_id)).toEqual(['P-1']);
    expect(searchProducts(db, 'sofa')).toEqual([]);
    expect(searchProducts(db, '%')).toEqual([]);
  });

  it('computes lowest ever, rolling averages and the good-deal badge', () => {
    const prices = [...Array(100).fill(100), 80, ...Array(99).fill(100), 83];
    const detail = productDetail(cacheWith(prices), 'sim', 'P-1')!;
    expect(detail.stats).toMatchObject({ current_price: 83, lowest_price: 80, highest_price: 100, observations: 201 });
    expect(detail.stats.good_deal).toBe(true); // 83 is within 5 % of 80 (84)
    expect(detail.stats.avg_30d).toBeCloseTo((29 * 100 + 83) / 30, 2);
    expect(detail.stats.above_lowest_pct).toBe(3.75);
    const notDeal = productDetail(cacheWith([...prices.slice(0, -1), 90]), 'sim', 'P-1')!;
    expect(notDeal.stats.good_deal).toBe(false);
  });

  it('charts one point a day, the day\'s last observation, while the statistics count every row', () => {
    const db = cacheWith([10, 9]);
    // Two more rows on the first day: 13:00 (9.5) and 23:59 (9.8), then one just after midnight UTC.
    storeRows(db, ([['2026-09-01T13:00:00.000Z', 9.5], ['2026-09-01T23:59:59.999Z', 9.8], ['2026-09-02T00:00:00.000Z', 9.7]] as const).map(([at, price]) => lamp(at, price)));
    const detail = productDetail(db, 'sim', 'P-1')!;
    expect(detail.history.map((p) => [p.observed_at, p.price])).toEqual([
      ['2026-09-01T23:59:59.999Z', 9.8],
      ['2026-09-02T12:00:00.000Z', 9],
    ]);
    expect(detail.stats).toMatchObject({ observations: 5, lowest_price: 9, highest_price: 10, current_price: 9 });
  });

  it('marks drops and promotions (a "was" price the ETL did not fill in)', () => {
    const detail = productDetail(cacheWith([100, 100, 80, 80, 100, 95], [null, null, 100, 100, null, null]), 'sim', 'P-1')!;
    expect(detail.history.map((p) => p.drop)).toEqual([false, false, true, false, false, true]);
    expect(detail.history.map((p) => p.promotion)).toEqual([false, false, true, true, false, false]);
  });

  it('warns when a drop only undoes a recent rise', () => {
    const risen = [...Array(40).fill(100), ...Array(10).fill(120), 99];
    expect(riseWarning(productDetail(cacheWith(risen), 'sim', 'P-1')!.history)).toMatch(/follows a 20 % rise/);
    const realDrop = [...Array(40).fill(100), ...Array(10).fill(120), 85];
    expect(riseWarning(productDetail(cacheWith(realDrop), 'sim', 'P-1')!.history)).toBeNull();
    const steady = [...Array(50).fill(100), 90];
    expect(riseWarning(productDetail(cacheWith(steady), 'sim', 'P-1')!.history)).toBeNull();
    expect(riseWarning(markHistory([]))).toBeNull();
  });
});
