/**
 * The stateless half of the ETL: a raw file → batches of validated rows (columns) and quarantined
 * records. No database, no product state: it can run on another thread ahead of the writer
 * (parse-ahead.ts), whose half (previous price, drop, dedup, commit) is in etl-engine.ts.
 */
import { RAW_COLUMNS } from '../base/raw-format';
import { readCsvRecords } from '../base/csv-records';
import { headerIndexes, validateFields, type ReasonCode, type RuleOptions } from '../base/price-rules';

/** Validated rows of a batch, column by column (cheap to post between threads). old_price NaN = none. */
export interface ValidColumns {
  n: number;
  source: string[];
  product_id: string[];
  observed_at: string[];
  observed_ms: Float64Array;
  title: string[];
  category: string[];
  price: Float64Array;
  old_price: Float64Array;
  currency: string[];
}

export interface QuarantinedRecord {
  line: number;
  reason: ReasonCode;
  raw: string;
}

export interface ParsedBatch {
  /** Records read in this batch (valid + quarantined). */
  read: number;
  valid: ValidColumns;
  quarantined: QuarantinedRecord[];
}

export const PARSE_BATCH_ROWS = 8192;

function emptyColumns(capacity: number): ValidColumns {
  return {
    n: 0,
    source: [],
    product_id: [],
    observed_at: [],
    observed_ms: new Float64Array(capacity),
    title: [],
    category: [],
    price: new Float64Array(capacity),
    old_price: new Float64Array(capacity),
    currency: [],
  };
}

function trimColumns(columns: ValidColumns): ValidColumns {
  const n = columns.n;
  return { ...columns, observed_ms: columns.observed_ms.slice(0, n), price: columns.price.slice(0, n), old_price: columns.old_price.slice(0, n) };
}

/**
 * Reads a raw file and yields batches of at most `batchRows` records: header mapping, CSV
 * structure and every validation rule (price-rules.ts) applied, rows in file order.
 */
export function* parseRawFile(path: string, ruleOptions: RuleOptions, batchRows = PARSE_BATCH_ROWS): Generator<ParsedBatch> {
  let indexes: number[] | undefined;
  let identity = false;
  let headerWidth = 0;
  let seenHeader = false;
  let batch: ParsedBatch = { read: 0, valid: emptyColumns(batchRows), quarantined: [] };
  for (const record of readCsvRecords(path)) {
    if (!seenHeader) {
      seenHeader = true;
      indexes = record.malformed ? undefined : headerIndexes(record.fields);
      headerWidth = record.fields.length;
      identity = indexes !== undefined && headerWidth === RAW_COLUMNS.length && indexes.every((value, i) => value === i);
      continue;
    }
    batch.read++;
    if (record.malformed || indexes === undefined || record.fields.length !== headerWidth) {
      batch.quarantined.push({ line: record.line, reason: 'MALFORMED_CSV', raw: record.raw });
    } else {
      const fields = identity ? record.fields : indexes.map((i) => record.fields[i] as string);
      const validation = validateFields(fields, ruleOptions);
      if (!validation.ok) batch.quarantined.push({ line: record.line, reason: validation.reason, raw: record.raw });
      else {
        const row = validation.row;
        const columns = batch.valid;
        const i = columns.n++;
        columns.source.push(row.source);
        columns.product_id.push(row.product_id);
        columns.observed_at.push(row.observed_at);
        columns.observed_ms[i] = row.observed_ms;
        columns.title.push(row.title);
        columns.category.push(row.category);
        columns.price[i] = row.price;
        columns.old_price[i] = row.old_price === null ? NaN : row.old_price;
        columns.currency.push(row.currency);
      }
    }
    if (batch.read >= batchRows) {
      batch.valid = trimColumns(batch.valid);
      yield batch;
      batch = { read: 0, valid: emptyColumns(batchRows), quarantined: [] };
    }
  }
  if (batch.read > 0) {
    batch.valid = trimColumns(batch.valid);
    yield batch;
  }
}
