/**
 * The same-run reference of `pricedrop bench dashboard`: how fast SQLite alone stores rows one
 * B-tree row each on this machine. Narrow rows (the cache's layout before migration 0800: nine
 * numbers keyed (hour, product, t)), prepared 32-row INSERTs, 1M-row transactions, WAL: no
 * parsing, no rollups, no duplicate checks. The project notes measured 1.2M rows/s for prepared
 * inserts on the reference machine; the ratio to the ingest figure carries across machines.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededSequence } from '../base/seeded-sequence';
import { HOUR_MS } from '../base/time';

const ROWS_PER_INSERT = 32;
const COLUMNS = 9;
/** A multiple of ROWS_PER_INSERT. */
const ROWS_PER_TRANSACTION = 1_000_000;

/**
 * Runs `fn` on a new database in a temporary folder, set up as a bulk load's connection (WAL,
 * synchronous NORMAL, no automatic checkpoint, `cacheMb` of page cache); removes it afterwards.
 */
function withScratchDatabase<T>(name: string, cacheMb: number, fn: (db: Database.Database) => T): T {
  const dir = mkdtempSync(join(tmpdir(), `pricedrop-bench-${name}-`));
  const db = new Database(join(dir, `${name}.db`));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`cache_size = -${cacheMb * 1024}`);
    return fn(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Inserts `rows` narrow rows (over `products` products and a year) into a fresh database; returns rows per second. */
export function referenceRowInserts(rows: number, products: number, seed: number): number {
  return withScratchDatabase('reference', 64, (db) => {
    db.exec(`CREATE TABLE observation_rows (hour INTEGER NOT NULL, product INTEGER NOT NULL, t INTEGER NOT NULL, descriptor INTEGER NOT NULL,
               price REAL NOT NULL, old_price REAL, drop_amount REAL, drop_pct REAL, flags INTEGER NOT NULL, PRIMARY KEY (hour, product, t)) WITHOUT ROWID`);
    const insert = db.prepare(`INSERT INTO observation_rows VALUES ${Array(ROWS_PER_INSERT).fill(`(${Array(COLUMNS).fill('?').join(', ')})`).join(', ')}`);
    const random = seededSequence(seed);
    const params = new Array<number | null>(ROWS_PER_INSERT * COLUMNS);
    const total = rows - (rows % ROWS_PER_INSERT);
    // A year of hours; in each, rows of distinct products in ascending order: the key only grows,
    // as the old writer's sorted batches made it (SQLite's best case, appends).
    const perHour = Math.max(1, Math.ceil(total / 8760));
    const stride = Math.max(1, Math.floor(products / perHour));
    const firstHour = Date.UTC(2025, 0, 1) / HOUR_MS;
    let ms = 0;
    for (let done = 0; done < total; ) {
      const end = Math.min(total, done + ROWS_PER_TRANSACTION);
      const began = performance.now();
      db.exec('BEGIN');
      for (; done < end; done += ROWS_PER_INSERT) {
        for (let k = 0; k < ROWS_PER_INSERT; k++) {
          const i = done + k;
          const hour = firstHour + Math.floor(i / perHour);
          const slot = i % perHour;
          const price = Math.round(100 + random() * 5000) / 100;
          const v = k * COLUMNS;
          params[v] = hour;
          params[v + 1] = 1 + slot * stride;
          params[v + 2] = hour * HOUR_MS + slot;
          params[v + 3] = 1 + slot * stride;
          params[v + 4] = price;
          params[v + 5] = price;
          params[v + 6] = 0;
          params[v + 7] = 0;
          params[v + 8] = 0;
        }
        insert.run(params);
      }
      db.exec('COMMIT');
      ms += performance.now() - began;
    }
    const checkpointStarted = performance.now();
    db.pragma('wal_checkpoint(PASSIVE)');
    ms += performance.now() - checkpointStarted;
    const stored = db.prepare('SELECT COUNT(*) FROM observation_rows').pluck().get() as number;
    return Math.round(stored / (ms / 1000));
  });
}

/**
 * The cache layout's own floor: SQLite storing the cache's very rows (read back from `cache`, the
 * reading untimed) in a fresh database with the cache's table, the same multi-row INSERTs of 64
 * rows, 1M-row transactions and page cache, then building the table's three indexes (key, day,
 * descriptor) and checkpointing, as a bulk load does: no parsing, no dictionaries, no duplicate
 * checks, no rollups. What any writer of this layout could ingest at most on this machine
 * (`storage_floor_rows_per_s`), to read ingest_rows_per_s against it.
 */
export function storageFloorInserts(cache: Database.Database, cacheMb: number): number {
  const ROWS = 64;
  const TRANSACTION = 1_000_000 - (1_000_000 % ROWS);
  const table = cache.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'observation_records'").pluck().get() as string;
  const indexes = cache.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observation_records' AND sql IS NOT NULL").pluck().all() as string[];
  const columns = (cache.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('observation_records') as string[]).join(', ');
  const width = columns.split(',').length;
  const read = cache.prepare(`SELECT ${columns} FROM observation_records WHERE rowid > ? ORDER BY rowid LIMIT ${TRANSACTION}`).raw();
  return withScratchDatabase('floor', cacheMb, (db) => {
    db.exec(table);
    const insertMany = db.prepare(`INSERT INTO observation_records (${columns}) VALUES ${Array(ROWS).fill(`(${Array(width).fill('?').join(', ')})`).join(', ')}`);
    const insertOne = db.prepare(`INSERT INTO observation_records (${columns}) VALUES (${Array(width).fill('?').join(', ')})`);
    let ms = 0;
    let stored = 0;
    for (let after = 0; ; ) {
      const rows = read.all(after) as unknown[][];
      if (rows.length === 0) break;
      after += rows.length; // rowids are dense: rows are only appended
      const params = new Array<unknown>(ROWS * width);
      const began = performance.now();
      db.exec('BEGIN');
      let k = 0;
      for (const row of rows) {
        for (let c = 0; c < width; c++) params[k * width + c] = row[c];
        if (++k === ROWS) {
          insertMany.run(params);
          k = 0;
        }
      }
      for (let r = 0; r < k; r++) insertOne.run(params.slice(r * width, (r + 1) * width));
      db.exec('COMMIT');
      ms += performance.now() - began;
      stored += rows.length;
    }
    const built = performance.now();
    db.transaction(() => {
      for (const sql of indexes) db.exec(sql);
    })();
    db.pragma('wal_checkpoint(PASSIVE)');
    ms += performance.now() - built;
    return Math.round(stored / (ms / 1000));
  });
}
