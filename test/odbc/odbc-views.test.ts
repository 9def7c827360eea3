import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../../pipeline/cache/cache-db';
import { kpis } from '../../pipeline/dashboard/dashboard-queries';
import { encodeRawBatch, rawBatchKey, type RawRecord } from '../../pipeline/base/raw-format';

/**
 * Power BI / Excel reach the local cache through ODBC: read the cache's dashboard views with
 * unixODBC's `isql` and the SQLite ODBC driver while `pricedrop etl` writes in another process.
 * Every read must succeed (WAL: readers never wait for the writer) and see a committed state.
 */
const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');
const ETL_CHILD = join(REPO, 'test', 'odbc', 'etl-child.ts');

/** The SQLite ODBC driver's name in /etc/odbcinst.ini, when unixODBC and libsqliteodbc are installed. */
function sqliteOdbcDriver(): string | undefined {
  if (spawnSync('isql', ['--version']).error) return undefined;
  const ini = existsSync('/etc/odbcinst.ini') ? readFileSync('/etc/odbcinst.ini', 'utf8') : '';
  if (/^\[SQLite3\]/m.test(ini)) return 'SQLite3';
  return undefined;
}
const driver = sqliteOdbcDriver();
if (!driver) console.warn('test/odbc: skipped, isql or the SQLite3 ODBC driver is missing (apt-get install -y unixodbc libsqliteodbc)');

const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-odbc-'));
afterAll(() => rmSync(workspace, { recursive: true, force: true }));

/** 40 raw files of 4,000 rows over 40 days: enough for the ETL to take a while. */
function writeLake(): number {
  let total = 0;
  for (let d = 0; d < 40; d++) {
    const day = new Date(Date.UTC(2026, 8, 1 + d)).toISOString().slice(0, 10);
    const records: RawRecord[] = [];
    for (let i = 0; i < 4000; i++) {
      const product = (i * 7 + d) % 900;
      const base = 5 + (product % 40);
      const drop = (i + d) % 5 === 0;
      records.push({
        product_id: `sku-${product}`,
        title: `Item ${product}`,
        category: `aisle-${product % 12}`,
        price: drop ? base * 0.8 : base,
        old_price: (i + d) % 3 === 0 ? null : base,
        currency: 'EUR',
        source: product % 2 ? 'shop-a' : 'shop-b',
        observed_at: new Date(Date.UTC(2026, 8, 1 + d, 0, 0, i * 20)).toISOString(),
      });
    }
    const path = join(workspace, 'lake', ...rawBatchKey(day, `batch-${d}`).split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, encodeRawBatch(records));
    total += records.length;
  }
  return total;
}

async function isql(sql: string): Promise<string[][]> {
  const connection = `Driver=${driver};Database=${cachePath(workspace)};NoCreat=1;Timeout=5000`;
  const child = execFileAsync('isql', ['-k', connection, '-b', '-d|', '-x0x7c'], { timeout: 20_000 });
  child.child.stdin?.end(sql + '\n');
  const { stdout, stderr } = await child;
  if (/\[ISQL\]ERROR|\[SQLite\]|error/i.test(stderr + stdout)) throw new Error(`isql failed: ${stderr}${stdout}`);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('SQLRowCount'))
    .map((line) => line.split('|'));
}

describe.skipIf(!driver)('the cache through ODBC (isql + SQLite ODBC driver)', () => {
  it('reads the dashboard views while an ETL run writes, always a committed state', async () => {
    writeLake();
    openCache(cachePath(workspace)).close(); // the schema and views exist before the first read

    const etl = spawn(process.execPath, ['--import', 'tsx', ETL_CHILD, workspace], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let etlErr = '';
    etl.stderr.setEncoding('utf8').on('data', (chunk: string) => (etlErr += chunk));
    const exited = new Promise<number | null>((r) => etl.on('exit', (code) => r(code)));
    let running = true;
    void exited.then(() => (running = false));

    const seen: { observations: number; drops: number; duringEtl: boolean }[] = [];
    while (running || seen.length === 0) {
      const [row] = await isql('SELECT observations, drops, products_analysed FROM v_price_drop_kpis;');
      const trend = await isql('SELECT SUM(observations), SUM(drops) FROM v_drop_trend_daily;');
      const observations = Number(row?.[0]);
      // The two views agree whenever both read the same committed state; the ETL may commit in between.
      expect(Number.isInteger(observations)).toBe(true);
      seen.push({ observations, drops: Number(row?.[1]), duringEtl: running });
      expect(trend[0]?.length).toBe(2);
    }
    expect(await exited, etlErr).toBe(0);

    // Monotonic: each read saw a whole number of committed files, never a half-written one.
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.observations).toBeGreaterThanOrEqual(seen[i - 1]!.observations);
    expect(seen.filter((s) => s.duringEtl).length).toBeGreaterThan(0);
    for (const s of seen) expect(s.observations % 4000, JSON.stringify(s)).toBe(0);

    // After the run, ODBC reads exactly what PriceDrop's own dashboard computes.
    const db = openCache(cachePath(workspace));
    const panel = kpis(db, {});
    const cleaned = db.prepare('SELECT COUNT(*) FROM observations').pluck().get() as number;
    db.close();
    const [finalRow] = await isql('SELECT observations, products_analysed, products_with_drop, avg_drop_pct FROM v_price_drop_kpis;');
    expect(finalRow?.slice(0, 3).map(Number)).toEqual([cleaned, panel.products_analysed, panel.products_with_drop]);
    expect(Number(finalRow?.[3])).toBeCloseTo(panel.avg_drop_pct as number, 2);
    const categories = await isql('SELECT category, observations FROM v_category_drops ORDER BY category;');
    expect(categories).toHaveLength(12);
    const latest = await isql('SELECT COUNT(*) FROM v_product_latest;');
    expect(Number(latest[0]?.[0])).toBe(900);
  }, 240_000);

  it('reads a day of observations as an analyst does, the numbers typed as numbers by the driver', async () => {
    // The workspace the test above filled (40 days of 4,000 rows).
    const db = openCache(cachePath(workspace));
    const day = db.prepare("SELECT dt, COUNT(*) AS n, SUM(price) AS total FROM observations WHERE dt = '2026-09-10' GROUP BY dt").get() as { dt: string; n: number; total: number };
    db.close();
    expect(day.n).toBe(4000);
    const rows = await isql("SELECT product_id, price, old_price, drop_pct, is_drop FROM observations WHERE dt = '2026-09-10' ORDER BY product_id, observed_at;");
    expect(rows).toHaveLength(4000);
    expect(rows.reduce((sum, row) => sum + Number(row[1]), 0)).toBeCloseTo(day.total, 6);
    // SQLColumns as the driver answers it (what Power BI reads to type a column): numbers, not text.
    const columns = new Map((await isql('help observations')).map((row) => [row[3], { dataType: Number(row[4]), typeName: row[5] }]));
    const SQL_INTEGER = 4;
    const SQL_DOUBLE = 8;
    for (const name of ['price', 'old_price', 'drop_amount', 'drop_pct']) expect(columns.get(name), name).toEqual({ dataType: SQL_DOUBLE, typeName: 'REAL' });
    expect(columns.get('is_drop')).toEqual({ dataType: SQL_INTEGER, typeName: 'INTEGER' });
    expect(columns.get('dt')?.typeName).toBe('TEXT');
  });
});
