/**
 * `pricedrop bench etl`: raw CSV on disk → cleaned rows committed in the cache, against a
 * reference on the same files: Debian's sqlite3 CLI importing them (`.import --csv`) and running
 * the equivalent cleaning SQL into a table with the same key (see REFERENCE_SQL below).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RAW_HEADER } from '../base/raw-format';
import { listRawFiles, lakeDir } from '../base/lake-layout';
import { runLocalEtl, type EtlSummary } from './local-etl';
import { seededSequence } from '../base/seeded-sequence';
import { awaitWorkerTask, startWorker } from '../base/worker-threads';

export interface BenchData {
  rows: number;
  files: string[];
  bad: number;
  duplicates: number;
}

const CATEGORIES = ['Electronics', 'groceries', 'Home & Garden', ' toys ', 'Fashion', 'health & beauty', 'Sports', 'Books', 'Baby', 'pet supplies', 'Kitchen', 'Garden tools'];
const SOURCES = ['shop-a', 'shop-b', 'market'];
const ROWS_PER_FILE = 100_000;


/**
 * Writes N raw rows as the producer would (time-major: every product once per hourly tick), in
 * files of 100,000 rows under `lake/price-stream/dt=DAY/`, with about 1 % bad rows (every
 * quarantine reason) and 1 % exact duplicate lines. Streams; memory stays small.
 */
export function generateBenchLake(workspace: string, rows: number, seed = 42): BenchData {
  const random = seededSequence(seed);
  const products = Math.max(1000, Math.min(200_000, Math.floor(rows / 50)));
  const basePrice = new Float64Array(products);
  for (let p = 0; p < products; p++) basePrice[p] = 1 + Math.floor(random() * 50000) / 100;
  const start = Date.parse('2026-01-01T00:00:00Z');
  const files: string[] = [];
  let bad = 0;
  let duplicates = 0;
  let fd: number | undefined;
  let buffer = '';
  let previousLine = '';
  const flush = () => {
    if (fd !== undefined && buffer.length > 0) writeSync(fd, buffer);
    buffer = '';
  };
  for (let i = 0; i < rows; i++) {
    const tick = Math.floor(i / products);
    const observed = new Date(start + tick * 3600_000).toISOString();
    if (i % ROWS_PER_FILE === 0) {
      flush();
      if (fd !== undefined) closeSync(fd);
      const day = observed.slice(0, 10);
      const dir = join(lakeDir(workspace), 'price-stream', `dt=${day}`);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `bench-${String(files.length).padStart(5, '0')}.csv`);
      files.push(file);
      fd = openSync(file, 'w');
      buffer = RAW_HEADER + '\r\n';
      previousLine = '';
    }
    const roll = random();
    let line: string;
    if (roll < 0.01 && previousLine !== '') {
      line = previousLine;
      duplicates++;
    } else if (roll < 0.02) {
      bad++;
      const kind = Math.floor(random() * 6);
      const p = i % products;
      const good = [`p${p}`, `Product ${p}`, CATEGORIES[p % CATEGORIES.length], '9.99', '', 'EUR', SOURCES[p % SOURCES.length], observed];
      if (kind === 0) good[0] = '';
      else if (kind === 1) good[3] = 'n/a';
      else if (kind === 2) good[3] = '-4.5';
      else if (kind === 3) good[7] = 'yesterday';
      else if (kind === 4) good[7] = '2099-01-01T00:00:00Z';
      else good.length = 5;
      line = good.join(',');
    } else {
      const p = i % products;
      const price = Math.round((basePrice[p] as number) * (0.85 + random() * 0.3) * 100) / 100;
      const oldPrice = random() < 0.25 ? String(Math.round(price * 115) / 100) : '';
      const title = p % 10 === 0 ? `"Product ${p}, family pack"` : `Product ${p} Deluxe`;
      line = `p${p},${title},${CATEGORIES[p % CATEGORIES.length]},${price},${oldPrice},EUR,${SOURCES[p % SOURCES.length]},${observed}`;
      previousLine = line;
    }
    buffer += line + '\r\n';
    if (buffer.length > 1 << 20) flush();
  }
  flush();
  if (fd !== undefined) closeSync(fd);
  return { rows, files, bad, duplicates };
}

/**
 * The reference cleaning in SQL, equivalent to the rules where SQL can express them: validation
 * with the same reasons' conditions, trimming, category synonyms, timestamp normalisation,
 * dedup on the same key (INSERT OR IGNORE into a table with the observations key and index),
 * previous price by LAG within the load, drop columns rounded, quarantine into its own table, and
 * the latest price per product (the state the local engine keeps in `products`). Not included:
 * the dashboard rollups the cache's writer also maintains.
 */
export function referenceSql(files: readonly string[]): string {
  const imports = files.map((file) => `.import --csv --skip 1 '${file.replace(/'/g, "''")}' raw`).join('\n');
  return `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE raw (product_id TEXT, title TEXT, category TEXT, price TEXT, old_price TEXT, currency TEXT, source TEXT, observed_at TEXT);
${imports}
CREATE TABLE synonyms (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO synonyms VALUES ('groceries','Grocery'),('grocery','Grocery'),('home & garden','Home & Garden'),('toys','Toys & Games'),
  ('health & beauty','Health & Beauty'),('sports','Sports & Outdoors'),('books','Books'),('baby','Baby'),('pet supplies','Pets'),
  ('electronics','Electronics'),('fashion','Fashion'),('','Uncategorized');
-- The cache's observations table as migrated (pipeline/cache/migrations/0600-observations-rowid-table.ts): same key, same indexes.
CREATE TABLE observations (
  source TEXT NOT NULL, product_id TEXT NOT NULL, observed_at TEXT NOT NULL, dt TEXT NOT NULL, title TEXT NOT NULL,
  category TEXT NOT NULL, price REAL NOT NULL, old_price REAL, currency TEXT NOT NULL, drop_amount REAL, drop_pct REAL,
  is_drop INTEGER NOT NULL, drop_label TEXT NOT NULL, origin TEXT NOT NULL DEFAULT 'local');
CREATE UNIQUE INDEX observations_key ON observations (source, product_id, observed_at);
CREATE INDEX observations_dt ON observations (dt, category);
CREATE TABLE quarantine (reason TEXT, product_id TEXT, price TEXT, observed_at TEXT);
-- The latest price per product: the state the rules need for the next batch's previous price.
CREATE TABLE products (source TEXT NOT NULL, product_id TEXT NOT NULL, title TEXT NOT NULL, category TEXT NOT NULL, currency TEXT NOT NULL,
  last_price REAL NOT NULL, last_observed_at TEXT NOT NULL, PRIMARY KEY (source, product_id)) WITHOUT ROWID;
BEGIN;
CREATE TEMP TABLE checked AS
  SELECT rowid AS seq, trim(product_id) AS product_id, trim(title) AS title, lower(trim(category)) AS category_key,
         trim(price) AS price_text, trim(old_price) AS old_text, upper(trim(currency)) AS currency, trim(source) AS source,
         strftime('%Y-%m-%dT%H:%M:%fZ', observed_at) AS ts, observed_at AS observed_raw,
         CASE
           WHEN observed_at IS NULL THEN 'MALFORMED_CSV'
           WHEN trim(product_id) = '' THEN 'MISSING_PRODUCT_ID'
           WHEN trim(price) = '' THEN 'MISSING_PRICE'
           WHEN trim(price) GLOB '*[^0-9.eE+-]*' OR CAST(trim(price) AS REAL) <= 0 THEN 'INVALID_PRICE'
           WHEN trim(old_price) <> '' AND (trim(old_price) GLOB '*[^0-9.eE+-]*' OR CAST(trim(old_price) AS REAL) <= 0) THEN 'INVALID_OLD_PRICE'
           WHEN strftime('%Y-%m-%dT%H:%M:%fZ', observed_at) IS NULL THEN 'INVALID_TIMESTAMP'
           WHEN strftime('%Y-%m-%dT%H:%M:%fZ', observed_at) > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+15 minutes') THEN 'FUTURE_TIMESTAMP'
           WHEN trim(source) = '' THEN 'MISSING_SOURCE'
           WHEN length(upper(trim(currency))) <> 3 THEN 'INVALID_CURRENCY'
         END AS reason
  FROM raw;
INSERT INTO quarantine SELECT reason, product_id, price_text, observed_raw FROM checked WHERE reason IS NOT NULL;
INSERT OR IGNORE INTO observations (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label)
  SELECT source, product_id, ts, substr(ts, 1, 10), title, category, price, old_price, currency, drop_amount, drop_pct,
         coalesce(drop_pct >= 0.01, 0), CASE WHEN drop_pct >= 0.01 THEN 'drop' ELSE 'no drop' END
  FROM (
    SELECT *, CASE WHEN old_price IS NULL THEN NULL ELSE round(100.0 * drop_amount / old_price, 2) END AS drop_pct
    FROM (
      SELECT *, round(old_price - price, 4) AS drop_amount
      FROM (
        SELECT c.seq, c.source, c.product_id, c.ts, c.title, coalesce(s.value, upper(substr(c.category_key, 1, 1)) || substr(c.category_key, 2)) AS category, CAST(c.price_text AS REAL) AS price,
               coalesce(CAST(nullif(c.old_text, '') AS REAL), lag(CAST(c.price_text AS REAL)) OVER (PARTITION BY c.source, c.product_id ORDER BY c.ts)) AS old_price,
               c.currency
        FROM checked c LEFT JOIN synonyms s ON s.key = c.category_key
        WHERE c.reason IS NULL
      )
    )
  ) ORDER BY seq;
INSERT OR REPLACE INTO products
  SELECT o.source, o.product_id, o.title, o.category, o.currency, o.price, o.observed_at
  FROM observations o JOIN (SELECT source, product_id, max(observed_at) AS last FROM observations GROUP BY source, product_id) l
    ON o.source = l.source AND o.product_id = l.product_id AND o.observed_at = l.last;
COMMIT;
SELECT (SELECT count(*) FROM raw), (SELECT count(*) FROM observations), (SELECT count(*) FROM quarantine);
`;
}

export interface ReferenceResult {
  seconds: number;
  /** CPU seconds (user + system) of the sqlite3 process, when /proc tells (Linux). */
  cpuSeconds?: number;
  read: number;
  cleaned: number;
  quarantined: number;
}

/** Runs the reference with the sqlite3 CLI on a fresh database file; undefined when sqlite3 is missing. */
export function runReference(sqlite3: string, database: string, files: readonly string[]): ReferenceResult | undefined {
  const started = process.hrtime.bigint();
  const childCpuBefore = childrenCpuSeconds();
  const run = spawnSync(sqlite3, ['-batch', '-bail', database], { input: referenceSql(files), encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const childCpuAfter = childrenCpuSeconds();
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  if (run.status !== 0) throw new Error(`sqlite3 reference failed (${run.status}): ${run.stderr.trim().slice(0, 500)}`);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  const [read, cleaned, quarantined] = last.split('|').map(Number) as [number, number, number];
  const cpuSeconds = childCpuBefore !== undefined && childCpuAfter !== undefined ? childCpuAfter - childCpuBefore : undefined;
  return { seconds, read, cleaned, quarantined, ...(cpuSeconds !== undefined ? { cpuSeconds } : {}) };
}

/** CPU seconds used by waited-for children (cutime + cstime of /proc/self/stat), or undefined off Linux. */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

export interface BenchResult {
  rows: number;
  rows_per_s: number;
  peak_rss_mb: number;
  reference_rows_per_s: number | null;
}

export interface BenchDetail {
  generated: BenchData;
  summary: EtlSummary;
  seconds: number;
  reference?: ReferenceResult;
}

/**
 * generateBenchLake on a worker thread that exits before the ETL starts: the bench's peak RSS is
 * the ETL's, not the ETL's plus the ~100 MB heap the generator left behind (measured: generating
 * 5M rows alone peaks at 152 MB RSS).
 */
export function generateBenchLakeApart(workspace: string, rows: number, seed?: number): Promise<BenchData> {
  const worker = startWorker(new URL('./bench-lake.worker.ts', import.meta.url), { workerData: { workspace, rows, seed } });
  return awaitWorkerTask<BenchData>(worker, 'the bench lake generator');
}

/** Times runLocalEtl (worker thread, the production path) over a generated lake. */
export async function benchLocalEtl(workspace: string): Promise<{ summary: EtlSummary; seconds: number; cpuSeconds: number }> {
  const pending = listRawFiles(lakeDir(workspace)).length;
  if (pending === 0) throw new Error('no raw files to process');
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const summary = await runLocalEtl({ workspace });
  const used = process.cpuUsage(cpu);
  return { summary, seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6 };
}
