/**
 * Price-history import: maps any CSV's columns onto the raw format. Used by `pricedrop import`
 * (this file's importHistory) and by the producer's `replay` source (replay-source.ts), which shares
 * the `--map` / `--date-from-filename` / `--currency` / `--source` semantics:
 * call `parseColumnMap(spec)` once, then `createRowMapper(header, map, filePath, options)` per file
 * and `mapper.map(fields)` per row (it returns the 8 raw fields as text, or a reason code).
 *
 * The mapper does not judge values: prices, dates and ids pass through as text so the one set of
 * cleaning rules (price-rules.ts) quarantines bad ones with their reason codes.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { RAW_COLUMNS, RAW_HEADER, quoteCsvField, rawBatchKey, type RawColumn } from '../pipeline/base/raw-format';
import { readCsvRecords } from '../pipeline/base/csv-records';
import { lakeDir } from '../pipeline/base/lake-layout';
import { collapseText, formatTimestamp, parseTimestamp, trimText } from '../pipeline/base/price-rules';

/** Where a raw field comes from: a column of the input file, or a constant (`FIELD=const:VALUE`). */
export type FieldSource = { column: string } | { constant: string };

export type ColumnMap = Map<RawColumn, FieldSource>;

export interface RowMapperOptions {
  /** Take observed_at (00:00 UTC) from a `YYYY-MM-DD` in the file name when the row has none. */
  dateFromFilename?: boolean;
  /** Currency for files without a currency column (ISO 4217, e.g. ZAR). */
  currency?: string;
  /** Source name for files without a source column (default `import`). */
  source?: string;
}

export interface RowMapper {
  /** The 8 raw fields (RAW_COLUMNS order) of one input row, or MALFORMED_CSV when its width is wrong. */
  map(fields: readonly string[]): string[] | 'MALFORMED_CSV';
}

/** Raised when a file cannot be mapped at all (a required column is missing). */
export class MappingError extends Error {
  override name = 'MappingError';
}

/**
 * Parses `--map FIELD=COLUMN,FIELD=COLUMN,...` (FIELD one of the raw columns; `FIELD=const:VALUE`
 * sets a constant). Unmapped fields fall back to an input column of the same name.
 */
export function parseColumnMap(spec: string | undefined): ColumnMap {
  const map: ColumnMap = new Map();
  if (!spec) return map;
  for (const pair of spec.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq === -1) throw new MappingError(`--map: "${pair}" is not FIELD=COLUMN`);
    const field = pair.slice(0, eq).trim() as RawColumn;
    const value = pair.slice(eq + 1).trim();
    if (!RAW_COLUMNS.includes(field)) throw new MappingError(`--map: unknown field "${field}" (fields: ${RAW_COLUMNS.join(', ')})`);
    if (value === '') throw new MappingError(`--map: no column for "${field}"`);
    map.set(field, value.startsWith('const:') ? { constant: value.slice('const:'.length) } : { column: value });
  }
  return map;
}

/**
 * A stable product id for files without one: `t-` and 16 hex digits of SHA-256 of the title with
 * whitespace collapsed and lower-cased, so the same product gets the same id in every file.
 */
export function stableProductId(title: string): string {
  return 't-' + createHash('sha256').update(collapseText(title).toLowerCase()).digest('hex').slice(0, 16);
}

/** `YYYY-MM-DDT00:00:00.000Z` from the first valid `YYYY-MM-DD` in a file name, else undefined. */
export function dateFromFilename(path: string): string | undefined {
  for (const match of basename(path).matchAll(/(\d{4}-\d{2}-\d{2})/g)) {
    const ms = parseTimestamp(match[1] as string);
    if (ms !== undefined) return formatTimestamp(ms);
  }
  return undefined;
}

/**
 * Builds the row mapper of one input file from its header. Throws MappingError naming the
 * missing column when the file cannot provide price, observed_at, an id (or a title to derive
 * one from) or a currency.
 */
export function createRowMapper(header: readonly string[], columnMap: ColumnMap, filePath: string, options: RowMapperOptions = {}): RowMapper {
  const names = header.map((name, i) => trimText(i === 0 ? name.replace(/^\ufeff/, '') : name));
  const indexOf = (column: string): number => {
    let index = names.indexOf(column);
    if (index === -1) index = names.findIndex((name) => name.toLowerCase() === column.toLowerCase());
    return index;
  };
  type Getter = (fields: readonly string[]) => string | undefined;
  const getters = new Map<RawColumn, Getter>();
  for (const field of RAW_COLUMNS) {
    const mapped = columnMap.get(field);
    if (mapped && 'constant' in mapped) {
      const value = mapped.constant;
      getters.set(field, () => value);
      continue;
    }
    const column = mapped ? mapped.column : field;
    const index = indexOf(column);
    if (index === -1) {
      if (mapped) throw new MappingError(`--map ${field}=${column}: ${basename(filePath)} has no column "${column}" (columns: ${names.join(', ')})`);
      continue;
    }
    getters.set(field, (fields) => fields[index]);
  }
  const fileDate = options.dateFromFilename ? dateFromFilename(filePath) : undefined;
  if (options.dateFromFilename && fileDate === undefined) throw new MappingError(`--date-from-filename: no YYYY-MM-DD in "${basename(filePath)}"`);
  if (!getters.has('price')) throw new MappingError(`${basename(filePath)}: no price column (use --map price=COLUMN)`);
  if (!getters.has('observed_at') && fileDate === undefined) throw new MappingError(`${basename(filePath)}: no observed_at column (use --map observed_at=COLUMN or --date-from-filename)`);
  if (!getters.has('product_id') && !getters.has('title')) throw new MappingError(`${basename(filePath)}: no product_id or title column (use --map product_id=COLUMN or title=COLUMN)`);
  if (!getters.has('currency') && !options.currency) throw new MappingError(`${basename(filePath)}: no currency column (use --currency CODE or --map currency=COLUMN)`);
  const none: Getter = () => undefined;
  const get = (field: RawColumn): Getter => getters.get(field) ?? none;
  const productId = get('product_id');
  const title = get('title');
  const category = get('category');
  const price = get('price');
  const oldPrice = get('old_price');
  const currency = get('currency');
  const source = get('source');
  const observedAt = get('observed_at');
  const deriveId = !getters.has('product_id');
  const defaultSource = options.source ?? 'import';
  const defaultCurrency = options.currency ?? '';
  const width = names.length;
  return {
    map(fields) {
      if (fields.length !== width) return 'MALFORMED_CSV';
      const titleText = title(fields) ?? '';
      const idText = deriveId ? (trimText(titleText) === '' ? '' : stableProductId(titleText)) : (productId(fields) ?? '');
      const currencyText = currency(fields);
      const sourceText = source(fields);
      const observedText = observedAt(fields);
      return [
        idText,
        titleText === '' && !deriveId ? idText : titleText,
        category(fields) ?? '',
        price(fields) ?? '',
        oldPrice(fields) ?? '',
        currencyText === undefined || trimText(currencyText) === '' ? defaultCurrency : currencyText,
        sourceText === undefined || trimText(sourceText) === '' ? defaultSource : sourceText,
        observedText === undefined || trimText(observedText) === '' ? (fileDate ?? '') : observedText,
      ];
    },
  };
}

/** The CSV files under the given paths (a file, or a folder searched recursively), in path order. */
export function listHistoryFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.csv$/i.test(entry.name)) out.push(path);
    }
  };
  for (const input of paths) {
    const path = resolve(input);
    if (statSync(path).isDirectory()) walk(path);
    else out.push(path);
  }
  return [...new Set(out)].sort();
}

const SOURCE_FIELD = RAW_COLUMNS.indexOf('source');

export interface ImportedFile {
  input: string;
  /** Lake keys written for this input (one per day of observed_at); empty when already imported. */
  lakeKeys: string[];
  rows: number;
  /** Rows that could not be mapped (wrong number of fields): in quarantine/import/. */
  malformed: number;
  /** The sources its rows name (what `import --kind` applies to); empty when already imported. */
  sources: string[];
}

export interface ImportOptions extends RowMapperOptions {
  workspace: string;
  paths: readonly string[];
  /** The `--map` text. */
  map?: string;
  onFile?: (file: ImportedFile) => void;
}

/**
 * Copies price-history files into the workspace lake as raw batches
 * (`price-stream/dt=DAY/import-<name>-<hash>.csv`, written to a temporary name then renamed, so
 * the ETL sees only whole files). The hash covers the input path, size and mapping, so importing
 * the same file again writes nothing. Rows whose width does not match the header go to
 * `<workspace>/quarantine/import/<name>-<hash>.csv` with reason MALFORMED_CSV.
 */
export function importHistory(options: ImportOptions): ImportedFile[] {
  const columnMap = parseColumnMap(options.map);
  const files = listHistoryFiles(options.paths);
  const lake = lakeDir(options.workspace);
  const results: ImportedFile[] = [];
  for (const input of files) {
    const stat = statSync(input);
    const hash = createHash('sha256')
      .update(JSON.stringify([input, stat.size, options.map ?? '', Boolean(options.dateFromFilename), options.currency ?? '', options.source ?? '']))
      .digest('hex')
      .slice(0, 12);
    const stem = basename(input).replace(/\.csv$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
    const name = `import-${stem}-${hash}`;
    const marker = join(options.workspace, 'imports', `${name}.done`);
    const result: ImportedFile = { input, lakeKeys: [], rows: 0, malformed: 0, sources: [] };
    const sources = new Set<string>();
    if (existsSync(marker)) {
      results.push(result);
      options.onFile?.(result);
      continue;
    }
    const writers = new Map<string, { fd: number; tmp: string; final: string; key: string }>();
    let quarantineFd: number | undefined;
    let mapper: RowMapper | undefined;
    const today = new Date().toISOString().slice(0, 10);
    try {
      for (const record of readCsvRecords(input)) {
        if (mapper === undefined) {
          if (record.malformed) throw new MappingError(`${basename(input)}: unreadable header line`);
          mapper = createRowMapper(record.fields, columnMap, input, options);
          continue;
        }
        result.rows++;
        const raw = record.malformed ? 'MALFORMED_CSV' : mapper.map(record.fields);
        if (raw === 'MALFORMED_CSV') {
          if (quarantineFd === undefined) {
            mkdirSync(join(options.workspace, 'quarantine', 'import'), { recursive: true });
            quarantineFd = openSync(join(options.workspace, 'quarantine', 'import', `${name}.csv`), 'w');
            writeSync(quarantineFd, 'line,reason,raw\n');
          }
          writeSync(quarantineFd, `${record.line},MALFORMED_CSV,${quoteCsvField(record.raw)}\n`);
          result.malformed++;
          continue;
        }
        sources.add(raw[SOURCE_FIELD] as string);
        const ms = parseTimestamp(raw[7] as string);
        const day = ms === undefined ? today : formatTimestamp(ms).slice(0, 10);
        let writer = writers.get(day);
        if (writer === undefined) {
          const key = rawBatchKey(day, name);
          const final = join(lake, ...key.split('/'));
          mkdirSync(join(final, '..'), { recursive: true });
          const tmp = `${final}.${process.pid}.tmp`;
          writer = { fd: openSync(tmp, 'w'), tmp, final, key };
          writeSync(writer.fd, RAW_HEADER + '\r\n');
          writers.set(day, writer);
        }
        writeSync(writer.fd, raw.map(quoteCsvField).join(',') + '\r\n');
      }
      for (const writer of writers.values()) {
        closeSync(writer.fd);
        renameSync(writer.tmp, writer.final);
        result.lakeKeys.push(writer.key);
      }
      writers.clear();
      result.sources = [...sources].sort();
      mkdirSync(join(options.workspace, 'imports'), { recursive: true });
      closeSync(openSync(marker, 'w'));
    } finally {
      for (const writer of writers.values()) {
        closeSync(writer.fd);
        rmSync(writer.tmp, { force: true });
      }
      if (quarantineFd !== undefined) closeSync(quarantineFd);
    }
    results.push(result);
    options.onFile?.(result);
  }
  return results;
}

/** For messages: the input path relative to the working folder when shorter. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.length < path.length ? rel : path;
}
