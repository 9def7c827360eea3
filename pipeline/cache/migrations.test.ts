import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openCache } from './cache-db';
import { MIGRATIONS } from './migrations';
import { backfillRollupColumns } from './observation-blocks-migration';
import { createObservationWriter, type CleanRow } from './observation-writer';
import { useTempDirs } from '../../test/support/temp-dirs';
import { cleanRow } from '../../test/support/clean-rows';

const tempDir = useTempDirs('pricedrop-migrate-');

const BEFORE_NARROW = MIGRATIONS.findIndex((m) => m.id === '0700-narrow-observations');

function row(productId: string, observedAt: string, price: number, extra: Partial<CleanRow> = {}): CleanRow {
  const drop = { old_price: price + 1, drop_amount: 1, drop_pct: Math.round((100 / (price + 1)) * 100) / 100, is_drop: true, drop_label: 'drop' as const };
  return cleanRow({ source: 'pnp', product_id: productId, observed_at: observedAt, title: `Item ${productId}`, category: 'dairy', price, currency: 'ZAR', ...drop, ...extra });
}

describe('migration 0700-narrow-observations', () => {
  it('moves a cache of the previous schema into the narrow rows, views reading back exactly what was stored', () => {
    expect(BEFORE_NARROW).toBeGreaterThan(0);
    const dir = tempDir();
    const file = join(dir, 'cache.db');
    const old = new Database(file);
    migrate(old, MIGRATIONS.slice(0, BEFORE_NARROW));
    const rows = [
      row('a', '2025-03-01T10:00:00.000Z', 10),
      row('a', '2025-03-01T10:59:59.999Z', 9.5),
      row('a', '2025-03-02T00:00:00.001Z', 9, { old_price: null, drop_amount: null, drop_pct: null, is_drop: false, drop_label: 'no drop' }),
      row('b', '1969-12-31T23:59:59.500Z', 3, { title: 'Older title' }),
      row('b', '2025-03-01T10:00:00.000Z', 2.5, { category: 'bakery' }),
    ];
    const insert = old.prepare(
      `INSERT INTO observations (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin)
       VALUES (@source, @product_id, @observed_at, @dt, @title, @category, @price, @old_price, @currency, @drop_amount, @drop_pct, @is_drop, @drop_label, @origin)`,
    );
    rows.forEach((r, i) => insert.run({ ...r, is_drop: r.is_drop ? 1 : 0, origin: i === 4 ? 'athena' : 'local' }));
    old.exec(`INSERT INTO products VALUES ('pnp', 'a', 'Item a', 'dairy', 'ZAR', 9, '2025-03-02T00:00:00.001Z'), ('pnp', 'b', 'Item b', 'bakery', 'ZAR', 2.5, '2025-03-01T10:00:00.000Z')`);
    const before = old.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all();
    const latestBefore = old.prepare('SELECT * FROM v_product_latest ORDER BY product_id').all();
    const kpisBefore = old.prepare('SELECT * FROM v_price_drop_kpis').get();
    const trendBefore = old.prepare('SELECT * FROM v_drop_trend_daily ORDER BY dt, category').all();
    old.close();

    const db = openCache(file);
    expect(db.prepare("SELECT type FROM sqlite_master WHERE name = 'observations'").pluck().get()).toBe('view');
    expect(db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all()).toEqual(before);
    expect(db.prepare('SELECT * FROM v_product_latest ORDER BY product_id').all()).toEqual(latestBefore);
    expect(db.prepare('SELECT * FROM v_price_drop_kpis').get()).toEqual(kpisBefore);
    expect(db.prepare('SELECT * FROM v_drop_trend_daily ORDER BY dt, category').all()).toEqual(trendBefore);
    const perProduct = db.prepare("SELECT observed_at FROM product_observations WHERE source = 'pnp' AND product_id = 'a' ORDER BY observed_at").pluck().all();
    expect(perProduct).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T10:59:59.999Z', '2025-03-02T00:00:00.001Z']);

    // The writer carries on from the migrated rows: old keys are duplicates, later rows are new.
    const writer = createObservationWriter(db);
    const result = db.transaction(() => {
      const r = writer.writeBatch([rows[1] as CleanRow, row('a', '2025-03-03T08:00:00.000Z', 8.5)]);
      writer.flush();
      return r;
    })();
    expect(result).toEqual({ inserted: 1, duplicates: 1 });
    expect(db.prepare("SELECT last_price, last_observed_at FROM products WHERE product_id = 'a'").get()).toEqual({ last_price: 8.5, last_observed_at: '2025-03-03T08:00:00.000Z' });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('migration 0800-observation-blocks', () => {
  it('tells the caller before converting an existing cache, and says nothing for a new one', () => {
    const dir = tempDir();
    const told: string[] = [];
    openCache(join(dir, 'cache.db'), { onMigration: (m) => told.push(m.id) }).close();
    expect(told).toEqual([]);
    const old = new Database(join(dir, 'old.db'));
    migrate(old, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === '0800-observation-blocks')));
    old.close();
    openCache(join(dir, 'old.db'), { onMigration: (m) => told.push(m.id) }).close();
    expect(told[0]).toBe('0800-observation-blocks');
    expect(MIGRATIONS.find((m) => m.id === '0800-observation-blocks')?.note).toMatch(/per million observations/);
  });

  it("fills the rollups' new columns from the bitmaps as the writer keeps them", () => {
    const db = openCache(join(tempDir(), 'cache.db'));
    const rows = Array.from({ length: 300 }, (_, i) =>
      row(`p${i % 17}`, new Date(Date.UTC(2025, 2, 1) + i * 7_200_000).toISOString(), 5 + (i % 9), i % 4 ? {} : { old_price: null, drop_amount: null, drop_pct: null, is_drop: false, drop_label: 'no drop' }),
    ).map((r, i) => ({ ...r, category: `c${i % 3}` }));
    const writer = createObservationWriter(db);
    db.transaction(() => {
      writer.writeBatch(rows);
      writer.flush();
    })();
    const columns = () => ({
      presence: db.prepare('SELECT dt, category, kind, products FROM rollup_presence ORDER BY 1, 2, 3').all(),
      dropped: db.prepare('SELECT category, n, dropped FROM rollup_category_products ORDER BY 1, 2').all(),
    });
    const kept = columns();
    expect(kept.dropped.some((r) => (r as { dropped: number }).dropped === 1)).toBe(true);
    db.exec('UPDATE rollup_presence SET products = 0; UPDATE rollup_category_products SET dropped = 0;');
    backfillRollupColumns(db);
    expect(columns()).toEqual(kept);
    db.close();
  });
});
