import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs, type CommandIo } from './command';
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
  it('ingests on two threads (the default; slices in flight, checkpoints on a third) into the same cache as on one, and its panels match plain GROUP BYs', async () => {
    const dir = tempDir();
    const results: Record<string, unknown>[] = [];
    for (const threads of ['2', '1']) {
      const io = capture();
      const file = join(dir, `cache-${threads}.db`);
      const code = await benchDashboardCommand.run(
        parseArgs(['--rows', '20000', '--products', '700', '--queries', '5', '--batch', '6000', '--slice', '300', '--verify', '3', '--threads', threads, '--db', file, '--json'], ['json']),
        io,
      );
      expect(code ?? 0).toBe(0);
      const result = io.jsonOut[0] as Record<string, unknown>;
      expect(Object.keys(result).slice(0, 5)).toEqual(['rows', 'ingest_rows_per_s', 'refresh_p50_ms', 'refresh_p95_ms', 'panels']);
      expect(result).toMatchObject({ ingest_threads: Number(threads), verified: 3, mismatches: 0 });
      expect(result.rows).toBeGreaterThan(19_900);
      expect(io.progressed).toContain('ingest');
      results.push(result);
    }
    expect(results[0]?.rows).toBe(results[1]?.rows);
    expect(contents(join(dir, 'cache-2.db'))).toEqual(contents(join(dir, 'cache-1.db')));
  });
});
