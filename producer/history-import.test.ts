import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../pipeline/cache/cache-db';
import { MappingError, createRowMapper, dateFromFilename, importHistory, parseColumnMap, stableProductId } from './history-import';
import { runLocalEtl } from '../pipeline/etl/local-etl';
import { useTempDirs } from '../test/support/temp-dirs';

const tempDir = useTempDirs('pricedrop-import-');

describe('column mapping', () => {
  it('parses --map pairs and constants, and rejects unknown fields', () => {
    expect(parseColumnMap('title=name, price=Price ,category=const:Food')).toEqual(
      new Map([
        ['title', { column: 'name' }],
        ['price', { column: 'Price' }],
        ['category', { constant: 'Food' }],
      ]),
    );
    expect(() => parseColumnMap('colour=x')).toThrow(MappingError);
    expect(() => parseColumnMap('title')).toThrow(/FIELD=COLUMN/);
  });

  it('maps a Pick n Pay row: id derived from the title, date from the file name, currency and source given', () => {
    const mapper = createRowMapper(['store', 'name', 'price', 'old_price', 'promotion'], parseColumnMap('title=name,price=price,old_price=old_price'), '/x/pnp_products_2025-07-26.csv', {
      dateFromFilename: true,
      currency: 'ZAR',
      source: 'pnp',
    });
    const row = mapper.map(['Pick n Pay', 'PnP UHT Full Cream Milk 6 x 1L', '89.99', '98.99', '']);
    expect(row).toEqual([stableProductId('PnP UHT Full Cream Milk 6 x 1L'), 'PnP UHT Full Cream Milk 6 x 1L', '', '89.99', '98.99', 'ZAR', 'pnp', '2025-07-26T00:00:00.000Z']);
    expect(stableProductId('  pnp uht full  cream milk 6 x 1l')).toBe(row !== 'MALFORMED_CSV' ? row[0] : '');
    expect(mapper.map(['Pick n Pay', 'too few'])).toBe('MALFORMED_CSV');
  });

  it('says which column is missing', () => {
    expect(() => createRowMapper(['name', 'cost'], parseColumnMap('title=name'), 'f.csv', { currency: 'EUR', dateFromFilename: false })).toThrow(/no price column/);
    expect(() => createRowMapper(['name', 'price'], parseColumnMap('title=name'), 'f.csv', { currency: 'EUR' })).toThrow(/no observed_at column/);
    expect(() => createRowMapper(['name', 'price', 'day'], parseColumnMap('title=name,observed_at=day'), 'f.csv', {})).toThrow(/no currency column/);
    expect(() => createRowMapper(['name', 'price'], parseColumnMap('title=nom'), 'f.csv', {})).toThrow(/no column "nom"/);
    expect(() => createRowMapper(['name', 'price'], parseColumnMap('title=name'), 'prices.csv', { dateFromFilename: true, currency: 'EUR' })).toThrow(/no YYYY-MM-DD/);
  });

  it('finds the first real date in a file name', () => {
    expect(dateFromFilename('/a/snap_2025-13-01_2025-02-28.csv')).toBe('2025-02-28T00:00:00.000Z');
    expect(dateFromFilename('/a/latest.csv')).toBeUndefined();
  });
});

describe('importHistory + ETL', () => {
  it('brings a folder through the rules: counts add up, bad rows quarantined, re-import is a no-op', async () => {
    const input = tempDir();
    const workspace = tempDir();
    mkdirSync(join(input, 'week'));
    writeFileSync(join(input, 'week', 'shop_2025-07-26.csv'), 'store,name,price,old_price,promotion\nS,Tea 100s,50,60,\nS,Tea 100s,50,,\nS,Coffee,abc,,\nS,"Bad, row"\nS,,3,,\n');
    writeFileSync(join(input, 'week', 'shop_2025-08-02.csv'), 'store,name,price,old_price,promotion\nS,Tea 100s,45,,\nS,Coffee,80,,2 for 150\n');
    writeFileSync(join(input, 'notes.txt'), 'not a csv');
    const options = { workspace, paths: [input], map: 'title=name,price=price,old_price=old_price', dateFromFilename: true, currency: 'ZAR', source: 'shop' };
    const imported = importHistory(options);
    expect(imported.map((f) => [f.rows, f.malformed, f.lakeKeys])).toEqual([
      [5, 1, [expect.stringMatching(/^price-stream\/dt=2025-07-26\/import-shop_2025-07-26-[0-9a-f]{12}\.csv$/)]],
      [2, 0, [expect.stringMatching(/^price-stream\/dt=2025-08-02\//)]],
    ]);
    const summary = await runLocalEtl({ workspace, inline: true, now: Date.parse('2026-01-01T00:00:00Z') });
    expect(summary).toEqual({ files: 2, read: 6, cleaned: 3, duplicates: 1, quarantined: 2 });
    const db = openCache(cachePath(workspace));
    const rows = db.prepare('SELECT title, price, old_price, drop_pct, drop_label, currency, source FROM observations ORDER BY observed_at, title').all();
    db.close();
    expect(rows).toEqual([
      { title: 'Tea 100s', price: 50, old_price: 60, drop_pct: 16.67, drop_label: 'drop', currency: 'ZAR', source: 'shop' },
      { title: 'Coffee', price: 80, old_price: null, drop_pct: null, drop_label: 'no drop', currency: 'ZAR', source: 'shop' },
      { title: 'Tea 100s', price: 45, old_price: 50, drop_pct: 10, drop_label: 'drop', currency: 'ZAR', source: 'shop' },
    ]);
    expect(readFileSync(join(workspace, 'quarantine', 'import', `${imported[0]!.lakeKeys[0]!.split('/').pop()}`), 'utf8')).toBe('line,reason,raw\n5,MALFORMED_CSV,"S,""Bad, row"""\n');
    expect(importHistory(options).every((f) => f.lakeKeys.length === 0 && f.rows === 0)).toBe(true);
  });

  const pnp = resolve(import.meta.dirname, '../../../shared/data/pnp_weekly');
  it.skipIf(!existsSync(pnp))('imports Pick n Pay weekly files as they are (skipped when ../shared/data is absent)', async () => {
    const workspace = tempDir();
    const files = ['pnp_products_2025-07-26.csv', 'pnp_products_2025-08-28.csv'].map((name) => join(pnp, name));
    const dataRows = files.reduce((n, file) => n + readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').length - 1, 0);
    importHistory({ workspace, paths: files, map: 'title=name,price=price,old_price=old_price', dateFromFilename: true, currency: 'ZAR', source: 'pnp' });
    const summary = await runLocalEtl({ workspace, inline: true });
    expect(summary.read).toBe(dataRows);
    expect(summary.cleaned + summary.duplicates + summary.quarantined).toBe(summary.read);
    expect(summary.quarantined).toBe(0);
    const db = openCache(cachePath(workspace));
    const stats = db.prepare("SELECT count(*) AS n, count(DISTINCT dt) AS days, sum(is_drop) AS drops, min(currency) AS currency FROM observations WHERE source = 'pnp'").get();
    db.close();
    expect(stats).toMatchObject({ n: summary.cleaned, days: 2, currency: 'ZAR' });
    expect((stats as { drops: number }).drops).toBeGreaterThan(100);
  });
});
