import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCache, type CacheDb } from '../cache/cache-db';
import { rebuildRollups } from '../cache/dashboard-rollups';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import {
  dashboardPanels,
  dataSpan,
  listCategories,
  narrowToPeriod,
  productsForFilter,
  type DashboardFilter,
  type DashboardPanels,
  type TrendGrain,
} from './dashboard-queries';
import { seededSequence } from '../base/seeded-sequence';
import { useTempDirs } from '../../test/support/temp-dirs';

const tempDir = useTempDirs('pricedrop-dash-');

function tempCache(): CacheDb {
  const dir = tempDir();
  return openCache(join(dir, 'cache.db'));
}


const CATEGORIES = ['dairy', 'bakery', 'drinks', 'frozen', 'snacks', 'pets'];

function addDays(day: string, n: number): string {
  const d = new Date(day + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * Rows over a span that crosses a year end (2025-11-01 .. 2026-02-28), with products that move
 * between categories, rows without old price, ties in drop % and duplicates.
 */
function randomRows(random: () => number, count: number): CleanRow[] {
  const rows: CleanRow[] = [];
  for (let i = 0; i < count; i++) {
    const product = Math.floor(random() * 60);
    const source = product % 3 === 0 ? 'pnp' : 'mercadona';
    // Most products keep one category; every 7th drifts between two.
    const category = product % 7 === 0 && random() < 0.5 ? (CATEGORIES[(product + 1) % CATEGORIES.length] as string) : (CATEGORIES[product % CATEGORIES.length] as string);
    const dt = addDays('2025-11-01', Math.floor(random() * 120));
    const second = Math.floor(random() * 86_400);
    const observedAt = `${dt}T${String(Math.floor(second / 3600)).padStart(2, '0')}:${String(Math.floor(second / 60) % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}.000Z`;
    const hasOld = random() < 0.85;
    const dropPct = hasOld ? Math.round((random() * 40 - 10) * 4) / 4 : null;
    const isDrop = dropPct !== null && dropPct >= 0.01;
    rows.push({
      source,
      product_id: `p${product}`,
      observed_at: observedAt,
      dt,
      title: `Product ${product}`,
      category,
      price: 10,
      old_price: hasOld ? 11 : null,
      currency: 'EUR',
      drop_amount: hasOld ? 1 : null,
      drop_pct: dropPct,
      is_drop: isDrop,
      drop_label: isDrop ? 'drop' : 'no drop',
    });
  }
  return rows;
}

function matches(row: CleanRow, f: DashboardFilter): boolean {
  if (f.from && row.dt < f.from) return false;
  if (f.to && row.dt > f.to) return false;
  if (f.categories?.length && !f.categories.includes(row.category)) return false;
  if (f.dropStatus === 'drop' && !row.is_drop) return false;
  if (f.dropStatus === 'no drop' && row.is_drop) return false;
  return true;
}

function periodOf(dt: string, grain: TrendGrain): string {
  if (grain === 'day') return dt;
  if (grain === 'month') return dt.slice(0, 7) + '-01';
  const d = new Date(dt + 'T00:00:00Z');
  return addDays(dt, -((d.getUTCDay() + 6) % 7));
}

/** The panels' meaning, computed from the raw rows in plain JavaScript. */
function bruteForce(rows: readonly CleanRow[], f: DashboardFilter, grain: TrendGrain): DashboardPanels {
  const kept = rows.filter((r) => matches(r, f));
  const avg = (rs: CleanRow[]) => {
    const withPct = rs.filter((r) => r.is_drop && r.drop_pct !== null);
    if (withPct.length === 0) return null;
    return Math.round(withPct.reduce((s, r) => s + Math.round((r.drop_pct as number) * 100), 0) / withPct.length) / 100;
  };
  const group = (key: (r: CleanRow) => string) => {
    const map = new Map<string, CleanRow[]>();
    for (const r of kept) map.set(key(r), [...(map.get(key(r)) ?? []), r]);
    return map;
  };
  const trend = [...group((r) => periodOf(r.dt, grain)).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([period, rs]) => ({ period, avg_drop_pct: avg(rs), drops: rs.filter((r) => r.is_drop).length, observations: rs.length }));
  const categories = [...group((r) => r.category).entries()]
    .map(([category, rs]) => ({ category, avg_drop_pct: avg(rs), drops: rs.filter((r) => r.is_drop).length, observations: rs.length }))
    .sort((a, b) => (a.avg_drop_pct === null ? 1 : 0) - (b.avg_drop_pct === null ? 1 : 0) || (b.avg_drop_pct ?? 0) - (a.avg_drop_pct ?? 0) || (a.category < b.category ? -1 : 1))
    .slice(0, 10);
  const key = (r: CleanRow) => r.source + '/' + r.product_id;
  return {
    kpis: {
      avg_drop_pct: avg(kept),
      products_analysed: new Set(kept.map(key)).size,
      products_with_drop: new Set(kept.filter((r) => r.is_drop).map(key)).size,
      observations: kept.length,
    },
    trend,
    top_categories: categories,
    split: { drop: kept.filter((r) => r.is_drop).length, no_drop: kept.filter((r) => !r.is_drop).length },
  };
}

function randomFilter(random: () => number): DashboardFilter {
  const f: DashboardFilter = {};
  if (random() < 0.7) f.from = addDays('2025-10-25', Math.floor(random() * 130));
  if (random() < 0.7) f.to = addDays(f.from ?? '2025-10-25', Math.floor(random() * 90));
  if (random() < 0.6) f.categories = CATEGORIES.filter(() => random() < 0.4);
  const status = random();
  if (status < 0.3) f.dropStatus = 'drop';
  else if (status < 0.5) f.dropStatus = 'no drop';
  else if (status < 0.7) f.dropStatus = 'all';
  return f;
}

/** Dedupes by key the way the writer does: the first row of a key wins. */
function firstPerKey(rows: readonly CleanRow[]): CleanRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const k = `${r.source}|${r.product_id}|${r.observed_at}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

describe('dashboard panels over the rollups', () => {
  it('equal a brute-force computation over the raw rows under random filters and grains', () => {
    const random = seededSequence(20261125);
    const db = tempCache();
    const batches = [randomRows(random, 1500), randomRows(random, 1500), randomRows(random, 800)];
    batches[2]?.push(...(batches[0]?.slice(0, 100) ?? [])); // duplicates of committed rows
    const writer = createObservationWriter(db);
    for (const batch of batches) {
      db.transaction(() => {
        writer.writeBatch(batch);
        writer.flush();
      })();
    }
    const all = firstPerKey(batches.flat());
    expect((db.prepare('SELECT COUNT(*) FROM observations').pluck().get() as number)).toBe(all.length);

    for (let i = 0; i < 150; i++) {
      const filter = randomFilter(random);
      const grain = (['day', 'week', 'month'] as const)[i % 3] as TrendGrain;
      expect(dashboardPanels(db, filter, grain), JSON.stringify({ filter, grain })).toEqual(bruteForce(all, filter, grain));
    }
    expect(listCategories(db)).toEqual([...new Set(all.map((r) => r.category))].sort());
    const days = all.map((r) => r.dt).sort();
    expect(dataSpan(db)).toEqual({ first_day: days[0], last_day: days[days.length - 1], last_observed_at: all.map((r) => r.observed_at).sort().pop() });
  });

  it('stay consistent after a rolled-back transaction and after a rebuild from observations', () => {
    const random = seededSequence(7);
    const db = tempCache();
    const writer = createObservationWriter(db);
    const kept = randomRows(random, 1000);
    db.transaction(() => {
      writer.writeBatch(kept);
      writer.flush();
    })();
    const filter: DashboardFilter = { from: '2025-12-15', to: '2026-01-20' };
    const before = dashboardPanels(db, filter, 'week');
    expect(() =>
      db.transaction(() => {
        writer.writeBatch(randomRows(random, 500));
        writer.flush();
        throw new Error('crash before commit');
      })(),
    ).toThrow('crash before commit');
    expect(dashboardPanels(db, filter, 'week')).toEqual(before);
    expect(before).toEqual(bruteForce(firstPerKey(kept), filter, 'week'));
    // Rolled back before flush: the writer must drop its pending deltas, not carry them over.
    expect(() =>
      db.transaction(() => {
        writer.writeBatch(randomRows(random, 500));
        throw new Error('crash mid-batch');
      })(),
    ).toThrow('crash mid-batch');
    const later = randomRows(random, 300);
    db.transaction(() => {
      writer.writeBatch(later);
      writer.flush();
    })();
    const expected = bruteForce(firstPerKey([...kept, ...later]), filter, 'week');
    expect(dashboardPanels(db, filter, 'week')).toEqual(expected);
    rebuildRollups(db);
    expect(dashboardPanels(db, filter, 'week')).toEqual(expected);
  });

  it('see rows another connection commits (the ETL worker writes through its own connection)', () => {
    const random = seededSequence(99);
    const db = tempCache();
    const other = openCache(db.name);
    const first = randomRows(random, 400);
    const second = randomRows(random, 400);
    const write = (conn: CacheDb, rows: CleanRow[]) => {
      const w = createObservationWriter(conn);
      conn.transaction(() => {
        w.writeBatch(rows);
        w.flush();
      })();
    };
    write(db, first);
    expect(dashboardPanels(db, {}, 'month')).toEqual(bruteForce(firstPerKey(first), {}, 'month'));
    write(other, second);
    expect(dashboardPanels(db, {}, 'month')).toEqual(bruteForce(firstPerKey([...first, ...second]), {}, 'month'));
    other.close();
  });

  it('drill-down lists exactly the products counted by the KPI, one page at a time', () => {
    const random = seededSequence(3);
    const db = tempCache();
    const rows = randomRows(random, 2000);
    const writer = createObservationWriter(db);
    db.transaction(() => {
      writer.writeBatch(rows);
      writer.flush();
    })();
    const all = firstPerKey(rows);
    const filter = narrowToPeriod({ categories: ['dairy', 'drinks'], dropStatus: 'drop' }, '2025-12-01', 'month');
    expect(filter).toMatchObject({ from: '2025-12-01', to: '2025-12-31' });
    const kept = all.filter((r) => matches(r, filter));
    const expected = [...new Set(kept.map((r) => `${r.source}\u0000${r.product_id}`))].sort();
    const first = productsForFilter(db, filter, { offset: 0, limit: 5 });
    const rest = productsForFilter(db, filter, { offset: 5, limit: 1000 });
    expect(first.total).toBe(expected.length);
    expect([...first.products, ...rest.products].map((p) => `${p.source}\u0000${p.product_id}`)).toEqual(expected);
    const one = first.products[0];
    expect(one).toBeDefined();
    const its = kept.filter((r) => r.source === one?.source && r.product_id === one?.product_id);
    expect(one?.observations).toBe(its.length);
    expect(one?.drops).toBe(its.filter((r) => r.is_drop).length);
    expect(one?.max_drop_pct).toBe(Math.max(...its.map((r) => r.drop_pct ?? -Infinity)));
  });
});
