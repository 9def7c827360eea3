import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { RAW_COLUMNS, type RawColumn, type RawRecord } from '../pipeline/lake/raw-format';
import { readCsvHeader, readCsvRows } from './csv-rows';
import { destinationId } from './sink';
import type { RejectedRecord, Source, SourceChunk, SourceContext } from './source';

/**
 * `--source replay`: a price-history CSV file, or a folder of them, replayed in time order
 * (files in path order, rows in file order) as fast as the sink takes it, or `speed` times the
 * recorded pace. The position (file, byte offset) is checkpointed after each spooled batch, per
 * (input, mapping, sink), so the same command after a kill resumes where it stopped, and after a
 * complete replay does nothing.
 *
 * Column mapping (`--map`, the same syntax as `pricedrop import`): `FIELD=COLUMN` pairs separated
 * by commas, FIELD one of the raw columns; `FIELD=const:VALUE` sets a constant. Unmapped fields
 * default to the file column of the same name; then title = product_id, category =
 * 'uncategorized', currency = --currency or USD, source = 'replay', old_price = empty.
 * `--date-from-filename` takes observed_at (00:00 UTC) from a YYYY-MM-DD in the file name.
 */
export interface ReplayOptions {
  file: string;
  map?: string;
  dateFromFilename?: boolean;
  speed?: number;
  currency?: string;
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

type FieldSource = { column: string } | { constant: string };

/** Parses `--map` into a field → column/constant table; throws on unknown fields. */
export function parseColumnMap(map: string | undefined): Map<RawColumn, FieldSource> {
  const table = new Map<RawColumn, FieldSource>();
  if (!map) return table;
  for (const pair of map.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq === -1) throw new Error(`--map: "${pair}" is not FIELD=COLUMN`);
    const field = pair.slice(0, eq).trim() as RawColumn;
    const value = pair.slice(eq + 1).trim();
    if (!RAW_COLUMNS.includes(field)) throw new Error(`--map: unknown field "${field}" (fields: ${RAW_COLUMNS.join(', ')})`);
    table.set(field, value.startsWith('const:') ? { constant: value.slice('const:'.length) } : { column: value });
  }
  return table;
}

async function listCsvFiles(root: string): Promise<string[]> {
  const info = await stat(root);
  if (info.isFile()) return [root];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.csv$/i.test(entry.name)) out.push(path);
    }
  };
  await walk(root);
  return out.sort((a, b) => (relative(root, a) < relative(root, b) ? -1 : 1));
}

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

  async function loadCheckpoint(): Promise<ReplayCheckpoint | undefined> {
    try {
      return JSON.parse(await readFile(checkpointFile, 'utf8')) as ReplayCheckpoint;
    } catch {
      return undefined;
    }
  }

  return {
    name: 'replay',
    async commit(checkpoint) {
      await mkdir(dirname(checkpointFile), { recursive: true });
      const temp = `${checkpointFile}.tmp`;
      await writeFile(temp, JSON.stringify(checkpoint));
      await rename(temp, checkpointFile);
    },
    async *read(context: SourceContext): AsyncGenerator<SourceChunk> {
      const files = await listCsvFiles(input);
      const root = files.length === 1 && files[0] === input ? dirname(input) : input;
      const resumeAt = await loadCheckpoint();
      if (resumeAt) context.log('info', `replay: resuming at ${resumeAt.file || basename(input)} byte ${resumeAt.offset}`);
      let firstRecordedMs: number | undefined;
      const startedMs = Date.now();
      for (const path of files) {
        const name = relative(root, path);
        if (resumeAt && name < resumeAt.file) continue;
        const start = resumeAt && name === resumeAt.file ? resumeAt.offset : 0;
        const header = await readCsvHeader(path);
        const toRecord = recordMaker(header, columnMap, path, options);
        if (typeof toRecord === 'string') {
          context.log('error', `replay: skipping ${name}: ${toRecord}`);
          continue;
        }
        let headerSkipped = start > 0;
        let records: RawRecord[] = [];
        let rejected: RejectedRecord[] = [];
        let lineNumber = 0;
        for await (const rows of readCsvRows(path, start)) {
          for (const row of rows) {
            lineNumber++;
            if (!headerSkipped) {
              headerSkipped = true;
              continue;
            }
            const made = toRecord(row.fields);
            if (typeof made === 'string') rejected.push({ reason: made, raw: { file: name, offset: row.end, fields: row.fields } });
            else records.push(made);
            if (records.length + rejected.length >= chunkRows) {
              if (options.speed && records.length) await pace(records[records.length - 1]!);
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

      async function pace(last: RawRecord) {
        const recordedMs = Date.parse(last.observed_at);
        firstRecordedMs ??= recordedMs;
        const due = startedMs + (recordedMs - firstRecordedMs) / options.speed!;
        const wait = due - Date.now();
        if (wait > 0) await context.sleep(Math.min(wait, 60_000));
      }
    },
  };
}

/** Builds the row → record function for one file, or returns why the file cannot be replayed. */
function recordMaker(header: readonly string[], columnMap: Map<RawColumn, FieldSource>, path: string, options: ReplayOptions): ((fields: string[]) => RawRecord | string) | string {
  const index = new Map(header.map((name, i) => [name, i] as const));
  const resolved = new Map<RawColumn, FieldSource>();
  for (const field of RAW_COLUMNS) {
    const mapped = columnMap.get(field);
    if (mapped) {
      if ('column' in mapped && !index.has(mapped.column)) return `--map ${field}=${mapped.column}: no column "${mapped.column}" (columns: ${header.join(', ')})`;
      resolved.set(field, mapped);
    } else if (index.has(field)) resolved.set(field, { column: field });
  }
  let fileDate: string | undefined;
  if (options.dateFromFilename) {
    const match = /(\d{4}-\d{2}-\d{2})/.exec(basename(path));
    if (!match) return 'no YYYY-MM-DD in the file name (--date-from-filename)';
    fileDate = `${match[1]}T00:00:00.000Z`;
  }
  if (!resolved.has('product_id')) return 'no product_id column (use --map product_id=COLUMN)';
  if (!resolved.has('price')) return 'no price column (use --map price=COLUMN)';
  if (!resolved.has('observed_at') && !fileDate) return 'no observed_at column (use --map observed_at=COLUMN or --date-from-filename)';
  const getter = (field: RawColumn): ((fields: string[]) => string | undefined) => {
    const from = resolved.get(field);
    if (!from) return () => undefined;
    if ('constant' in from) return () => from.constant;
    const i = index.get(from.column)!;
    return (fields) => fields[i];
  };
  const get = Object.fromEntries(RAW_COLUMNS.map((field) => [field, getter(field)])) as Record<RawColumn, (fields: string[]) => string | undefined>;
  const currency = options.currency ?? 'USD';
  let lastIso = '';
  let lastRaw = '';
  return (fields) => {
    if (fields.length !== header.length) return `expected ${header.length} fields, found ${fields.length}`;
    const productId = get.product_id(fields)?.trim();
    if (!productId) return 'missing product_id';
    const priceText = get.price(fields)?.trim() ?? '';
    const price = Number(priceText);
    if (priceText === '' || !Number.isFinite(price) || price < 0) return `non-numeric price "${priceText}"`;
    const oldText = get.old_price(fields)?.trim() ?? '';
    const oldPrice = oldText === '' ? null : Number(oldText);
    if (oldPrice !== null && (!Number.isFinite(oldPrice) || oldPrice < 0)) return `non-numeric old_price "${oldText}"`;
    let observedAt = fileDate;
    const rawTime = get.observed_at(fields)?.trim();
    if (rawTime) {
      if (rawTime === lastRaw) observedAt = lastIso;
      else {
        const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(rawTime) ? `${rawTime}T00:00:00Z` : rawTime);
        if (!Number.isFinite(ms)) return `unreadable observed_at "${rawTime}"`;
        lastRaw = rawTime;
        lastIso = new Date(ms).toISOString();
        observedAt = lastIso;
      }
    }
    if (!observedAt) return 'missing observed_at';
    return {
      product_id: productId,
      title: get.title(fields)?.trim() || productId,
      category: get.category(fields)?.trim() || 'uncategorized',
      price,
      old_price: oldPrice,
      currency: get.currency(fields)?.trim() || currency,
      source: get.source(fields)?.trim() || 'replay',
      observed_at: observedAt,
    };
  };
}
