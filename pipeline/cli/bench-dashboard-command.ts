import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { numberFlag, stringFlag, type Command } from '../base/command-line';
import { openCache, type CacheDb } from '../cache/cache-db';
import { startBulkLoad } from '../cache/bulk-load';
import { createObservationWriter } from '../cache/observation-writer';
import { benchBatches, DAYS, dayString, type BenchDataOptions } from './bench-dashboard-data';
import { buildReferenceTable, bytesPerRow, timeAnalystSql } from './bench-dashboard-sql';
import { dashboardPanels, dataSpan, dropSplit, dropTrend, filterWhere, kpis, listCategories, topCategories, type DashboardFilter, type TrendGrain } from '../dashboard/dashboard-queries';
import { seededSequence } from '../base/seeded-sequence';
import { referenceRowInserts, storageFloorInserts } from './bench-dashboard-reference';

/** Forces a full garbage collection (V8's gc(), exposed for this call only). */
function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

function randomFilter(random: () => number, categories: readonly string[]): { filter: DashboardFilter; grain: TrendGrain } {
  const filter: DashboardFilter = {};
  const r = random();
  if (r < 0.75) {
    const a = Math.floor(random() * DAYS);
    const b = Math.min(DAYS - 1, a + Math.floor(random() * DAYS));
    filter.from = dayString(a);
    if (random() < 0.8) filter.to = dayString(b);
  }
  if (random() < 0.6) {
    const k = 1 + Math.floor(random() * 5);
    filter.categories = Array.from({ length: k }, () => categories[Math.floor(random() * categories.length)] as string);
  }
  const s = random();
  filter.dropStatus = s < 0.5 ? 'all' : s < 0.75 ? 'drop' : 'no drop';
  const grain = (['day', 'week', 'month'] as const)[Math.floor(random() * 3)] as TrendGrain;
  return { filter, grain };
}

/** The panels' meaning as plain GROUP BYs over `observations` (the v1 queries): the reference for --verify. */
function bruteForcePanels(db: CacheDb, filter: DashboardFilter, grain: TrendGrain) {
  const where = filterWhere(filter);
  const period = grain === 'day' ? 'dt' : grain === 'week' ? "date(dt, 'weekday 0', '-6 days')" : "substr(dt, 1, 7) || '-01'";
  const kpi = db
    .prepare(
      `SELECT AVG(CASE WHEN is_drop = 1 THEN drop_pct END) AS avg_drop_pct,
         COUNT(DISTINCT source || char(31) || product_id) AS products_analysed,
         COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop,
         COUNT(*) AS observations, COALESCE(SUM(is_drop), 0) AS drops
       FROM observations ${where.sql}`,
    )
    .get(...where.params) as { avg_drop_pct: number | null; products_analysed: number; products_with_drop: number; observations: number; drops: number };
  const trend = db
    .prepare(`SELECT ${period} AS period, SUM(is_drop) AS drops, COUNT(*) AS observations FROM observations ${where.sql} GROUP BY period ORDER BY period`)
    .all(...where.params) as { period: string; drops: number; observations: number }[];
  return { kpi, trend };
}

/** Compares the rollup answers with the brute-force ones: counts exactly, averages to the rounding unit. */
function verifyPanels(db: CacheDb, filter: DashboardFilter, grain: TrendGrain): string | null {
  const fast = dashboardPanels(db, filter, grain);
  const slow = bruteForcePanels(db, filter, grain);
  const problems: string[] = [];
  const same = (name: string, a: unknown, b: unknown) => {
    if (a !== b) problems.push(`${name}: rollups ${String(a)} vs brute force ${String(b)}`);
  };
  same('observations', fast.kpis.observations, slow.kpi.observations);
  same('products_analysed', fast.kpis.products_analysed, slow.kpi.products_analysed);
  same('products_with_drop', fast.kpis.products_with_drop, slow.kpi.products_with_drop);
  same('drops', fast.split.drop, slow.kpi.drops);
  const avg = slow.kpi.avg_drop_pct;
  if ((avg === null) !== (fast.kpis.avg_drop_pct === null) || (avg !== null && Math.abs((fast.kpis.avg_drop_pct ?? 0) - avg) > 0.005 + 1e-9)) {
    problems.push(`avg_drop_pct: rollups ${fast.kpis.avg_drop_pct} vs brute force ${avg}`);
  }
  same('trend periods', JSON.stringify(fast.trend.map((t) => [t.period, t.drops, t.observations])), JSON.stringify(slow.trend.map((t) => [t.period, t.drops, t.observations])));
  return problems.length ? `${JSON.stringify({ filter, grain })}: ${problems.join('; ')}` : null;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function timed(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function summary(samples: number[]): { p50_ms: number; p95_ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50_ms: round(percentile(sorted, 50)), p95_ms: round(percentile(sorted, 95)) };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Ingest through the observation writer (what the ETL and the sync use), as the ETL's bulk runs
 * do: a load of N rows into a new cache, indexes after the rows (bulk-load.ts). Returns the ms
 * spent, the index build included.
 */
function ingest(cache: CacheDb, data: BenchDataOptions, onCommit: (written: number) => void): number {
  const writer = createObservationWriter(cache);
  const batches = benchBatches(data);
  let ingestMs = 0;
  const load = startBulkLoad(cache, data.rows);
  let written = 0;
  for (let batch = batches.next(); batch !== undefined; batch = batches.next()) {
    const rowsOfBatch = batch.rows;
    ingestMs += timed(() =>
      cache.transaction(() => {
        writer.writeBatch(rowsOfBatch);
        writer.flush();
      })(),
    );
    written += rowsOfBatch.length;
    onCommit(written);
  }
  ingestMs += timed(() => load.finish());
  return ingestMs;
}

export const benchDashboardCommand: Command = {
  name: 'bench dashboard',
  summary: 'Benchmark cache ingest and the six-panel dashboard refresh over N synthetic observations',
  usage: `Usage: pricedrop bench dashboard [--rows N] [--products P] [--categories C] [--queries Q] [--seed S] [--batch B] [--verify K] [--db FILE] [--json]

Fills a fresh cache with N realistic observations (P products over C categories of uneven size,
every day of 2025, about 20 % drops) through the observation writer (rollups included; the rows
are generated before each transaction's clock starts), then
times Q dashboard refreshes under random filter combinations (date range, categories, drop
status, grain), each panel query and the whole refresh. Then times four queries an analyst
types against \`observations\` (sql): GROUP BY category, one day's count and average price, one
product's rows, and every row read to the end; and the same four, in the same run, over a plain
table with the Athena table's 14 columns holding the same rows, with indexes on dt and
product_id (reference_sql).

  --rows N         observations to ingest (default 1000000)
  --products P     distinct products (default N / 200, at least 500)
  --categories C   categories (default 60)
  --queries Q      random refreshes to time (default 300)
  --seed S         random seed (default 1)
  --batch B        rows per ingest transaction, whole days (default 1000000: the ETL's bulk commit)
  --cache-mb M     SQLite page cache of the ingesting connection, MB (default 64)
  --verify K       also compare K random filters with plain GROUP BYs over the rows
                   (adds "verified" and "mismatches"; exit code 1 on a mismatch)
  --db FILE        cache file to fill (default: a temporary folder, deleted afterwards)
  --json           print {"rows","ingest_rows_per_s","refresh_p50_ms","refresh_p95_ms","panels":{...},
                   ...,"sql":{...},"reference_sql":{...},"bytes_per_row"}

The same run also times SQLite storing min(N, 2M) rows one B-tree row each, in append order
(reference_row_inserts_per_s): what this machine's SQLite does with no work around it, to set
ingest_rows_per_s against on another machine; and SQLite storing the ingested rows again in the
cache's own table with its three indexes built after them, the reading untimed
(storage_floor_rows_per_s): the most any writer of this layout ingests here.`,
  async run(args, io) {
    const rows = numberFlag(args, 'rows', 1_000_000, { min: 1, integer: true });
    const productCount = numberFlag(args, 'products', Math.max(500, Math.round(rows / 200)), { min: 1, integer: true });
    const categoryCount = numberFlag(args, 'categories', 60, { min: 1, integer: true });
    const queries = numberFlag(args, 'queries', 300, { min: 1, integer: true });
    const seed = numberFlag(args, 'seed', 1, { integer: true });
    const batchRows = numberFlag(args, 'batch', 1_000_000, { min: 1, integer: true });
    const dbFlag = stringFlag(args, 'db');
    const dir = dbFlag ? undefined : mkdtempSync(join(tmpdir(), 'pricedrop-bench-dashboard-'));
    const file = dbFlag ?? join(dir as string, 'cache.db');
    const random = seededSequence(seed + 1);
    const data: BenchDataOptions = { rows, products: productCount, categories: categoryCount, seed, batchRows };
    let db: CacheDb | undefined;
    try {
      db = openCache(file);
      const cache = db;
      // The rows append at the end of observation_records (a rowid table); its key and descriptor
      // indexes take pages from all over.
      const cacheMb = numberFlag(args, 'cache-mb', 64, { min: 2, integer: true });
      cache.pragma(`cache_size = -${cacheMb * 1024}`);
      const onCommit = (written: number) => io.progress('ingest', written, rows);
      // As the ETL's bulk runs: no automatic WAL checkpoint per 1,000 pages, one at the end (timed too).
      cache.pragma('wal_autocheckpoint = 0');
      let ingestMs = ingest(cache, data, onCommit);
      ingestMs += timed(() => cache.pragma('wal_checkpoint(PASSIVE)'));
      cache.pragma('wal_autocheckpoint = 1000');
      const stored = cache.prepare('SELECT COUNT(*) FROM observation_records').pluck().get() as number;
      const categories = listCategories(cache);
      // Benchmark hygiene: collect the ingest's garbage (millions of row objects) and warm the
      // in-memory rollups before timing, so a major GC or the first load is not charged to a refresh.
      fullGc();
      for (let w = 0; w < 10; w++) {
        const { filter, grain } = randomFilter(seededSequence(seed + 1000 + w), categories);
        dashboardPanels(cache, filter, grain);
      }
      const panels: Record<string, number[]> = { kpis: [], trend: [], top_categories: [], split: [], facets: [] };
      const refresh: number[] = [];
      for (let q = 0; q < queries; q++) {
        const { filter, grain } = randomFilter(random, categories);
        // The whole refresh, as 'dashboard/panels' + 'dashboard/facets' answer it.
        refresh.push(
          timed(() => {
            dashboardPanels(cache, filter, grain);
            listCategories(cache);
            dataSpan(cache);
          }),
        );
        panels.kpis?.push(timed(() => kpis(cache, filter)));
        panels.trend?.push(timed(() => dropTrend(cache, filter, grain)));
        panels.top_categories?.push(timed(() => topCategories(cache, filter)));
        panels.split?.push(timed(() => dropSplit(cache, filter)));
        panels.facets?.push(timed(() => (listCategories(cache), dataSpan(cache))));
        io.progress('queries', q + 1, queries);
      }
      // Optional: check the numbers against plain GROUP BYs over the raw rows (slow: seconds per filter at 10M).
      const verifyCount = numberFlag(args, 'verify', 0, { min: 0, integer: true });
      const mismatches: string[] = [];
      for (let v = 0; v < verifyCount; v++) {
        const { filter, grain } = randomFilter(random, categories);
        const problem = verifyPanels(cache, filter, grain);
        if (problem) mismatches.push(problem);
        io.progress('verify', v + 1, verifyCount);
      }
      // The analyst's queries, on the cache and on the plain reference table (same rows, same run).
      io.progress('sql', 0, 2);
      cache.pragma('wal_checkpoint(TRUNCATE)');
      const bytes = bytesPerRow(cache, stored);
      const [source, productId] = (cache.prepare('SELECT source, product_id FROM product_keys ORDER BY id LIMIT 1 OFFSET ?').raw().get(Math.floor(productCount / 2)) ?? ['', '']) as [string, string];
      const sqlArgs = { day: dayString(Math.floor(DAYS / 2)), source, productId };
      const sql = timeAnalystSql(cache, sqlArgs);
      io.progress('sql', 1, 2);
      const referenceDir = mkdtempSync(join(tmpdir(), 'pricedrop-bench-reference-sql-'));
      let referenceSql: ReturnType<typeof timeAnalystSql>;
      let referenceBytes: number;
      try {
        const built = buildReferenceTable(cache, referenceDir);
        referenceBytes = built.bytesPerRow;
        const reference = new Database(built.file, { readonly: true });
        try {
          referenceSql = timeAnalystSql(reference, sqlArgs);
        } finally {
          reference.close();
        }
      } finally {
        rmSync(referenceDir, { recursive: true, force: true });
      }
      io.progress('sql', 2, 2);
      if (JSON.stringify(sql.answers) !== JSON.stringify(referenceSql.answers)) {
        mismatches.push(`analyst sql: cache ${JSON.stringify(sql.answers).slice(0, 300)} vs reference ${JSON.stringify(referenceSql.answers).slice(0, 300)}`);
      }
      for (const m of mismatches.slice(0, 5)) io.log(`mismatch ${m}`);
      // The same run's reference: SQLite storing rows one B-tree row each (at most 2M of them).
      const referenceRows = Math.min(stored, 2_000_000);
      io.progress('reference', 0, referenceRows);
      const reference = referenceRowInserts(referenceRows, productCount, seed);
      io.progress('reference', referenceRows, referenceRows);
      // The cache layout's floor: SQLite alone storing the same rows in the same table and indexes.
      io.progress('storage floor', 0, 1);
      const storageFloor = storageFloorInserts(cache, cacheMb);
      io.progress('storage floor', 1, 1);
      const refreshSummary = summary(refresh);
      const result = {
        rows: stored,
        ingest_rows_per_s: Math.round(stored / (ingestMs / 1000)),
        refresh_p50_ms: refreshSummary.p50_ms,
        refresh_p95_ms: refreshSummary.p95_ms,
        panels: Object.fromEntries(Object.entries(panels).map(([name, samples]) => [name, summary(samples)])),
        ingest_threads: 1,
        reference_row_inserts_per_s: reference,
        reference_rows: referenceRows,
        storage_floor_rows_per_s: storageFloor,
        products: productCount,
        categories: categoryCount,
        queries,
        sql: sql.times,
        reference_sql: referenceSql.times,
        bytes_per_row: bytes,
        reference_bytes_per_row: referenceBytes,
        ...(verifyCount > 0 ? { verified: verifyCount, mismatches: mismatches.length } : {}),
      };
      if (args.switches.has('json')) io.json(result);
      else {
        io.out(
          `${stored} rows: ingest ${result.ingest_rows_per_s} rows/s (SQLite's own row inserts here: ${reference} rows/s); refresh p50 ${result.refresh_p50_ms} ms, p95 ${result.refresh_p95_ms} ms; ` +
            `sql ${JSON.stringify(result.sql)} (plain table: ${JSON.stringify(result.reference_sql)}); ${bytes} bytes a row`,
        );
      }
      if (mismatches.length > 0) return 1;
    } finally {
      db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  },
};
