import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AthenaClient } from '@aws-sdk/client-athena';
import Database from 'better-sqlite3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getMeta, setMeta, type CacheDb } from '../cache/cache-db';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import { runQuery, type AthenaRow, type AthenaTarget, type QueryProgress, type WaitOptions } from './athena-query';
import { unloadQuery } from './athena-unload';
import { formatTimestamp, parseTimestamp } from '../base/price-rules';
import { isNoSpace, noSpaceError } from '../base/disk-full';
import { HOUR_MS } from '../base/time';

/**
 * `pricedrop cloud sync`: pulls the Glue job's cleaned rows newer than the cache's watermark
 * from Athena into the local cache, through the one observation writer (origin 'athena').
 *
 * Atomic: rows are downloaded first, then written, together with the new watermark and the
 * "data as of" facts, in ONE SQLite transaction. A sync killed at any point (download, write,
 * before commit) leaves the previous cache and watermark untouched (SQLite discards the
 * uncommitted transaction), and the next sync fetches the same rows again and completes it.
 * Re-fetching is harmless: the writer ignores rows whose (source, product_id, observed_at) is
 * already cached, which also makes the look-back window for late rows safe.
 */

/** meta keys. */
export const WATERMARK_KEY = 'athena.watermark';
export const DATA_AS_OF_KEY = 'data_as_of.athena';

/** "Data as of" an origin: what DATA_AS_OF_KEY holds (JSON in `meta`); the local origin's comes from etl_manifest. */
export interface DataAsOf {
  /** Latest observed_at present for that origin after the last successful write. */
  last_observed_at: string | null;
  /** When that write committed. */
  updated_at: string;
  /** Rows the last write inserted. */
  rows_inserted: number;
}

export interface CloudSyncOptions {
  cache: CacheDb;
  athena: AthenaClient;
  s3: S3Client;
  target: AthenaTarget;
  /** The cleaned table, e.g. `cleaned_observations`. */
  table: string;
  /** `s3://bucket/prefix/` for UNLOAD folders. */
  unloadPrefix: string;
  /** `auto` (default): UNLOAD when the count exceeds `unloadThreshold`, else page GetQueryResults. */
  mode?: 'auto' | 'paged' | 'unload';
  /** Rows above which `auto` uses UNLOAD. Default 20,000 (20 sequential GetQueryResults pages). */
  unloadThreshold?: number;
  /** Re-read this far before the watermark, for rows that reached the lake late. Default 24 h. */
  lookbackHours?: number;
  pricePerTbUsd?: number;
  wait?: WaitOptions;
  /** Progress for people (stderr). */
  onProgress?: (label: string, done: number, total?: number) => void;
  /** Scratch SQLite file for downloaded rows (deleted afterwards). Default: a file in the OS temp folder. */
  stagingFile?: string;
  /** Test hook: named points of the sync, called synchronously (the crash-safety test kills the process there). */
  onPhase?: (phase: 'counted' | 'downloaded' | 'writing' | 'before-commit' | 'committed') => void;
  now?: () => Date;
}

export interface CloudSyncSummary {
  mode: 'paged' | 'unload' | 'none';
  watermark_before: string | null;
  watermark_after: string | null;
  fetched: number;
  inserted: number;
  duplicates: number;
  /** Rows Athena returned that are not valid cleaned rows (skipped, counted). */
  invalid: number;
  bytes_scanned: number;
  cost_usd: number;
}

const CLEAN_COLUMNS = 'source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label';

/** Quotes an SQL string literal for Athena (values here are our own ISO timestamps, quoted anyway). */
function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function identifier(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Not a plain identifier: "${name}"`);
  return `"${name}"`;
}

/** Where the next sync starts reading: the watermark minus the look-back for late rows; null (no watermark): everything. */
export function syncSince(watermark: string | null, lookbackHours = 24): string | null {
  return watermark ? new Date(Date.parse(watermark) - lookbackHours * HOUR_MS).toISOString() : null;
}

/** The WHERE clause for rows after `since` (dt first, so Athena prunes partitions). */
export function syncWhere(since: string | null): string {
  if (!since) return '';
  return ` WHERE dt >= ${literal(since.slice(0, 10))} AND observed_at > ${literal(since)}`;
}

function num(value: AthenaRow[string] | undefined): number | null {
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** An Athena row (paged or Parquet) as a CleanRow, or null when it is not one. */
export function toCleanRow(row: AthenaRow): CleanRow | null {
  const str = (v: AthenaRow[string] | undefined) => (typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : null);
  const source = str(row.source);
  const productId = str(row.product_id);
  // The Glue job writes observed_at as canonical UTC ISO text; anything else is read as the rules read it.
  const observedRaw = str(row.observed_at);
  const observedMs = observedRaw === null ? undefined : parseTimestamp(observedRaw);
  const observedAt = observedMs === undefined ? null : formatTimestamp(observedMs);
  const title = str(row.title);
  const category = str(row.category);
  const currency = str(row.currency);
  const price = num(row.price);
  const dt = row.dt instanceof Date ? row.dt.toISOString().slice(0, 10) : str(row.dt);
  const isDrop = row.is_drop === true || row.is_drop === 'true' || row.is_drop === 1;
  if (!source || !productId || !observedAt || !dt || !/^\d{4}-\d{2}-\d{2}$/.test(dt) || title === null || !category || !currency || price === null) return null;
  // dt is the day of observed_at by the rules (docs/etl-rules.md); the cache derives it from observed_at.
  if (dt !== observedAt.slice(0, 10)) return null;
  return {
    source,
    product_id: productId,
    observed_at: observedAt,
    dt,
    title,
    category,
    price,
    old_price: num(row.old_price),
    currency,
    drop_amount: num(row.drop_amount),
    drop_pct: num(row.drop_pct),
    is_drop: isDrop,
    drop_label: isDrop ? 'drop' : 'no drop',
  };
}

/** Where a sync stages its rows by default: a fresh folder in the OS temp folder ($TMPDIR). */
function defaultStagingFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'pricedrop-sync-')), 'staging.db');
}

function openStaging(path: string): Database.Database {
  rmSync(path, { force: true });
  const db = new Database(path);
  try {
    // Scratch data: no journal, no fsync; a crash just leaves a file the next sync overwrites.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec('CREATE TABLE staged (id INTEGER PRIMARY KEY, row TEXT NOT NULL)');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function closeStaging(db: Database.Database, file: string | undefined): void {
  db.close();
  removeStaging(db.name, file);
}

/** Deletes the staging file, and its folder when the sync made one. */
function removeStaging(path: string, file: string | undefined): void {
  rmSync(path, { force: true });
  if (!file) rmSync(dirname(path), { recursive: true, force: true });
}

export async function runCloudSync(options: CloudSyncOptions): Promise<CloudSyncSummary> {
  const { cache, athena, target } = options;
  const progress = options.onProgress ?? (() => undefined);
  const phase = options.onPhase ?? (() => undefined);
  const watermarkBefore = getMeta(cache, WATERMARK_KEY) ?? null;
  const since = syncSince(watermarkBefore, options.lookbackHours);
  const from = `${identifier(target.database)}.${identifier(options.table)}`;
  const where = syncWhere(since);
  const wait: WaitOptions = {
    ...options.wait,
    onProgress: (p: QueryProgress) => {
      progress(`athena ${p.state.toLowerCase()} (${(p.bytesScanned / 1e6).toFixed(1)} MB scanned)`, 0);
      options.wait?.onProgress?.(p);
    },
  };
  let bytesScanned = 0;
  let costUsd = 0;

  const count = await runQuery(athena, `SELECT COUNT(*) AS n FROM ${from}${where}`, target, { ...wait, pricePerTbUsd: options.pricePerTbUsd });
  bytesScanned += count.cost.bytesScanned;
  costUsd += count.cost.costUsd;
  const expected = Number(count.rows[0]?.n ?? 0);
  phase('counted');
  const summary: CloudSyncSummary = {
    mode: 'none',
    watermark_before: watermarkBefore,
    watermark_after: watermarkBefore,
    fetched: 0,
    inserted: 0,
    duplicates: 0,
    invalid: 0,
    bytes_scanned: 0,
    cost_usd: 0,
  };
  // Downloaded rows are staged in a scratch SQLite file, not in memory (an initial sync can be
  // millions of rows); the cache itself is only touched by the final transaction.
  let stagingPath = options.stagingFile ?? '';
  // A full disk while staging leaves the cache untouched; while writing, the transaction rolls back.
  const stagingFull = (error: unknown) =>
    noSpaceError(
      error,
      `the sync's staging file (${stagingPath || tmpdir()})`,
      `nothing was written to the cache, its watermark stays ${watermarkBefore ?? 'unset'}; make room there (or point TMPDIR at a disk with room) and sync again`,
    );
  let staging: Database.Database;
  try {
    stagingPath ||= defaultStagingFile();
    staging = openStaging(stagingPath);
  } catch (error) {
    if (stagingPath) removeStaging(stagingPath, options.stagingFile);
    throw isNoSpace(error) ? stagingFull(error) : error;
  }
  let writing = false;
  let fetched = 0;
  let latestFetched: string | null = null;
  try {
    const stage = staging.prepare('INSERT INTO staged (row) VALUES (?)');
    if (expected > 0) {
      const mode = options.mode === 'paged' || options.mode === 'unload' ? options.mode : expected > (options.unloadThreshold ?? 20_000) ? 'unload' : 'paged';
      summary.mode = mode;
      const select = `SELECT ${CLEAN_COLUMNS} FROM ${from}${where}`;
      // One staging transaction per batch: all the paged rows, or one Parquet file of an UNLOAD.
      const take = staging.transaction((batch: AthenaRow[]) => {
        for (const r of batch) {
          const clean = toCleanRow(r);
          if (!clean) {
            summary.invalid++;
            continue;
          }
          stage.run(JSON.stringify(clean));
          fetched++;
          if (latestFetched === null || clean.observed_at > latestFetched) latestFetched = clean.observed_at;
        }
        progress('download rows', fetched + summary.invalid, expected);
      });
      if (mode === 'paged') {
        const result = await runQuery(athena, select, target, { ...wait, pricePerTbUsd: options.pricePerTbUsd });
        take(result.rows);
        bytesScanned += result.cost.bytesScanned;
        costUsd += result.cost.costUsd;
      } else {
        const result = await unloadQuery(athena, select, target, {
          ...wait,
          s3: options.s3,
          unloadPrefix: options.unloadPrefix,
          pricePerTbUsd: options.pricePerTbUsd,
          onRows: take,
          onFile: (done, total) => progress('download files', done, total),
        });
        bytesScanned += result.cost.bytesScanned;
        costUsd += result.cost.costUsd;
      }
    }
    summary.fetched = fetched;
    summary.bytes_scanned = bytesScanned;
    summary.cost_usd = costUsd;
    phase('downloaded');
    writing = true;

    // Everything below commits together or not at all.
    const writer = createObservationWriter(cache, { origin: 'athena' });
    const batch = 50_000;
    const page = staging.prepare('SELECT id, row FROM staged WHERE id > ? ORDER BY id LIMIT ?').raw();
    cache.transaction(() => {
      let after = 0;
      let written = 0;
      for (;;) {
        const staged = page.all(after, batch) as [number, string][];
        if (staged.length === 0) break;
        after = (staged[staged.length - 1] as [number, string])[0];
        const result = writer.writeBatch(staged.map(([, json]) => JSON.parse(json) as CleanRow));
        summary.inserted += result.inserted;
        summary.duplicates += result.duplicates;
        written += staged.length;
        progress('write rows', written, fetched);
        if (written === staged.length) phase('writing');
      }
      writer.flush();
      const latest = latestFetched !== null && (watermarkBefore === null || latestFetched > watermarkBefore) ? latestFetched : watermarkBefore;
      summary.watermark_after = latest;
      if (latest) setMeta(cache, WATERMARK_KEY, latest);
      const asOf: DataAsOf = { last_observed_at: latest, updated_at: (options.now?.() ?? new Date()).toISOString(), rows_inserted: summary.inserted };
      setMeta(cache, DATA_AS_OF_KEY, JSON.stringify(asOf));
      phase('before-commit');
    })();
  } catch (error) {
    if (!isNoSpace(error)) throw error;
    if (!writing) throw stagingFull(error);
    throw noSpaceError(error, `the cache (${cache.name})`, `the sync was rolled back: the cache and its watermark (${watermarkBefore ?? 'unset'}) are as they were; make room and sync again`);
  } finally {
    closeStaging(staging, options.stagingFile);
  }
  phase('committed');
  return summary;
}

/** "Data as of" per origin and per data source, for the UI ('cache/status'). */
export function cacheStatus(cache: CacheDb) {
  // The local ETL records its committed files in etl_manifest; a sync writes DATA_AS_OF_KEY.
  const etl = cache.prepare('SELECT MAX(processed_at) AS at, SUM(cleaned) AS rows FROM etl_manifest').get() as { at: string | null; rows: number | null };
  const local: DataAsOf | null = etl.at ? { last_observed_at: null, updated_at: etl.at, rows_inserted: etl.rows ?? 0 } : null;
  const athenaRaw = getMeta(cache, DATA_AS_OF_KEY);
  const athena = athenaRaw ? (JSON.parse(athenaRaw) as DataAsOf) : null;
  const observations = (cache.prepare('SELECT COALESCE(SUM(observations), 0) FROM rollup_daily').pluck().get() as number) ?? 0;
  const sources = cache.prepare('SELECT source, MAX(last_observed_at) AS data_as_of, COUNT(*) AS products FROM products GROUP BY source ORDER BY source').all() as {
    source: string;
    data_as_of: string;
    products: number;
  }[];
  return {
    observations,
    origins: { local, athena },
    athena_watermark: getMeta(cache, WATERMARK_KEY) ?? null,
    sources,
  };
}
