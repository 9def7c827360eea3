/**
 * The raw price-observation format: the one contract between the producer and the ETL.
 * Every raw CSV batch in the lake (`price-stream/dt=YYYY-MM-DD/<key>.csv`), local or in S3,
 * has a header row with exactly these columns, in this order, RFC 4180 quoting.
 */
export const RAW_COLUMNS = ['product_id', 'title', 'category', 'price', 'old_price', 'currency', 'source', 'observed_at'] as const;

export type RawColumn = (typeof RAW_COLUMNS)[number];

/** One observation as the producer emits it. `old_price` is null when the source has no list/was price. */
export interface RawRecord {
  product_id: string;
  title: string;
  category: string;
  price: number;
  old_price: number | null;
  currency: string;
  source: string;
  /** UTC ISO 8601, e.g. `2026-11-25T10:00:00.000Z`. */
  observed_at: string;
}

/** The prefix under which raw batches live, in a local lake folder or an S3 bucket/prefix. */
export const RAW_PREFIX = 'price-stream';

export const RAW_HEADER = RAW_COLUMNS.join(',');

const NEEDS_QUOTES = /[",\r\n]/;

/** RFC 4180 field quoting: quote when the field holds a comma, quote or line break; double inner quotes. */
export function quoteCsvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (without line ending) for a record, in RAW_COLUMNS order. */
export function encodeRawRecord(record: RawRecord): string {
  return [
    quoteCsvField(record.product_id),
    quoteCsvField(record.title),
    quoteCsvField(record.category),
    formatPrice(record.price),
    record.old_price === null ? '' : formatPrice(record.old_price),
    quoteCsvField(record.currency),
    quoteCsvField(record.source),
    record.observed_at,
  ].join(',');
}

/** A whole batch: header, one line per record, CRLF line endings as RFC 4180 prescribes. */
export function encodeRawBatch(records: readonly RawRecord[]): string {
  let out = RAW_HEADER + '\r\n';
  for (const record of records) out += encodeRawRecord(record) + '\r\n';
  return out;
}

function formatPrice(value: number): string {
  // Prices are money: print at most 4 decimals so float noise (50.99399999999999) does not leak into the lake.
  return Number.isFinite(value) ? String(Math.round(value * 10000) / 10000) : String(value);
}

/** The lake key of a raw batch: `price-stream/dt=YYYY-MM-DD/<name>.csv`. */
export function rawBatchKey(day: string, name: string): string {
  return `${RAW_PREFIX}/dt=${day}/${name}.csv`;
}
