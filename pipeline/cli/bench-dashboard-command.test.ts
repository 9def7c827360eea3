import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, type CommandIo } from '../base/command-line';
import { benchDashboardCommand } from './bench-dashboard-command';
import { openCache } from '../cache/cache-db';
import { useTempDirs } from '../../test/support/temp-dirs';

const tempDir = useTempDirs('pricedrop-bench-dashboard-');

function capture(): CommandIo & { jsonOut: unknown[]; progressed: string[] } {
  const jsonOut: unknown[] = [];
  const progressed: string[] = [];
  return { jsonOut, progressed, log: () => undefined, json: (v) => jsonOut.push(v), out: () => undefined, progress: (what) => progressed.push(what) };
}

function contents(file: string) {
  const db = openCache(file);
  try {
    return {
      observations: db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all(),
      products: db.prepare('SELECT * FROM products ORDER BY source, product_id').all(),
      rollups: db.prepare('SELECT dt, category, is_drop, observations, drop_pct_n, drop_pct_sum_c FROM rollup_daily ORDER BY 1, 2, 3').all(),
    };
  } finally {
    db.close();
  }
}

describe('pricedrop bench dashboard', () => {
  it('ingests through the writer, its panels match plain GROUP BYs, and it times the analyst queries on the cache and on a plain table of the same rows', async () => {
    const dir = tempDir();
    const io = capture();
    const file = join(dir, 'cache.db');
    const code = await benchDashboardCommand.run(parseArgs(['--rows', '20000', '--products', '700', '--queries', '5', '--batch', '6000', '--verify', '3', '--db', file, '--json'], ['json']), io);
    // Exit code 0: no panel and no analyst query answered differently from its reference.
    expect(code ?? 0).toBe(0);
    const result = io.jsonOut[0] as Record<string, unknown>;
    expect(Object.keys(result).slice(0, 5)).toEqual(['rows', 'ingest_rows_per_s', 'refresh_p50_ms', 'refresh_p95_ms', 'panels']);
    expect(result).toMatchObject({ ingest_threads: 1, verified: 3, mismatches: 0 });
    expect(result.rows).toBeGreaterThan(19_900);
    for (const side of ['sql', 'reference_sql']) {
      expect(Object.keys(result[side] as object)).toEqual(['group_by_category_ms', 'one_day_ms', 'one_product_ms', 'full_scan_ms']);
    }
    expect(result.bytes_per_row).toBeGreaterThan(0);
    expect(result.storage_floor_rows_per_s).toBeGreaterThan(0);
    expect(io.progressed).toContain('ingest');
    expect(contents(file).observations).toHaveLength(result.rows as number);
  });
});
