import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CacheDb } from '../cache/cache-db';
import { createObservationWriter, type CleanRow, type ProductRef } from '../cache/observation-writer';
import { quoteCsvField } from '../base/raw-format';
import { inThreadSource, parseAheadSource, type BatchSource } from './parse-ahead';
import { quarantinePath, type RawFile } from '../base/lake-layout';
import { DEFAULT_FUTURE_TOLERANCE_MS, DEFAULT_MIN_DROP_PCT, computeDrop, type ReasonCode } from '../base/price-rules';
import { isNoSpace, noSpaceError } from '../base/disk-full';

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
  /** Parse and validate on a second thread ahead of the writer (worth it for large runs). */
  parseAhead?: boolean;
  /**
   * Commit after the file that brings the open transaction to this many rows, or this many ms
   * (0: after every file). Default: every file; with parseAhead, 1M rows or 4 s.
   */
  commitEveryRows?: number;
  commitEveryMs?: number;
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

/**
 * Rows handed to the writer at once (it sorts them by key). 8,192 rows (~3 MB) die young: with
 * 65,536 the batch outlived V8's young generation and every batch was copied into the old one.
 */
const BATCH_ROWS = 8192;
const QUARANTINE_HEADER = 'line,reason,raw\n';

/** A product's latest known observation (ms -Infinity until one is known), and the writer's ref for it. */
interface Known {
  ref: ProductRef;
  price: number;
  ms: number;
}

/**
 * Runs the rules over raw files. Whole files commit together with their manifest entries and
 * products updates (one file per transaction, or a group of whole files for bulk runs); quarantine
 * files are renamed into place just before the commit (a crash in between re-runs those files and
 * rewrites them). A file the manifest already lists (another process got there first) is skipped.
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
  // Latest known price per product: what the writer knows (the cache), then rows of this run
  // (updated in place: one object per product, no garbage per row).
  const known = new Map<string, Map<string, Known>>();
  const knownOf = (source: string, productId: string): Known => {
    let bySource = known.get(source);
    if (bySource === undefined) known.set(source, (bySource = new Map()));
    let entry = bySource.get(productId);
    if (entry === undefined) {
      const ref = writer.product(source, productId);
      entry = { ref, price: ref.lastPrice, ms: ref.lastT };
      bySource.set(productId, entry);
    }
    return entry;
  };

  // Small runs commit file by file; bulk runs (parse-ahead) group files: each commit also rewrites
  // the products and rollup rows the group touched, so fewer, larger commits cost less. The time
  // cap bounds how long other writers wait (their busy_timeout is 5 s).
  const commitRows = options.commitEveryRows ?? (options.parseAhead ? 1_000_000 : 0);
  const commitMs = options.commitEveryMs ?? (options.parseAhead ? 4_000 : 0);
  const paths = files.map((file) => file.path);
  const source = options.parseAhead ? parseAheadSource(paths, ruleOptions) : inThreadSource(paths, ruleOptions);
  try {
    return processWith(source);
  } finally {
    source.close();
  }

  function processWith(source: BatchSource): EtlSummary {
    // The open transaction: one or more whole files, committed together (see commitGroup).
    interface Done {
      counts: { read: number; cleaned: number; duplicates: number; quarantined: number };
      tmpQuarantine?: string;
      finalQuarantine: string;
      /** The quarantine file was renamed into place, just before a COMMIT that then failed. */
      renamed?: boolean;
    }
    let group: Done[] = [];
    let groupRows = 0;
    let groupStarted = 0;
    // Each product's known state before the open group (restored if it rolls back).
    let knownBefore = new Map<Known, { price: number; ms: number }>();
    let current: { tmpQuarantine: string; fd?: number } | undefined;

    const commitGroup = () => {
      writer.flush();
      for (const done of group) {
        if (!done.tmpQuarantine) continue;
        renameSync(done.tmpQuarantine, done.finalQuarantine);
        done.renamed = true;
      }
      db.exec('COMMIT');
      for (const done of group) {
        summary.files++;
        summary.read += done.counts.read;
        summary.cleaned += done.counts.cleaned;
        summary.duplicates += done.counts.duplicates;
        summary.quarantined += done.counts.quarantined;
      }
      group = [];
      groupRows = 0;
      knownBefore = new Map();
    };

    try {
      for (let fileIndex = 0; fileIndex < files.length; fileIndex++) {
        const file = files[fileIndex] as RawFile;
        if (options.shouldStop?.()) throw new EtlAbortedError('ETL aborted');
        options.onProgress?.({ file: file.key, filesDone: fileIndex, filesTotal: files.length, rowsRead: summary.read + groupRows });
        if (!db.inTransaction) {
          db.exec('BEGIN IMMEDIATE');
          groupStarted = Date.now();
        }
        if (inManifest.get(file.key) !== undefined) continue; // another process committed it meanwhile
        const counts = { read: 0, cleaned: 0, duplicates: 0, quarantined: 0 };
        const finalQuarantine = quarantinePath(workspace, file.key);
        const open = { tmpQuarantine: `${finalQuarantine}.${process.pid}.tmp`, fd: undefined as number | undefined };
        current = open;
        const quarantine = (line: number, reason: ReasonCode, raw: string) => {
          if (open.fd === undefined) {
            mkdirSync(dirname(open.tmpQuarantine), { recursive: true });
            open.fd = openSync(open.tmpQuarantine, 'w');
            writeSync(open.fd, QUARANTINE_HEADER);
          }
          writeSync(open.fd, `${line},${reason},${quoteCsvField(raw)}\n`);
          counts.quarantined++;
        };
        let batch: CleanRow[] = [];
        let refs: ProductRef[] = [];
        const writeOut = () => {
          if (batch.length === 0) return;
          const result = writer.writeBatch(batch, refs);
          counts.cleaned += result.inserted;
          counts.duplicates += result.duplicates;
          batch = [];
          refs = [];
        };
        for (const parsed of source.batches(fileIndex)) {
          counts.read += parsed.read;
          for (const entry of parsed.quarantined) quarantine(entry.line, entry.reason, entry.raw);
          const v = parsed.valid;
          for (let i = 0; i < v.n; i++) {
            const rowSource = v.source[i] as string;
            const productId = v.product_id[i] as string;
            const observedAt = v.observed_at[i] as string;
            const observedMs = v.observed_ms[i] as number;
            const price = v.price[i] as number;
            const ownOld = v.old_price[i] as number;
            const previous = knownOf(rowSource, productId);
            let oldPrice: number | null = Number.isNaN(ownOld) ? null : ownOld;
            if (oldPrice === null && previous.ms !== -Infinity) {
              if (previous.ms < observedMs) oldPrice = previous.price;
              else if (previous.ms === observedMs) {
                // The latest known observation has this very key: the row is a duplicate and will be
                // ignored, so its old_price does not matter (and the batch need not be written early).
              } else {
                // A late row (older than the latest known): its previous price is the latest
                // observation before it, rows of this batch included.
                writeOut();
                oldPrice = writer.priceBefore(rowSource, productId, observedMs) ?? null;
              }
            }
            if (observedMs > previous.ms) {
              if (!knownBefore.has(previous)) knownBefore.set(previous, { price: previous.price, ms: previous.ms });
              previous.price = price;
              previous.ms = observedMs;
            }
            const drop = computeDrop(price, oldPrice, minDropPct);
            batch.push({
              source: rowSource,
              product_id: productId,
              observed_at: observedAt,
              observed_ms: observedMs,
              dt: observedAt.slice(0, 10),
              title: v.title[i] as string,
              category: v.category[i] as string,
              price,
              old_price: drop.old_price,
              currency: v.currency[i] as string,
              drop_amount: drop.drop_amount,
              drop_pct: drop.drop_pct,
              is_drop: drop.is_drop,
              drop_label: drop.drop_label,
            });
            refs.push(previous.ref);
          }
          if (batch.length >= BATCH_ROWS) writeOut();
          if (options.shouldStop?.()) throw new EtlAbortedError('ETL aborted');
          options.onProgress?.({ file: file.key, filesDone: fileIndex, filesTotal: files.length, rowsRead: summary.read + groupRows + counts.read });
        }
        writeOut();
        recordManifest.run(file.key, file.size, counts.read, counts.cleaned, counts.duplicates, counts.quarantined, new Date().toISOString());
        if (open.fd !== undefined) closeSync(open.fd);
        open.fd = undefined;
        current = undefined;
        group.push({ counts, finalQuarantine, ...(counts.quarantined > 0 ? { tmpQuarantine: open.tmpQuarantine } : {}) });
        groupRows += counts.read;
        const last = fileIndex === files.length - 1;
        if (last || groupRows >= commitRows || Date.now() - groupStarted >= commitMs) commitGroup();
      }
      if (db.inTransaction) commitGroup(); // the last files were skipped (already in the manifest)
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      // Forget what the uncommitted files taught us about products.
      for (const [entry, value] of knownBefore) Object.assign(entry, value);
      writer.forget();
      if (current?.fd !== undefined) closeSync(current.fd);
      if (current) rmSync(current.tmpQuarantine, { force: true });
      // A COMMIT that failed (a full disk) after the quarantine files were renamed: they belong to
      // files the manifest does not list, so they go too (the next run writes them again).
      for (const done of group) if (done.tmpQuarantine) rmSync(done.renamed ? done.finalQuarantine : done.tmpQuarantine, { force: true });
      if (isNoSpace(error)) {
        // A full disk (SQLITE_FULL in the cache, ENOSPC in quarantine/): the open group is rolled back whole.
        const rolledBack = group.length + (current ? 1 : 0);
        throw noSpaceError(
          error,
          `the workspace (${workspace})`,
          `the ETL stopped after committing ${summary.files} of ${files.length} files (${summary.read} rows); ${rolledBack === 0 ? 'nothing was half-written' : `${rolledBack === 1 ? 'the file in progress was' : `the ${rolledBack} files in progress were`} rolled back`}; the next run cleans the rest, once there is room`,
        );
      }
      throw error;
    }
    options.onProgress?.({ file: '', filesDone: files.length, filesTotal: files.length, rowsRead: summary.read });
    return summary;
  }
}
