import { stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { createRowMapper, listHistoryFiles, parseColumnMap, type ColumnMap } from './history-import';
import { readCsvHeader, readCsvRecordBatches } from '../pipeline/base/csv-records';
import { parseTimestamp, trimText } from '../pipeline/base/price-rules';
import type { RawRecord } from '../pipeline/base/raw-format';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file';
import { destinationId } from './sink';
import type { RejectedRecord, Source, SourceChunk, SourceContext } from './source';

/**
 * `--source replay`: a price-history CSV file, or a folder of them, replayed in time order
 * (files in path order, rows in file order) as fast as the sink takes it, or `speed` times the
 * recorded pace. The position (file, byte offset) is checkpointed after each spooled batch, per
 * (input, mapping, sink), so the same command after a kill resumes where it stopped, and after a
 * complete replay does nothing.
 *
 * Column mapping is `pricedrop import`'s own (producer/history-import.ts): `--map FIELD=COLUMN,...`
 * (`FIELD=const:VALUE` for a constant; unmapped fields use the same-named column; no product_id
 * column means a stable id from the title), `--date-from-filename`, `--currency`, and the source
 * name (`--source-name`, default 'replay'). The producer then checks values (numeric price, a
 * readable observed_at) and sends failing rows to the rejected-records file with the reason.
 */
export interface ReplayOptions {
  file: string;
  map?: string;
  dateFromFilename?: boolean;
  speed?: number;
  currency?: string;
  /** The `source` column value for files without one (default 'replay'). */
  sourceName?: string;
  workspace: string;
  sinkId: string;
  /** Rows per yielded chunk (the checkpoint granularity is one chunk). */
  chunkRows?: number;
}

export interface ReplayCheckpoint {
  /** Path of the file being replayed, relative to the input folder ('' for a single file). */
  file: string;
  /** Byte offset of the next row to read in that file. */
  offset: number;
}

/** The rejection reason of a record the CSV reader could not split (its raw text is kept). */
const MALFORMED = 'not RFC 4180 CSV (a stray or unterminated quote)';

export function createReplaySource(options: ReplayOptions): Source {
  const input = resolve(options.file);
  const columnMap = parseColumnMap(options.map);
  const checkpointFile = join(
    options.workspace,
    'producer',
    'checkpoints',
    `replay-${destinationId(input, options.map, String(Boolean(options.dateFromFilename)), options.sinkId)}.json`,
  );
  const chunkRows = options.chunkRows ?? (options.speed ? 200 : 2000);

  return {
    name: 'replay',
    commit: (checkpoint) => writeCheckpointFile(checkpointFile, checkpoint),
    async *read(context: SourceContext): AsyncGenerator<SourceChunk> {
      const files = listHistoryFiles([input]);
      const root = files.length === 1 && files[0] === input ? dirname(input) : input;
      const resumeAt = (await readCheckpointFile(checkpointFile)) as ReplayCheckpoint | undefined;
      if (resumeAt) context.log('info', `replay: resuming at ${resumeAt.file || basename(input)} byte ${resumeAt.offset}`);
      let firstRecordedMs: number | undefined;
      const startedMs = Date.now();
      for (const path of files) {
        const name = relative(root, path);
        if (resumeAt && name < resumeAt.file) continue;
        const start = resumeAt && name === resumeAt.file ? resumeAt.offset : 0;
        const header = readCsvHeader(path);
        const toRecord = recordMaker(header, columnMap, path, options);
        // A file the mapping cannot read stops the replay (as `pricedrop import` does): no silent gaps.
        if (typeof toRecord === 'string') throw new Error(`replay: ${name || basename(path)}: ${toRecord}`);
        let headerSkipped = start > 0;
        let records: RawRecord[] = [];
        let rejected: RejectedRecord[] = [];
        let lineNumber = 0;
        let previousEnd = start;
        for await (const rows of readCsvRecordBatches(path, start)) {
          for (const row of rows) {
            lineNumber++;
            if (!headerSkipped) {
              headerSkipped = true;
              continue;
            }
            const made = row.malformed ? MALFORMED : toRecord(row.fields);
            if (typeof made === 'string') rejected.push({ reason: made, raw: { file: name, offset: row.end, fields: row.malformed ? [row.raw] : row.fields } });
            else {
              // --speed: a record due later first sends what came before it, then waits for its time.
              const wait = options.speed ? dueIn(made) : 0;
              if (wait > 5) {
                if (records.length || rejected.length) {
                  yield { records, rejected, checkpoint: { file: name, offset: previousEnd } satisfies ReplayCheckpoint };
                  records = [];
                  rejected = [];
                }
                await context.sleep(Math.min(wait, 60_000));
                if (context.signal.aborted) return;
              }
              records.push(made);
            }
            previousEnd = row.end;
            if (records.length + rejected.length >= chunkRows) {
              yield { records, rejected, checkpoint: { file: name, offset: row.end } satisfies ReplayCheckpoint };
              records = [];
              rejected = [];
              if (context.signal.aborted) return;
            }
          }
        }
        if (records.length || rejected.length || lineNumber > 0) {
          yield { records, rejected, checkpoint: { file: name, offset: (await stat(path)).size } satisfies ReplayCheckpoint };
        }
        if (context.signal.aborted) return;
      }

      /** Milliseconds until a record is due at `speed` times its recorded pace (the first record is due now). */
      function dueIn(record: RawRecord): number {
        const recordedMs = Date.parse(record.observed_at);
        firstRecordedMs ??= recordedMs;
        return startedMs + (recordedMs - firstRecordedMs) / options.speed! - Date.now();
      }
    },
  };
}

/** Builds the row → record function for one file, or returns why the file cannot be replayed. */
function recordMaker(header: readonly string[], columnMap: ColumnMap, path: string, options: ReplayOptions): ((fields: string[]) => RawRecord | string) | string {
  let mapper;
  try {
    mapper = createRowMapper(header, columnMap, path, { dateFromFilename: options.dateFromFilename, currency: options.currency, source: options.sourceName ?? 'replay' });
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  let lastRaw = '';
  let lastIso = '';
  return (fields) => {
    const mapped = mapper.map(fields);
    if (mapped === 'MALFORMED_CSV') return `expected ${header.length} fields, found ${fields.length}`;
    const [productId, title, category, priceText, oldText, currency, source, observedText] = mapped.map(trimText) as [string, string, string, string, string, string, string, string];
    if (!productId) return 'missing product_id';
    const price = Number(priceText);
    if (priceText === '' || !Number.isFinite(price) || price < 0) return `non-numeric price "${priceText}"`;
    const oldPrice = oldText === '' ? null : Number(oldText);
    if (oldPrice !== null && (!Number.isFinite(oldPrice) || oldPrice < 0)) return `non-numeric old_price "${oldText}"`;
    if (observedText !== lastRaw) {
      const ms = parseTimestamp(observedText);
      if (ms === undefined) return `unreadable observed_at "${observedText}"`;
      lastRaw = observedText;
      lastIso = new Date(ms).toISOString();
    }
    return { product_id: productId, title: title || productId, category: category || 'uncategorized', price, old_price: oldPrice, currency, source, observed_at: lastIso };
  };
}
