import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasKeyIndex, startBulkLoad } from './bulk-load';
import { openCache, type CacheDb } from './cache-db';
import { rebuildRollups } from './dashboard-rollups';
import { createObservationWriter, type CleanRow, type WriteResult } from './observation-writer';
import { seededSequence } from '../base/seeded-sequence';
import { cleanRow, writeInTransaction as write } from '../../test/support/clean-rows';
import { useTempDirs } from '../../test/support/temp-dirs';
import { mountTinyDisk, tinyDiskUnavailable } from '../../test/support/tiny-disk';

const tempDir = useTempDirs('pricedrop-bulk-load-');
const SECONDARY = ['observation_records_descriptor', 'observation_records_dt'];

/**
 * Batches as a bulk load meets them: each mostly later than the one before (hourly ticks over 60
 * products), plus late rows (older than their product's latest, some new, some already stored)
 * and repeats of keys within the batch and from earlier batches.
 */
function loadBatches(seed: number, batches: number, perBatch: number, late = true): CleanRow[][] {
  const random = seededSequence(seed);
  const out: CleanRow[][] = [];
  const written: CleanRow[] = [];
  for (let b = 0; b < batches; b++) {
    const batch: CleanRow[] = [];
    for (let i = 0; i < perBatch; i++) {
      const product = Math.floor(random() * 60);
      const hour = b * 40 + Math.floor(random() * 40);
      batch.push(
        cleanRow({
          source: product % 4 === 0 ? 'pnp' : 'mercadona',
          product_id: `p${product}`,
          observed_at: new Date(Date.UTC(2025, 2, 1) + hour * 3_600_000).toISOString(),
          title: `Product ${product} v${Math.floor(random() * 2)}`,
          category: ['dairy', 'bakery', 'drinks', 'toys'][product % 4] as string,
          price: Math.round(random() * 10_000) / 100,
        }),
      );
    }
    // Late rows: new keys hours before the batch, and copies of earlier batches' rows (with another price).
    for (let i = 0; late && i < perBatch / 10; i++) {
      const product = Math.floor(random() * 60);
      const hour = Math.floor(random() * b * 40);
      batch.push(cleanRow({ source: 'late', product_id: `p${product}`, observed_at: new Date(Date.UTC(2025, 2, 1) + hour * 3_600_000).toISOString(), price: 1 + i }));
      const old = written[Math.floor(random() * written.length)];
      if (old) batch.push({ ...old, price: old.price + 1 });
    }
    written.push(...batch);
    out.push(batch);
  }
  return out;
}

/** What a user and an analyst see of the cache: rows, products, rollups. */
function dump(db: CacheDb): Record<string, unknown[]> {
  return {
    observations: db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all(),
    products: db.prepare('SELECT * FROM products ORDER BY source, product_id').all(),
    rollup_daily: db.prepare('SELECT dt, category, is_drop, observations, drop_pct_n, drop_pct_sum_c FROM rollup_daily ORDER BY 1, 2, 3').all(),
  };
}

function secondaryIndexes(db: CacheDb): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('observation_records_dt', 'observation_records_descriptor') ORDER BY name").pluck().all() as string[];
}

function plan(db: CacheDb, sql: string, ...params: unknown[]): string {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
}

/** The same batches through an indexed load (no bulk path): what a bulk load must equal. */
function indexedLoad(batches: readonly CleanRow[][]): { db: CacheDb; results: WriteResult[] } {
  const db = openCache(join(tempDir(), 'cache.db'));
  const writer = createObservationWriter(db);
  return { db, results: batches.map((batch) => write(db, writer, batch)) };
}

describe('bulk load (indexes after the rows)', () => {
  it('stores exactly what an indexed load stores, duplicates and late rows across batches included, then has its indexes back', () => {
    const batches = loadBatches(7, 6, 400);
    const db = openCache(join(tempDir(), 'cache.db'));
    const load = startBulkLoad(db, 2400);
    expect(load).toMatchObject({ deferred: true, keyDeferred: true });
    expect(secondaryIndexes(db)).toEqual([]);
    expect(hasKeyIndex(db)).toBe(false);
    const writer = createObservationWriter(db);
    const results = batches.map((batch) => write(db, writer, batch));
    // Meanwhile a day filter scans, and answers the same.
    expect(plan(db, 'SELECT count(*) FROM observations WHERE dt = ?', '2025-03-02')).not.toMatch(/observation_records_dt/);
    load.finish();

    const indexed = indexedLoad(batches);
    expect(results).toEqual(indexed.results);
    expect(results.some((r) => r.duplicates > 0)).toBe(true);
    expect(dump(db)).toEqual(dump(indexed.db));
    expect(secondaryIndexes(db)).toEqual(SECONDARY);
    expect(hasKeyIndex(db)).toBe(true);
    expect(plan(db, 'SELECT count(*), avg(price) FROM observations WHERE dt = ?', '2025-03-02')).toMatch(/observation_records_dt/);
    expect(plan(db, 'SELECT count(*) FROM observations WHERE category = ?', 'dairy')).toMatch(/observation_records_descriptor/);
    expect(plan(db, 'SELECT * FROM observations WHERE source = ? AND product_id = ?', 'pnp', 'p4')).toMatch(/observation_records_key/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare("SELECT value FROM meta WHERE key = 'bulk_load'").get()).toBeUndefined();
  });

  it('builds the key at its end when no row is late, and at the first late row otherwise, counts as an indexed load', () => {
    // In time order per product, with repeats of a product's latest row (the same key): no late row.
    const random = seededSequence(11);
    const inOrder: CleanRow[][] = [0, 1, 2].map((b) =>
      Array.from({ length: 300 }, (_, i) => {
        const product = i % 50;
        const hour = b * 10 + Math.floor(i / 50);
        return cleanRow({ source: 'pnp', product_id: `p${product}`, observed_at: new Date(Date.UTC(2025, 2, 1) + hour * 3_600_000).toISOString(), price: Math.round(random() * 10_000) / 100 });
      }).flatMap((row, i) => (i % 7 === 0 ? [row, { ...row, price: row.price + 1 }] : [row])),
    );
    const late = [cleanRow({ source: 'pnp', product_id: 'p3', observed_at: new Date(Date.UTC(2025, 2, 1) + 3_600_000 / 2).toISOString(), price: 5 }), ...(inOrder[0] as CleanRow[]).slice(0, 20)];
    const db = openCache(join(tempDir(), 'cache.db'));
    const load = startBulkLoad(db, 1000);
    expect(load.keyDeferred).toBe(true);
    const writer = createObservationWriter(db);
    const results = inOrder.map((batch) => write(db, writer, batch));
    expect(results.every((r) => r.duplicates > 0)).toBe(true);
    expect(hasKeyIndex(db)).toBe(false);
    results.push(write(db, writer, late));
    expect(hasKeyIndex(db)).toBe(true);
    load.finish();

    const indexed = indexedLoad([...inOrder, late]);
    expect(results).toEqual(indexed.results);
    expect(dump(db)).toEqual(dump(indexed.db));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('keeps the key of a table that holds rows, and the rollups rebuild without it', () => {
    const batches = loadBatches(12, 2, 200);
    const db = openCache(join(tempDir(), 'cache.db'));
    write(db, createObservationWriter(db), batches[0] as CleanRow[]);
    expect(startBulkLoad(db, 10_000)).toMatchObject({ deferred: true, keyDeferred: false });
    expect(hasKeyIndex(db)).toBe(true);

    const empty = openCache(join(tempDir(), 'cache.db'));
    expect(startBulkLoad(empty, 400).keyDeferred).toBe(true);
    write(empty, createObservationWriter(empty), batches[0] as CleanRow[]);
    const before = dump(empty);
    rebuildRollups(empty);
    expect(hasKeyIndex(empty)).toBe(true);
    expect(dump(empty)).toEqual(before);
  });

  it('keeps maintaining the indexes for a load smaller than the table', () => {
    const batches = loadBatches(8, 2, 300);
    const db = openCache(join(tempDir(), 'cache.db'));
    const writer = createObservationWriter(db);
    write(db, writer, batches[0] as CleanRow[]);
    const load = startBulkLoad(db, 100);
    expect(load.deferred).toBe(false);
    expect(secondaryIndexes(db)).toEqual(SECONDARY);
  });

  it.each([
    ['late rows (the key built mid-load)', true],
    ['no late row (the key still deferred)', false],
  ])('is finished by the next open after its process was killed mid-load, with the same rows: %s', (_, late) => {
    const batches = loadBatches(9, 5, 300, late);
    const dir = tempDir();
    const file = join(dir, 'cache.db');
    const batchesFile = join(dir, 'batches.json');
    writeFileSync(batchesFile, JSON.stringify(batches));
    // Another process starts a load, commits every batch and is killed before its end step.
    const script = join(dir, 'killed-load.ts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { openCache } from ${JSON.stringify(join(import.meta.dirname, 'cache-db.ts'))};
import { startBulkLoad } from ${JSON.stringify(join(import.meta.dirname, 'bulk-load.ts'))};
import { createObservationWriter } from ${JSON.stringify(join(import.meta.dirname, 'observation-writer.ts'))};
const db = openCache(${JSON.stringify(file)});
if (!startBulkLoad(db, 1500).deferred) throw new Error('not deferred');
const writer = createObservationWriter(db);
for (const batch of JSON.parse(readFileSync(${JSON.stringify(batchesFile)}, 'utf8'))) {
  db.transaction(() => { writer.writeBatch(batch); writer.flush(); })();
}
process.kill(process.pid, 'SIGKILL');
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(child.signal, child.stderr).toBe('SIGKILL');

    // Before anything opens it for writing, the cache is consistent and readable, only unindexed.
    const reader = openCache(file, { readonly: true });
    expect(secondaryIndexes(reader)).toEqual([]);
    expect(hasKeyIndex(reader)).toBe(late);
    expect(reader.pragma('integrity_check', { simple: true })).toBe('ok');
    const indexed = indexedLoad(batches);
    expect(dump(reader)).toEqual(dump(indexed.db));
    reader.close();

    const db = openCache(file);
    expect(secondaryIndexes(db)).toEqual(SECONDARY);
    expect(hasKeyIndex(db)).toBe(true);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'bulk_load'").get()).toBeUndefined();
    expect(dump(db)).toEqual(dump(indexed.db));
    expect(plan(db, 'SELECT count(*) FROM observations WHERE dt = ?', '2025-03-02')).toMatch(/observation_records_dt/);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  describe.skipIf(tinyDiskUnavailable !== undefined)(`on a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`, () => {
    it('stays deferred and consistent when the index build finds no room, and finishes once there is room', () => {
      const disk = mountTinyDisk('24m');
      try {
        const batches = loadBatches(10, 8, 4000, false);
        const db = openCache(join(disk.path, 'cache.db'));
        const load = startBulkLoad(db, 32_000);
        const writer = createObservationWriter(db);
        for (const batch of batches) write(db, writer, batch);
        db.pragma('wal_checkpoint(TRUNCATE)');
        const before = dump(db);
        disk.fill(16 << 10);
        expect(hasKeyIndex(db)).toBe(false);
        expect(() => load.finish()).toThrow(/full/);
        expect(db.inTransaction).toBe(false);
        expect(secondaryIndexes(db)).toEqual([]);
        expect(hasKeyIndex(db)).toBe(false);
        expect(db.prepare("SELECT value FROM meta WHERE key = 'bulk_load'").get()).toBeDefined();
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(dump(db)).toEqual(before);

        disk.grow('64m');
        load.finish();
        expect(secondaryIndexes(db)).toEqual(SECONDARY);
        expect(hasKeyIndex(db)).toBe(true);
        expect(dump(db)).toEqual(before);
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        db.close();
      } finally {
        disk.remove();
      }
    });
  });
});
