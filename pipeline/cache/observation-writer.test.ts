import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCache, type CacheDb } from './cache-db';
import { createObservationWriter, type CleanRow } from './observation-writer';
import { instantMs } from '../base/time';
import { computeDrop } from '../base/price-rules';

import { rebuildRollups } from './dashboard-rollups';
import { seededSequence } from '../base/seeded-sequence';
import { useTempDirs } from '../../test/support/temp-dirs';
import { cleanRow, writeInTransaction as write } from '../../test/support/clean-rows';

const tempDir = useTempDirs('pricedrop-writer-');

function tempCache(): CacheDb {
  const dir = tempDir();
  return openCache(join(dir, 'cache.db'));
}


/**
 * Rows on a coarse time grid (whole minutes over a few days, 40 products) so keys repeat often,
 * with prices that differ between repeats: which copy was kept is visible.
 */
function randomRows(random: () => number, count: number): CleanRow[] {
  const rows: CleanRow[] = [];
  for (let i = 0; i < count; i++) {
    const product = Math.floor(random() * 40);
    const minute = Math.floor(random() * 600);
    const observedAt = new Date(Date.UTC(2025, 11, 30) + minute * 7 * 60_000).toISOString();
    const price = Math.round(random() * 10_000) / 100;
    const dropPct = random() < 0.3 ? Math.round(random() * 5000) / 100 : random() < 0.5 ? null : 0;
    const isDrop = dropPct !== null && dropPct >= 1;
    rows.push({
      source: product % 3 === 0 ? 'pnp' : 'mercadona',
      product_id: `p${product}`,
      observed_at: observedAt,
      dt: observedAt.slice(0, 10),
      title: `Product ${product} v${Math.floor(random() * 3)}`,
      category: ['dairy', 'bakery', 'drinks'][product % 3] as string,
      price,
      old_price: dropPct === null ? null : price + 1,
      currency: 'EUR',
      drop_amount: dropPct === null ? null : 1,
      drop_pct: dropPct,
      is_drop: isDrop,
      drop_label: isDrop ? 'drop' : 'no drop',
    });
  }
  return rows;
}

/** What the cache holds, in key order, without ids and flush versions (which depend on batching). */
function dump(db: CacheDb): Record<string, unknown[]> {
  return {
    observations: db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all(),
    products: db.prepare('SELECT * FROM products ORDER BY source, product_id').all(),
    rollup_daily: db.prepare('SELECT dt, category, is_drop, observations, drop_pct_n, drop_pct_sum_c FROM rollup_daily ORDER BY 1, 2, 3').all(),
    rollup_presence: db
      .prepare(
        `SELECT p.dt, p.category, p.kind, p.bits, group_concat(c.source || '/' || c.product_id) AS numbering
         FROM rollup_presence p JOIN rollup_category_products c ON c.category = p.category GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(),
  };
}

function firstPerKey(rows: readonly CleanRow[]): Map<string, CleanRow> {
  const first = new Map<string, CleanRow>();
  for (const row of rows) {
    const key = `${row.source}|${row.product_id}|${row.observed_at}`;
    if (!first.has(key)) first.set(key, row);
  }
  return first;
}

describe('observation writer', () => {
  it('keeps the first row of each key, whatever the batching, with products and rollups to match', () => {
    const random = seededSequence(20261125);
    const first = randomRows(random, 500);
    const second = [...randomRows(random, 400), ...first.slice(0, 150)];
    const third = randomRows(random, 300);
    const fourth = [...randomRows(random, 1500), ...second.slice(100, 300), ...third.slice(0, 50)];
    const batches = [first, second, third, fourth];

    const bigDb = tempCache();
    const big = createObservationWriter(bigDb);
    const results = batches.map((batch) => write(bigDb, big, batch));
    // The same rows one at a time: every row takes its own transaction and insert.
    const singleDb = tempCache();
    const single = createObservationWriter(singleDb);
    const singles = batches.flat().map((row) => write(singleDb, single, [row]));
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(singles.reduce((n, r) => n + r.inserted, 0));
    expect(results.every((r) => r.duplicates > 0)).toBe(true);
    expect(dump(bigDb)).toEqual(dump(singleDb));

    const expected = firstPerKey(batches.flat());
    const stored = bigDb.prepare('SELECT source, product_id, observed_at, price, title, is_drop, drop_pct FROM observations').all() as CleanRow[];
    expect(stored.length).toBe(expected.size);
    for (const row of stored) {
      const want = expected.get(`${row.source}|${row.product_id}|${row.observed_at}`);
      expect({ price: row.price, title: row.title, is_drop: row.is_drop, drop_pct: row.drop_pct }).toEqual({
        price: want?.price,
        title: want?.title,
        is_drop: want?.is_drop ? 1 : 0,
        drop_pct: want?.drop_pct,
      });
    }
    // products: the latest row of each product.
    const latest = new Map<string, CleanRow>();
    for (const row of expected.values()) {
      const key = `${row.source}|${row.product_id}`;
      const known = latest.get(key);
      if (!known || row.observed_at > known.observed_at) latest.set(key, row);
    }
    const products = bigDb.prepare('SELECT source, product_id, title, last_price, last_observed_at FROM products').all() as {
      source: string;
      product_id: string;
      title: string;
      last_price: number;
      last_observed_at: string;
    }[];
    expect(products.length).toBe(latest.size);
    for (const p of products) {
      const want = latest.get(`${p.source}|${p.product_id}`);
      expect({ title: p.title, last_price: p.last_price, last_observed_at: p.last_observed_at }).toEqual({
        title: want?.title,
        last_price: want?.price,
        last_observed_at: want?.observed_at,
      });
    }
    // The rollups kept on ingest equal a rebuild from the stored rows.
    const kept = dump(bigDb);
    rebuildRollups(bigDb);
    expect(dump(bigDb).rollup_daily).toEqual(kept.rollup_daily);
    // Each product's rows through the key index equal its rows in the scan.
    const viaProduct = bigDb.prepare('SELECT COUNT(*) FROM observations WHERE source = ? AND product_id = ?').pluck();
    for (const p of products) {
      expect(viaProduct.get(p.source, p.product_id)).toBe(stored.filter((r) => r.source === p.source && r.product_id === p.product_id).length);
    }
    expect(bigDb.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('forgets what a rolled-back transaction created: new products and titles are written again', () => {
    const random = seededSequence(7);
    const db = tempCache();
    const writer = createObservationWriter(db);
    const rows = randomRows(random, 800);
    const before = dump(db);
    expect(() =>
      db.transaction(() => {
        expect(writer.writeBatch(rows).inserted).toBeGreaterThan(0);
        writer.flush();
        throw new Error('crash before commit');
      })(),
    ).toThrow('crash before commit');
    expect(dump(db)).toEqual(before);
    const again = write(db, writer, rows);
    expect(again.inserted).toBe(firstPerKey(rows).size);
    const fresh = tempCache();
    write(fresh, createObservationWriter(fresh), rows);
    expect(dump(db)).toEqual(dump(fresh));
    // Rows enter through the writer only: the views are read-only.
    expect(() => db.prepare('INSERT INTO observations SELECT * FROM observations LIMIT 1').run()).toThrow(/cannot modify observations because it is a view/);
  });

  it('counts rows another connection stored in the meantime as duplicates', () => {
    const random = seededSequence(11);
    const db = tempCache();
    const other = openCache(db.name);
    const a = createObservationWriter(db);
    const b = createObservationWriter(other, { origin: 'athena' });
    const early = randomRows(random, 300);
    write(db, a, early);
    // b writes later rows of the same products; then a sees them again among its own.
    const later = randomRows(random, 300).map((row) => {
      const observedAt = new Date(Date.parse(row.observed_at) + 40 * 86_400_000).toISOString();
      return { ...row, observed_at: observedAt, dt: observedAt.slice(0, 10) };
    });
    const fromB = write(other, b, later);
    const fromA = write(db, a, later);
    expect(fromA).toEqual({ inserted: 0, duplicates: later.length });
    expect(fromB.inserted).toBe(firstPerKey(later).size);
    expect(db.prepare("SELECT COUNT(*) FROM observations WHERE origin = 'athena'").pluck().get()).toBe(fromB.inserted);
    other.close();
  });

  it('stores observed_at to the millisecond and reads it back as written', () => {
    const random = seededSequence(3);
    const db = tempCache();
    const writer = createObservationWriter(db);
    const stamps = Array.from({ length: 500 }, () => new Date(Math.floor(random() * 4_000_000_000_000) - 200_000_000_000).toISOString());
    for (const iso of stamps) expect(instantMs(iso)).toBe(Date.parse(iso));
    expect(instantMs('2025-01-02T03:04:05Z')).toBe(Date.parse('2025-01-02T03:04:05Z'));
    expect(() => instantMs('yesterday')).toThrow(/ISO 8601/);
    const rows = stamps.map((iso, i) => ({ ...randomRows(random, 1)[0]!, product_id: `s${i}`, observed_at: iso, dt: iso.slice(0, 10) }));
    write(db, writer, rows);
    const back = db.prepare('SELECT product_id, observed_at, dt FROM observations').all() as { product_id: string; observed_at: string; dt: string }[];
    expect(new Map(back.map((r) => [r.product_id, [r.observed_at, r.dt]]))).toEqual(new Map(rows.map((r) => [r.product_id, [r.observed_at, r.dt]])));
  });
});

describe('observation rows in the cache', () => {
  const DAY = 86_400_000;
  const T0 = Date.UTC(2025, 0, 1, 9);
  /** Product `id`'s row on day `day` (an hour in), price 10 + day cents-wise. */
  function dayRow(id: string, day: number, extra: Partial<CleanRow> = {}): CleanRow {
    return cleanRow({ product_id: id, observed_at: new Date(T0 + day * DAY).toISOString(), price: Math.round(1000 + day) / 100, ...extra });
  }
  const stored = (db: CacheDb) => db.prepare("SELECT observed_at, price FROM observations WHERE product_id = 'a' ORDER BY observed_at").all() as { observed_at: string; price: number }[];

  it('stores one typed row per observation: numbers as REAL and INTEGER, text as TEXT', () => {
    const db = tempCache();
    const writer = createObservationWriter(db);
    expect(write(db, writer, Array.from({ length: 1100 }, (_, day) => dayRow('a', day, day % 2 ? {} : { old_price: 20, drop_amount: 10, drop_pct: 50, is_drop: true, drop_label: 'drop' })))).toEqual({ inserted: 1100, duplicates: 0 });
    expect(db.prepare('SELECT COUNT(*) FROM observation_records').pluck().get()).toBe(1100);
    const types = db
      .prepare('SELECT DISTINCT typeof(observed_at), typeof(dt), typeof(price), typeof(old_price), typeof(drop_pct), typeof(is_drop), typeof(drop_label) FROM observation_records ORDER BY 1, 2, 3, 4, 5, 6, 7')
      .raw()
      .all();
    expect(types).toEqual([
      ['text', 'text', 'real', 'null', 'null', 'integer', 'text'],
      ['text', 'text', 'real', 'real', 'real', 'integer', 'text'],
    ]);
    // The views' columns are plain table columns, with the tables' declared types.
    const declared = db.prepare('SELECT * FROM observations LIMIT 1').columns().map((c) => [c.name, c.type]);
    expect(declared).toEqual([
      ['source', 'TEXT'],
      ['product_id', 'TEXT'],
      ['observed_at', 'TEXT'],
      ['dt', 'TEXT'],
      ['title', 'TEXT'],
      ['category', 'TEXT'],
      ['price', 'REAL'],
      ['old_price', 'REAL'],
      ['currency', 'TEXT'],
      ['drop_amount', 'REAL'],
      ['drop_pct', 'REAL'],
      ['is_drop', 'INTEGER'],
      ['drop_label', 'TEXT'],
      ['origin', 'TEXT'],
    ]);
    // A day, a product and a category are index searches, not scans.
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT count(*), avg(price) FROM observations WHERE dt = '2025-06-01'")).toMatch(/USING INDEX observation_records_dt/);
    expect(plan("SELECT * FROM observations WHERE source = 's' AND product_id = 'a'")).toMatch(/USING INDEX observation_records_key/);
    expect(plan("SELECT count(*) FROM observations WHERE category = 'c'")).toMatch(/USING INDEX observation_records_descriptor/);
  });

  it('takes late rows between stored ones, and counts the ones it had as duplicates', () => {
    const db = tempCache();
    const writer = createObservationWriter(db);
    // Days 0-99 and 200-299 in two blocks, then days 100-199 and every tenth day again.
    write(db, writer, Array.from({ length: 100 }, (_, day) => dayRow('a', day)));
    write(db, writer, Array.from({ length: 100 }, (_, day) => dayRow('a', 200 + day)));
    const late = [...Array.from({ length: 100 }, (_, day) => dayRow('a', 100 + day)), ...Array.from({ length: 30 }, (_, k) => dayRow('a', k * 10, { price: 99 }))];
    expect(write(db, writer, late)).toEqual({ inserted: 100, duplicates: 30 });
    const rows = stored(db);
    expect(rows.map((r) => r.observed_at)).toEqual(Array.from({ length: 300 }, (_, day) => new Date(T0 + day * DAY).toISOString()));
    // The first copy of each key won: no price 99.
    expect(rows.every((r, day) => r.price === Math.round(1000 + day) / 100)).toBe(true);
    // The latest row is still the product's latest.
    expect(db.prepare("SELECT last_observed_at FROM products WHERE product_id = 'a'").pluck().get()).toBe(new Date(T0 + 299 * DAY).toISOString());
  });

  it('keeps every double exactly', () => {
    const db = tempCache();
    const writer = createObservationWriter(db);
    const prices = [9.99, 1 + 0.07, 123456.78, 0.1 + 0.2, 5e-7, 12345678901.5, 3];
    const rows = prices.map((price, day) => dayRow('a', day, { price, old_price: price * 2, drop_amount: price, drop_pct: 50, is_drop: true, drop_label: 'drop' }));
    write(db, writer, rows);
    const back = db.prepare("SELECT price, old_price, drop_amount FROM observations WHERE product_id = 'a' ORDER BY observed_at").all();
    expect(back).toEqual(prices.map((price) => ({ price, old_price: price * 2, drop_amount: price })));
  });

  it('starts over after a rollback', () => {
    const db = tempCache();
    const writer = createObservationWriter(db);
    write(db, writer, [dayRow('a', 0)]);
    expect(() =>
      db.transaction(() => {
        writer.writeBatch([dayRow('a', 1), dayRow('a', 2)]);
        throw new Error('crash before flush');
      })(),
    ).toThrow('crash before flush');
    writer.forget();
    expect(write(db, writer, [dayRow('a', 2), dayRow('a', 3)])).toEqual({ inserted: 2, duplicates: 0 });
    expect(stored(db).map((r) => r.observed_at.slice(0, 10))).toEqual(['2025-01-01', '2025-01-03', '2025-01-04']);
  });
});

/** SQLite 3.40 (Debian's, which the SQLite ODBC driver loads): the views must read the rows with its SQL alone. */
const sqlite3Cli = spawnSync('sqlite3', ['-version']).status === 0;

describe.skipIf(!sqlite3Cli)('the views through the sqlite3 command-line shell', () => {
  it('give what PriceDrop reads, row for row', () => {
    const db = tempCache();
    const random = seededSequence(5);
    // randomRows' drop values are not the rules'; these are.
    const ruled = Array.from({ length: 1500 }, (_, i) => {
      const price = Math.round(100 + random() * 9000) / 100;
      const old = random() < 0.2 ? null : Math.round(price * (0.8 + random() * 0.5) * 100) / 100;
      return cleanRow({ source: 'ruled', product_id: `r${i % 30}`, observed_at: new Date(Date.UTC(2025, 5, 1) + i * 3_600_123).toISOString(), price, ...computeDrop(price, old) });
    });
    write(db, createObservationWriter(db), [...randomRows(random, 2000), ...ruled]);
    const query = 'SELECT * FROM observations ORDER BY source, product_id, observed_at';
    const ours = db.prepare(query).all();
    const latest = db.prepare('SELECT * FROM v_product_latest ORDER BY source, product_id').all();
    const kpis = db.prepare('SELECT * FROM v_price_drop_kpis').get();
    db.close();
    const shell = (sql: string) => JSON.parse(execFileSync('sqlite3', ['-json', '-readonly', db.name, sql], { encoding: 'utf8', maxBuffer: 64 << 20 }) || '[]') as unknown[];
    expect(shell(query)).toEqual(ours);
    expect(shell('SELECT * FROM v_product_latest ORDER BY source, product_id')).toEqual(latest);
    expect(shell('SELECT * FROM v_price_drop_kpis')).toEqual([kpis]);
  });
});
