import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCache, type CacheDb } from '../cache/cache-db';
import { evaluateAlerts } from './alert-evaluation';
import { addRule, listFired } from './alert-store';
import { cleanRow, storeRows } from '../../test/support/clean-rows';

const AT = '2026-11-20T12:00:00.000Z';

/** Products in two categories, each with one latest observation. */
function cache(products: { id: string; category: string; price: number; dropPct: number | null }[]): CacheDb {
  const db = openCache(join(mkdtempSync(join(tmpdir(), 'pricedrop-alerts-')), 'cache.db'));
  storeRows(
    db,
    products.map((p) => {
      const isDrop = p.dropPct !== null && p.dropPct > 0;
      return cleanRow({ source: 'sim', product_id: p.id, observed_at: AT, title: `Item ${p.id}`, category: p.category, price: p.price, drop_pct: p.dropPct, is_drop: isDrop, drop_label: isDrop ? 'drop' : 'no drop' });
    }),
  );
  return db;
}

const now = new Date('2026-11-20T13:00:00Z');

describe('alert evaluation', () => {
  it('fires a price target and a drop rule once per product and day', () => {
    const db = cache([
      { id: 'A', category: 'Toys', price: 9, dropPct: 10 },
      { id: 'B', category: 'Toys', price: 20, dropPct: 25 },
      { id: 'C', category: 'Books', price: 5, dropPct: 0 },
    ]);
    addRule(db, { scope: 'product', source: 'sim', target: 'A', kind: 'price_below', threshold: 10 });
    addRule(db, { scope: 'category', source: null, target: 'Toys', kind: 'drop_pct', threshold: 20 });
    const first = evaluateAlerts(db, { dailyCap: 10, now });
    expect(first.fired.map((a) => a.product_id).sort()).toEqual(['A', 'B']);
    expect(first.fired.find((a) => a.product_id === 'B')!.message).toMatch(/dropped 25.0 %/);
    expect(evaluateAlerts(db, { dailyCap: 10, now }).fired).toEqual([]);
    const tomorrow = evaluateAlerts(db, { dailyCap: 10, now: new Date('2026-11-21T08:00:00Z') });
    expect(tomorrow.fired).toHaveLength(2);
  });

  it('holds back what exceeds the daily cap and counts it', () => {
    const db = cache(Array.from({ length: 5 }, (_, i) => ({ id: `P${i}`, category: 'Toys', price: 1, dropPct: 50 })));
    addRule(db, { scope: 'category', source: null, target: 'Toys', kind: 'price_below', threshold: 2 });
    const result = evaluateAlerts(db, { dailyCap: 3, now });
    expect(result.fired).toHaveLength(3);
    expect(result.suppressed).toBe(2);
    expect(evaluateAlerts(db, { dailyCap: 3, now })).toMatchObject({ fired: [], suppressed: 2 });
    expect(listFired(db)).toHaveLength(3);
  });

  it('waits for a model before predicted-drop rules fire, then uses its confidence', () => {
    const db = cache([{ id: 'A', category: 'Toys', price: 9, dropPct: 0 }]);
    addRule(db, { scope: 'product', source: 'sim', target: 'A', kind: 'predicted_drop', threshold: 0.7 });
    expect(evaluateAlerts(db, { dailyCap: 10, now }).fired).toEqual([]);
    expect(evaluateAlerts(db, { dailyCap: 10, now, forecast: () => ({ will_drop: true, confidence: 0.6, expected_drop_pct: 12 }) }).fired).toEqual([]);
    const fired = evaluateAlerts(db, { dailyCap: 10, now, forecast: () => ({ will_drop: true, confidence: 0.8, expected_drop_pct: 12 }) }).fired;
    expect(fired[0]!.message).toMatch(/80 % confidence/);
  });
});
