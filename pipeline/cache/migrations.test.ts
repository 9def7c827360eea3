import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openCache } from './cache-db';
import { MIGRATIONS } from './migrations';
import { backfillRollupColumns } from './migrations/0800-observation-blocks';
import type { CleanRow } from './observation-writer';
import { computeDrop } from '../base/price-rules';
import { seededSequence } from '../base/seeded-sequence';
import { useTempDirs } from '../../test/support/temp-dirs';
import { cleanRow, storeRows } from '../../test/support/clean-rows';
import { BLOCKS_RELEASE, loadReleaseCache, TYPED_RELEASE } from '../../test/support/release-cache';

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
    const perProduct = db.prepare("SELECT observed_at FROM observations WHERE source = 'pnp' AND product_id = 'a' ORDER BY observed_at").pluck().all();
    expect(perProduct).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T10:59:59.999Z', '2025-03-02T00:00:00.001Z']);

    // The writer carries on from the migrated rows: old keys are duplicates, later rows are new.
    const result = storeRows(db, [rows[1] as CleanRow, row('a', '2025-03-03T08:00:00.000Z', 8.5)]);
    expect(result).toEqual({ inserted: 1, duplicates: 1 });
    expect(db.prepare("SELECT last_price, last_observed_at FROM products WHERE product_id = 'a'").get()).toEqual({ last_price: 8.5, last_observed_at: '2025-03-03T08:00:00.000Z' });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

/**
 * Random observations as the ETL and the sync write them: prices of 0 to 4 decimals (and a few
 * no decimal scale holds), drops by the rules or not, NULLs, both origins' row shapes, times
 * to the millisecond over 1969-2026 with repeated keys (duplicates) and rows older than a
 * product's latest (late rows).
 */
function randomRows(random: () => number, count: number): CleanRow[] {
  return Array.from({ length: count }, () => {
    const product = Math.floor(random() * 60);
    const ms = random() < 0.02 ? -Math.floor(random() * 1e10) : Date.UTC(2024, 0, 1) + Math.floor(random() * 900) * 86_400_000 + Math.floor(random() * 4) * 3_600_123;
    const scale = 10 ** Math.floor(random() * 5);
    const price = random() < 0.03 ? random() * 100 : Math.round(random() * 900 * scale) / scale + 0.01;
    const old = random() < 0.3 ? null : Math.round(price * (0.7 + random()) * 100) / 100;
    const drop = random() < 0.8 ? computeDrop(price, old) : { old_price: old, drop_amount: old === null ? null : random() * 10, drop_pct: old === null ? null : Math.round(random() * 9000) / 100, is_drop: random() < 0.5, drop_label: 'no drop' as const };
    const observedAt = new Date(ms).toISOString();
    return cleanRow({
      source: product % 3 ? 'pnp' : 'mercadona',
      product_id: `p${product}`,
      observed_at: observedAt,
      title: `Product ${product}${random() < 0.1 ? ' (new label)' : ''}`,
      category: `c${product % 7}`,
      currency: product % 5 ? 'ZAR' : 'EUR',
      price,
      ...drop,
      drop_label: drop.is_drop ? 'drop' : 'no drop',
    });
  });
}

/** What an analyst, Power BI and the dashboards read from a cache, in a fixed order. */
function contents(db: Database.Database): Record<string, unknown> {
  return {
    observations: db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all(),
    products: db.prepare('SELECT * FROM products ORDER BY source, product_id').all(),
    kpis: db.prepare('SELECT * FROM v_price_drop_kpis').all(),
    trend: db.prepare('SELECT * FROM v_drop_trend_daily ORDER BY dt, category').all(),
    categories: db.prepare('SELECT * FROM v_category_drops ORDER BY category').all(),
    latest: db.prepare('SELECT * FROM v_product_latest ORDER BY source, product_id').all(),
    rollups: db.prepare('SELECT dt, category, is_drop, observations, drop_pct_n, drop_pct_sum_c FROM rollup_daily ORDER BY 1, 2, 3').all(),
    presence: db.prepare('SELECT dt, category, kind, bits, products FROM rollup_presence ORDER BY 1, 2, 3').all(),
  };
}

/** The first row of each key, as `observations` shows it. */
function expectedObservations(rows: readonly CleanRow[], origin: (i: number) => string): unknown[] {
  const first = new Map<string, CleanRow & { origin: string }>();
  rows.forEach((row, i) => {
    const key = `${row.source}\u0000${row.product_id}\u0000${row.observed_at}`;
    if (!first.has(key)) first.set(key, { ...row, origin: origin(i) });
  });
  const key = (r: CleanRow) => [r.source, r.product_id, r.observed_at];
  return [...first.values()]
    .sort((a, b) => (key(a).join('\u0000') < key(b).join('\u0000') ? -1 : 1))
    .map((r) => ({
      source: r.source,
      product_id: r.product_id,
      observed_at: r.observed_at,
      dt: r.dt,
      title: r.title,
      category: r.category,
      price: r.price,
      old_price: r.old_price,
      currency: r.currency,
      drop_amount: r.drop_amount,
      drop_pct: r.drop_pct,
      is_drop: r.is_drop ? 1 : 0,
      drop_label: r.is_drop ? 'drop' : 'no drop',
      origin: r.origin,
    }));
}

const BEFORE_TYPED = MIGRATIONS.findIndex((m) => m.id === '0900-typed-observation-records');

describe('migration 0900-typed-observation-records', () => {
  it('tells the caller before converting an existing cache, and says nothing for a new one', () => {
    const dir = tempDir();
    const told: string[] = [];
    const progress: number[][] = [];
    openCache(join(dir, 'cache.db'), { onMigration: (m) => told.push(m.id), onMigrationProgress: (_, done, total) => progress.push([done, total]) }).close();
    expect(told).toEqual([]);
    expect(progress).toEqual([]);
    const old = new Database(join(dir, 'old.db'));
    migrate(old, MIGRATIONS.slice(0, BEFORE_TYPED));
    old.close();
    openCache(join(dir, 'old.db'), { onMigration: (m) => told.push(m.id) }).close();
    expect(told).toEqual(['0900-typed-observation-records', '0950-source-kinds', '1000-product-latest-row']);
    expect(MIGRATIONS[BEFORE_TYPED]?.note).toMatch(/per million observations/);
  });

  it(`converts a cache written by the release before it (blocks, commit ${BLOCKS_RELEASE.slice(0, 7)}) without losing a value, and reports its progress`, async (context) => {
    const { cache: release, why } = await loadReleaseCache();
    if (!release) {
      context.skip(why);
      return;
    }
    for (const seed of [1, 2, 3]) {
      const random = seededSequence(seed);
      const file = join(tempDir(), 'cache.db');
      const old = release.openCache(file);
      expect(old.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'observation_blocks'").pluck().get()).toBe(1);
      // Batches of the ETL (local) and of the sync (athena), with duplicates and late rows across them.
      const batches = Array.from({ length: 6 }, () => randomRows(random, 300 + Math.floor(random() * 500)));
      batches[4]?.push(...(batches[1]?.slice(0, 100) ?? []));
      const origins: string[] = [];
      batches.forEach((batch, b) => {
        const origin = b % 3 === 2 ? 'athena' : 'local';
        const writer = release.createObservationWriter(old, { origin });
        old.transaction(() => {
          writer.writeBatch(batch);
          writer.flush();
        })();
        origins.push(...batch.map(() => origin));
      });
      const before = contents(old);
      old.close();
      expect(before.observations).toEqual(expectedObservations(batches.flat(), (i) => origins[i] as string));

      const progress: number[][] = [];
      const db = openCache(file, { onMigrationProgress: (id, done, total) => progress.push([done, total]) });
      expect(contents(db)).toEqual(before);
      const total = (before.observations as unknown[]).length;
      expect(progress.at(-1)).toEqual([total, total]);
      expect(progress.every(([done], k) => k === 0 || (done as number) >= (progress[k - 1]?.[0] as number))).toBe(true);
      expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('observation_blocks', 'observation_slots', 'observation_values', 'observation_rows')").pluck().get()).toBe(0);
      // The writer carries on: the stored rows are duplicates, the rollups stay exact.
      const again = storeRows(db, batches[0] ?? []);
      expect(again.inserted).toBe(0);
      expect(contents(db)).toEqual(before);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
  });

  it('converts a cache of the format before the blocks (narrow rows, 0700) without losing a value', () => {
    for (const seed of [4, 5]) {
      const random = seededSequence(seed);
      const file = join(tempDir(), 'cache.db');
      const old = new Database(file);
      migrate(old, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === '0800-observation-blocks')));
      expect(old.prepare("SELECT type FROM sqlite_master WHERE name = 'observation_rows'").pluck().get()).toBe('table');
      // Rows through the 0700 view's INSTEAD OF INSERT trigger: the first of each key, as the writer kept them.
      const rows = randomRows(random, 1500);
      const origin = (i: number) => (i % 4 === 0 ? 'athena' : 'local');
      const insert = old.prepare(
        `INSERT INTO observations (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin)
         VALUES (@source, @product_id, @observed_at, @dt, @title, @category, @price, @old_price, @currency, @drop_amount, @drop_pct, @is_drop, @drop_label, @origin)`,
      );
      const expected = expectedObservations(rows, origin) as CleanRow[];
      old.transaction(() => expected.forEach((r) => insert.run({ ...r })))();
      expect(old.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all()).toEqual(expected);
      old.close();

      const db = openCache(file);
      expect(db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all()).toEqual(expected);
      // Rollups that did not add up (the trigger wrote around the writer) were rebuilt from the rows.
      const byCategory = db
        .prepare(
          `SELECT category, COUNT(*) AS observations, COALESCE(SUM(is_drop), 0) AS drops, ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2) AS avg_drop_pct,
                  COUNT(DISTINCT source || char(31) || product_id) AS products_analysed,
                  COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop
             FROM observations GROUP BY category ORDER BY category`,
        )
        .all();
      expect(db.prepare('SELECT * FROM v_category_drops ORDER BY category').all()).toEqual(byCategory);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
    }
  });
});

describe('migration 1000-product-latest-row', () => {
  it("gives each product its latest row, the views answer as 0900's did, the writer keeps it, and no view needs the key", () => {
    const random = seededSequence(21);
    const file = join(tempDir(), 'cache.db');
    const old = new Database(file);
    migrate(old, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === '0800-observation-blocks')));
    const insert = old.prepare(
      `INSERT INTO observations (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin)
       VALUES (@source, @product_id, @observed_at, @dt, @title, @category, @price, @old_price, @currency, @drop_amount, @drop_pct, @is_drop, @drop_label, @origin)`,
    );
    const rows = expectedObservations(randomRows(random, 1200), () => 'local') as CleanRow[];
    old.transaction(() => rows.forEach((r) => insert.run({ ...r })))();
    migrate(old, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === '1000-product-latest-row')));
    const views = (db: Database.Database) => ({
      products: db.prepare('SELECT * FROM products ORDER BY source, product_id').all(),
      latest: db.prepare('SELECT * FROM v_product_latest ORDER BY source, product_id').all(),
      kpis: db.prepare('SELECT * FROM v_price_drop_kpis').get(),
    });
    const before = views(old);
    expect(before.products.length).toBeGreaterThan(20);
    old.close();

    const db = openCache(file);
    expect(views(db)).toEqual(before);
    expect(db.prepare('SELECT COUNT(*) FROM product_keys WHERE last_row IS NULL').pluck().get()).toBe(0);
    // Later rows through the writer move each product's latest; late and repeated ones do not.
    const later = rows.slice(0, 300).map((r) => {
      const t = new Date(Date.parse(r.observed_at) + 400 * 86_400_000).toISOString();
      return { ...r, observed_at: t, dt: t.slice(0, 10), price: r.price + 1 };
    });
    storeRows(db, [...later, ...rows.slice(300, 400)]);
    const rebuilt = (sql: string) => db.prepare(sql.replace(/JOIN observation_records o ON o.rowid = k.last_row/, 'JOIN observation_records o ON o.product = k.id AND o.observed_at = (SELECT MAX(x.observed_at) FROM observation_records x WHERE x.product = k.id)')).all();
    const definition = (name: string) => db.prepare("SELECT sql FROM sqlite_master WHERE name = ?").pluck().get(name) as string;
    expect(db.prepare('SELECT * FROM products ORDER BY source, product_id').all()).toEqual(rebuilt(`${definition('products').replace(/^CREATE VIEW products AS/, '')} ORDER BY source, product_id`));
    expect(db.prepare('SELECT * FROM v_product_latest ORDER BY source, product_id').all()).toEqual(rebuilt(`${definition('v_product_latest').replace(/^CREATE VIEW v_product_latest AS/, '')} ORDER BY source, product_id`));
    for (const view of ['products', 'v_product_latest', 'v_price_drop_kpis']) {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT * FROM ${view}`).all() as { detail: string }[]).map((r) => r.detail).join('\n');
      expect(plan).not.toMatch(/observation_records_key|CORRELATED/);
    }
    db.close();
  });
});

describe('migration 1000-product-latest-row, from the release before it', () => {
  it(`converts a cache written by the release before it (typed rows, commit ${TYPED_RELEASE.slice(0, 7)}): every view the same, the writer carrying on`, async (context) => {
    const { cache: release, why } = await loadReleaseCache(TYPED_RELEASE);
    if (!release) {
      context.skip(why);
      return;
    }
    const random = seededSequence(31);
    const file = join(tempDir(), 'cache.db');
    const old = release.openCache(file);
    expect(old.prepare("SELECT COUNT(*) FROM schema_migrations WHERE id = '0950-source-kinds'").pluck().get()).toBe(1);
    const batches = Array.from({ length: 5 }, () => randomRows(random, 300 + Math.floor(random() * 400)));
    batches[3]?.push(...(batches[0]?.slice(0, 80) ?? []));
    batches.forEach((batch, b) => {
      const writer = release.createObservationWriter(old, { origin: b % 2 ? 'athena' : 'local' });
      old.transaction(() => {
        writer.writeBatch(batch);
        writer.flush();
      })();
    });
    const before = contents(old);
    old.close();

    const db = openCache(file);
    expect(contents(db)).toEqual(before);
    expect(db.prepare('SELECT COUNT(*) FROM product_keys WHERE last_row IS NULL').pluck().get()).toBe(0);
    const again = storeRows(db, batches[1] ?? []);
    expect(again.inserted).toBe(0);
    expect(contents(db)).toEqual(before);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});

describe('migration 0800-observation-blocks', () => {
  it("fills the rollups' new columns from the bitmaps as the writer keeps them", () => {
    const db = openCache(join(tempDir(), 'cache.db'));
    const rows = Array.from({ length: 300 }, (_, i) =>
      row(`p${i % 17}`, new Date(Date.UTC(2025, 2, 1) + i * 7_200_000).toISOString(), 5 + (i % 9), i % 4 ? {} : { old_price: null, drop_amount: null, drop_pct: null, is_drop: false, drop_label: 'no drop' }),
    ).map((r, i) => ({ ...r, category: `c${i % 3}` }));
    storeRows(db, rows);
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
