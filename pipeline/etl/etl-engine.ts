import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CacheDb } from '../cache/cache-db';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import { RAW_COLUMNS, quoteCsvField } from '../lake/raw-format';
import { readCsvRecords } from './csv-records';
import { quarantinePath, type RawFile } from './lake-files';
import { DEFAULT_FUTURE_TOLERANCE_MS, DEFAULT_MIN_DROP_PCT, computeDrop, headerIndexes, validateFields, type ReasonCode } from './price-rules';

/** The counts of one ETL run; `read = cleaned + duplicates + quarantined`. */
export interface EtlSummary {
  files: number;
  read: number;
  cleaned: number;
  duplicates: number;
  quarantined: number;
}

export interface EtlProgress {
  /** Lake key of the file being processed. */
  file: string;
  filesDone: number;
  filesTotal: number;
  /** Rows read so far in this run. */
  rowsRead: number;
}

export interface EngineOptions {
  /** The run's clock (epoch ms) for the future-timestamp rule. */
  nowMs: number;
  minDropPct?: number;
  futureToleranceMs?: number;
  /** Polled between row batches; true aborts the current file (rolled back) and the run. */
  shouldStop?: () => boolean;
  onProgress?: (progress: EtlProgress) => void;
}

export class EtlAbortedError extends Error {
  override name = 'AbortError';
}

export function emptySummary(): EtlSummary {
  return { files: 0, read: 0, cleaned: 0, duplicates: 0, quarantined: 0 };
}

/** Rows handed to the writer at once (it sorts them by key): large enough for locality, small enough to stay flat (~10 MB). */
const BATCH_ROWS = 65536;
/** Stop requests and progress are looked at every 4,096 rows read. */
const CHECK_EVERY_MASK = 4095;
const QUARANTINE_HEADER = 'line,reason,raw\n';

interface Known {
  price: number;
  ms: number;
}

/**
 * Runs the rules over raw files, each in its own transaction: the file's observations, its
 * products updates and its manifest entry commit together, and its quarantine file is renamed
 * into place just before the commit (a crash in between re-runs the file and rewrites it).
 * A file the manifest already lists (another process got there first) is skipped.
 */
export function processRawFiles(db: CacheDb, workspace: string, files: readonly RawFile[], options: EngineOptions): EtlSummary {
  const summary = emptySummary();
  const minDropPct = options.minDropPct ?? DEFAULT_MIN_DROP_PCT;
  const ruleOptions = { nowMs: options.nowMs, futureToleranceMs: options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS };
  const writer = createObservationWriter(db);
  const inManifest = db.prepare('SELECT 1 FROM etl_manifest WHERE file_key = ?').pluck();
  const recordManifest = db.prepare(
    'INSERT INTO etl_manifest (file_key, size, read, cleaned, duplicates, quarantined, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const lastProduct = db.prepare('SELECT last_price AS price, last_observed_at AS observedAt FROM products WHERE source = ? AND product_id = ?');
  const previousObservation = db
    .prepare('SELECT price FROM observations WHERE source = ? AND product_id = ? AND observed_at < ? ORDER BY observed_at DESC LIMIT 1')
    .pluck();
  // Latest known price per product (from `products`, then from rows of this run).
  const known = new Map<string, Known | null>();
  const knownOf = (key: string, source: string, productId: string): Known | null => {
    let entry = known.get(key);
    if (entry === undefined) {
      const row = lastProduct.get(source, productId) as { price: number; observedAt: string } | undefined;
      entry = row ? { price: row.price, ms: Date.parse(row.observedAt) } : null;
      known.set(key, entry);
    }
    return entry;
  };

  for (let fileIndex = 0; fileIndex < files.length; fileIndex++) {
    const file = files[fileIndex] as RawFile;
    if (options.shouldStop?.()) throw new EtlAbortedError('ETL aborted');
    options.onProgress?.({ file: file.key, filesDone: fileIndex, filesTotal: files.length, rowsRead: summary.read });
    const counts = { read: 0, cleaned: 0, duplicates: 0, quarantined: 0 };
    const finalQuarantine = quarantinePath(workspace, file.key);
    const tmpQuarantine = `${finalQuarantine}.${process.pid}.tmp`;
    let quarantineFd: number | undefined;
    const knownBefore = new Map<string, Known | null>();
    const quarantine = (line: number, reason: ReasonCode, raw: string) => {
      if (quarantineFd === undefined) {
        mkdirSync(dirname(tmpQuarantine), { recursive: true });
        quarantineFd = openSync(tmpQuarantine, 'w');
        writeSync(quarantineFd, QUARANTINE_HEADER);
      }
      writeSync(quarantineFd, `${line},${reason},${quoteCsvField(raw)}\n`);
      counts.quarantined++;
    };

    db.exec('BEGIN IMMEDIATE');
    try {
      if (inManifest.get(file.key) !== undefined) {
        db.exec('ROLLBACK');
        continue;
      }
      let batch: CleanRow[] = [];
      const writeOut = () => {
        if (batch.length === 0) return;
        const result = writer.writeBatch(batch);
        counts.cleaned += result.inserted;
        counts.duplicates += result.duplicates;
        batch = [];
      };
      let indexes: number[] | undefined;
      let identity = false;
      let headerWidth = 0;
      let seenHeader = false;
      for (const record of readCsvRecords(file.path)) {
        if (!seenHeader) {
          seenHeader = true;
          indexes = record.malformed ? undefined : headerIndexes(record.fields);
          headerWidth = record.fields.length;
          identity = indexes !== undefined && headerWidth === RAW_COLUMNS.length && indexes.every((value, i) => value === i);
          continue;
        }
        counts.read++;
        if ((counts.read & CHECK_EVERY_MASK) === 0) {
          if (options.shouldStop?.()) throw new EtlAbortedError('ETL aborted');
          options.onProgress?.({ file: file.key, filesDone: fileIndex, filesTotal: files.length, rowsRead: summary.read + counts.read });
        }
        if (record.malformed || indexes === undefined || record.fields.length !== headerWidth) {
          quarantine(record.line, 'MALFORMED_CSV', record.raw);
          continue;
        }
        const fields = identity ? record.fields : indexes.map((i) => record.fields[i] as string);
        const validation = validateFields(fields, ruleOptions);
        if (!validation.ok) {
          quarantine(record.line, validation.reason, record.raw);
          continue;
        }
        const row = validation.row;
        const key = row.source + '\u0000' + row.product_id;
        const previous = knownOf(key, row.source, row.product_id);
        let oldPrice = row.old_price;
        if (oldPrice === null && previous !== null) {
          if (previous.ms < row.observed_ms) oldPrice = previous.price;
          else if (previous.ms === row.observed_ms) {
            // The latest known observation has this very key: the row is a duplicate and will be
            // ignored, so its old_price does not matter (and the batch need not be written early).
          } else {
            // A late row (older than the latest known): its previous price is the latest
            // observation before it, rows of this batch included.
            writeOut();
            oldPrice = (previousObservation.get(row.source, row.product_id, row.observed_at) as number | undefined) ?? null;
          }
        }
        if (previous === null || row.observed_ms > previous.ms) {
          if (!knownBefore.has(key)) knownBefore.set(key, previous);
          known.set(key, { price: row.price, ms: row.observed_ms });
        }
        const drop = computeDrop(row.price, oldPrice, minDropPct);
        batch.push({
          source: row.source,
          product_id: row.product_id,
          observed_at: row.observed_at,
          dt: row.dt,
          title: row.title,
          category: row.category,
          price: row.price,
          old_price: drop.old_price,
          currency: row.currency,
          drop_amount: drop.drop_amount,
          drop_pct: drop.drop_pct,
          is_drop: drop.is_drop,
          drop_label: drop.drop_label,
        });
        if (batch.length >= BATCH_ROWS) writeOut();
      }
      writeOut();
      writer.flush();
      recordManifest.run(file.key, file.size, counts.read, counts.cleaned, counts.duplicates, counts.quarantined, new Date().toISOString());
      if (quarantineFd !== undefined) {
        closeSync(quarantineFd);
        quarantineFd = undefined;
        renameSync(tmpQuarantine, finalQuarantine);
      }
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      // Forget what this file taught us about products: it was not committed.
      for (const [key, value] of knownBefore) known.set(key, value);
      if (quarantineFd !== undefined) closeSync(quarantineFd);
      rmSync(tmpQuarantine, { force: true });
      throw error;
    }
    summary.files++;
    summary.read += counts.read;
    summary.cleaned += counts.cleaned;
    summary.duplicates += counts.duplicates;
    summary.quarantined += counts.quarantined;
  }
  options.onProgress?.({ file: '', filesDone: files.length, filesTotal: files.length, rowsRead: summary.read });
  return summary;
}
