import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError, type CommandIo } from '../base/command-line';
import { etlCommand } from './etl-command';
import { importCommand } from './import-command';
import { benchEtlCommand } from './bench-etl-command';
import { migrate } from '../cache/cache-db';
import { MIGRATIONS } from '../cache/migrations';
import { useTempDirs } from '../../test/support/temp-dirs';

const tempDir = useTempDirs('pricedrop-etl-cli-');
function capture(): CommandIo & { jsonOut: unknown[] } {
  const jsonOut: unknown[] = [];
  return { jsonOut, log: () => undefined, json: (v) => jsonOut.push(v), out: () => undefined, progress: () => undefined };
}

describe('pricedrop etl / import', () => {
  it('etl --json prints exactly {files, read, cleaned, duplicates, quarantined}', async () => {
    const workspace = tempDir();
    mkdirSync(join(workspace, 'lake/price-stream/dt=2026-11-20'), { recursive: true });
    writeFileSync(join(workspace, 'lake/price-stream/dt=2026-11-20/a.csv'), 'product_id,title,category,price,old_price,currency,source,observed_at\np1,A,home,5,6,EUR,s,2026-11-20T00:00:00Z\np2,B,home,x,,EUR,s,2026-11-20T00:00:00Z\n');
    const io = capture();
    await etlCommand.run(parseArgs(['--workspace', workspace, '--json']), io);
    expect(io.jsonOut).toEqual([{ files: 1, read: 2, cleaned: 1, duplicates: 0, quarantined: 1 }]);
    expect(Object.keys(io.jsonOut[0] as object)).toEqual(['files', 'read', 'cleaned', 'duplicates', 'quarantined']);
  });

  it('etl says so before it converts a cache of an earlier version (the first open rewrites its observations)', async () => {
    const workspace = tempDir();
    const old = new Database(join(workspace, 'cache.db'));
    migrate(old, MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === '0900-typed-observation-records')));
    old.close();
    mkdirSync(join(workspace, 'lake/price-stream/dt=2026-11-20'), { recursive: true });
    writeFileSync(join(workspace, 'lake/price-stream/dt=2026-11-20/a.csv'), 'product_id,title,category,price,old_price,currency,source,observed_at\np1,A,home,5,6,EUR,s,2026-11-20T00:00:00Z\n');
    const logged: string[] = [];
    await etlCommand.run(parseArgs(['--workspace', workspace, '--json']), { ...capture(), log: (line) => logged.push(line) });
    expect(logged).toEqual([expect.stringMatching(/^cache: migration 0900-typed-observation-records .*per million observations/)]);
    const again: string[] = [];
    await etlCommand.run(parseArgs(['--workspace', workspace, '--json']), { ...capture(), log: (line) => again.push(line) });
    expect(again).toEqual([]);
  });

  it('import maps columns, runs the ETL, and counts rows it could not map', async () => {
    const workspace = tempDir();
    const input = tempDir();
    writeFileSync(join(input, 'prices_2025-07-26.csv'), 'store,name,price,old_price,promotion\nS,Tea,50,60,\nS,"Bad, row"\nS,Coffee,80,,\n');
    const io = capture();
    await importCommand.run(parseArgs([input, '--map', 'title=name,price=price,old_price=old_price', '--date-from-filename', '--currency', 'zar', '--source', 'shop', '--workspace', workspace, '--json'], ['date-from-filename']), io);
    expect(io.jsonOut).toEqual([{ files: 1, read: 3, cleaned: 2, duplicates: 0, quarantined: 1 }]);
  });

  it('import says what is missing as a usage error', async () => {
    const workspace = tempDir();
    const input = tempDir();
    writeFileSync(join(input, 'prices.csv'), 'name,price\nTea,5\n');
    await expect(importCommand.run(parseArgs([input, '--map', 'title=name', '--currency', 'EUR', '--workspace', workspace]), capture())).rejects.toThrow(UsageError);
    await expect(importCommand.run(parseArgs(['--workspace', workspace]), capture())).rejects.toThrow(/PATH/);
    await expect(importCommand.run(parseArgs([input, '--currency', 'euro', '--workspace', workspace]), capture())).rejects.toThrow(/3-letter/);
  });

  it('bench etl --json reports the ETL against the sqlite3 reference on the same generated lake', async () => {
    const io = capture();
    await benchEtlCommand.run(parseArgs(['--rows', '20000', '--json']), io);
    const result = io.jsonOut[0] as Record<string, number | null>;
    expect(Object.keys(result)).toEqual(['rows', 'rows_per_s', 'peak_rss_mb', 'reference_rows_per_s']);
    expect(result.rows).toBe(20000);
    expect(result.rows_per_s).toBeGreaterThan(0);
    expect(result.peak_rss_mb).toBeGreaterThan(0);
    // CI installs Debian's sqlite3; elsewhere the reference may be missing (null).
    if (result.reference_rows_per_s !== null) expect(result.reference_rows_per_s).toBeGreaterThan(0);
  }, 60_000);
});
