import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCache, type CacheDb } from './cache-db';
import { createObservationWriter, type CleanRow, type WriteResult } from './observation-writer';
import { seededSequence } from '../runtime/seeded-sequence';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempCache(): CacheDb {
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-writer-'));
  dirs.push(dir);
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

const TABLES = ['observations', 'products', 'rollup_daily', 'rollup_presence', 'rollup_category_products', 'rollup_state'];

function dump(db: CacheDb): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  // observations with its rowids (the scan order); the other tables in key order (some are WITHOUT ROWID).
  out.observations = db.prepare('SELECT rowid AS _rowid, * FROM observations ORDER BY rowid').all();
  for (const table of TABLES) out[table] ??= db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2, 3`).all();
  out.indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observations' ORDER BY name").all();
  return out;
}

function schemaVersion(db: CacheDb): number {
  return db.pragma('schema_version', { simple: true }) as number;
}

describe('observation writer: bulk and incremental paths', () => {
  it('produce identical tables, rollups and counts, duplicates within and across batches included', () => {
    const random = seededSequence(20261125);
    const first = randomRows(random, 500);
    // Into the empty table: the bulk path (with duplicates inside the batch); then incremental.
    const second = [...randomRows(random, 400), ...first.slice(0, 150)];
    const third = randomRows(random, 300);
    const fourth = [...randomRows(random, 1500), ...second.slice(100, 300), ...third.slice(0, 50)];
    const batches = [first, second, third, fourth];

    const bulkDb = tempCache();
    const plainDb = tempCache();
    const bulk = createObservationWriter(bulkDb, { bulkMinRows: 1 });
    const plain = createObservationWriter(plainDb, { bulkMinRows: Number.POSITIVE_INFINITY });
    const bulkResults: WriteResult[] = [];
    const plainResults: WriteResult[] = [];
    const schemaChanged: boolean[] = [];
    for (const batch of batches) {
      const before = schemaVersion(bulkDb);
      bulkDb.transaction(() => {
        bulkResults.push(bulk.writeBatch(batch));
        bulk.flush();
      })();
      schemaChanged.push(schemaVersion(bulkDb) !== before);
      plainDb.transaction(() => {
        plainResults.push(plain.writeBatch(batch));
        plain.flush();
      })();
    }
    // The bulk path re-creates indexes (a schema change); the incremental one does not.
    expect(schemaChanged).toEqual([true, false, false, false]);
    expect(bulkResults).toEqual(plainResults);
    expect(bulkResults.every((r) => r.duplicates > 0)).toBe(true);
    expect(dump(bulkDb)).toEqual(dump(plainDb));
    expect(bulkDb.pragma('integrity_check', { simple: true })).toBe('ok');

    // First row of a key wins: the stored rows are exactly the first occurrence of each key.
    const firstPerKey = new Map<string, CleanRow>();
    for (const row of batches.flat()) {
      const key = `${row.source}|${row.product_id}|${row.observed_at}`;
      if (!firstPerKey.has(key)) firstPerKey.set(key, row);
    }
    const stored = bulkDb.prepare('SELECT source, product_id, observed_at, price, title FROM observations').all() as CleanRow[];
    expect(stored.length).toBe(firstPerKey.size);
    for (const row of stored) {
      const expected = firstPerKey.get(`${row.source}|${row.product_id}|${row.observed_at}`);
      expect({ price: row.price, title: row.title }).toEqual({ price: expected?.price, title: expected?.title });
    }
  });

  it('a rolled-back bulk write leaves the table empty, its indexes and the rollups as they were', () => {
    const random = seededSequence(7);
    const db = tempCache();
    const writer = createObservationWriter(db, { bulkMinRows: 1 });
    const before = dump(db);
    expect(() =>
      db.transaction(() => {
        expect(writer.writeBatch(randomRows(random, 800)).inserted).toBeGreaterThan(0);
        writer.flush();
        throw new Error('crash before commit');
      })(),
    ).toThrow('crash before commit');
    expect(dump(db)).toEqual(before);
    expect((before.indexes as { name: string }[]).map((i) => i.name)).toEqual(['observations_dt', 'observations_key']);
    // The key index still rejects duplicates after the rollback.
    db.transaction(() => {
      writer.writeBatch(randomRows(random, 300));
      writer.flush();
    })();
    expect(() => db.prepare('INSERT INTO observations SELECT * FROM observations LIMIT 1').run()).toThrow(/UNIQUE/);
  });
});
