/**
 * The cleaning rules, once, for the local engine. docs/etl-rules.md states them in prose;
 * glue/price_rules.py is the same rules for AWS Glue; test/vectors/ checks both.
 *
 * Everything here is pure and synchronous: no I/O, no clock (the caller passes `now`).
 * Parsing is deliberately explicit (own regexes, own rounding, own date arithmetic) rather than
 * `Date.parse` / `toFixed`, because Python must reproduce every result bit for bit.
 */
import categorySynonyms from './category_synonyms.json';
import { RAW_COLUMNS } from './raw-format';

/** Why a row was quarantined. Identical strings in glue/price_rules.py; checked in this order. */
export const REASON_CODES = [
  'MALFORMED_CSV',
  'MISSING_PRODUCT_ID',
  'MISSING_PRICE',
  'INVALID_PRICE',
  'INVALID_OLD_PRICE',
  'INVALID_TIMESTAMP',
  'FUTURE_TIMESTAMP',
  'MISSING_SOURCE',
  'INVALID_CURRENCY',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

/** Default `is_drop` threshold, in percent. */
export const DEFAULT_MIN_DROP_PCT = 0.01;

/** How far past `now` an observed_at may lie (producer clocks drift): 15 minutes. */
export const DEFAULT_FUTURE_TOLERANCE_MS = 15 * 60 * 1000;

/** A row that passed validation: every column parsed and normalised, drop not yet computed. */
export interface ValidRow {
  source: string;
  product_id: string;
  /** Normalised UTC ISO 8601 with milliseconds: `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  observed_at: string;
  /** Epoch milliseconds of observed_at (for ordering against previous observations). */
  observed_ms: number;
  dt: string;
  title: string;
  category: string;
  price: number;
  /** The source's own list/was price; null when the raw field was empty. */
  old_price: number | null;
  currency: string;
}

export type Validation = { ok: true; row: ValidRow } | { ok: false; reason: ReasonCode };

export interface DropFields {
  old_price: number | null;
  drop_amount: number | null;
  drop_pct: number | null;
  is_drop: boolean;
  drop_label: 'drop' | 'no drop';
}

export interface RuleOptions {
  /** The run's clock, epoch ms. */
  nowMs: number;
  futureToleranceMs?: number;
}

// The whitespace the rules trim and collapse. Explicit (not \s) so TypeScript and Python agree.
const WS = ' \\t\\n\\v\\f\\r\\u00a0';
const TRIM = new RegExp(`^[${WS}]+|[${WS}]+$`, 'g');
const RUNS = new RegExp(`[${WS}]+`, 'g');
const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const TIMESTAMP = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?(?:[ ]?([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?))?$/;
const CURRENCY = /^[A-Z]{3}$/;
const SYNONYMS = new Map<string, string>(Object.entries(categorySynonyms as Record<string, string>).filter(([key]) => key !== '_comment'));

/** Trims the rule whitespace at both ends. */
export function trimText(value: string): string {
  // Fast path (most fields): nothing to trim, no regex.
  if (value.length === 0 || (!isRuleSpace(value.charCodeAt(0)) && !isRuleSpace(value.charCodeAt(value.length - 1)))) return value;
  return value.replace(TRIM, '');
}

function isRuleSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0;
}

/** Trims and collapses inner runs of whitespace to one space (titles, categories). */
export function collapseText(value: string): string {
  return trimText(value).replace(RUNS, ' ');
}

/**
 * Category normalisation: collapse whitespace, lower-case, map synonyms
 * (pipeline/base/category_synonyms.json, which the Glue job reads too), otherwise capitalise the first letter of each word.
 */
export function normalizeCategory(raw: string): string {
  const key = collapseText(raw).toLowerCase();
  const mapped = SYNONYMS.get(key);
  if (mapped !== undefined) return mapped;
  return key
    .split(' ')
    .map((word) => (word.length === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
    .join(' ');
}

/** A decimal number in plain or exponent notation; undefined when the text is not one. */
export function parseNumber(raw: string): number | undefined {
  const text = trimText(raw);
  if (!NUMBER.test(text)) return undefined;
  return Number(text);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MIN_MS = 0; // 1970-01-01T00:00:00.000Z
const MAX_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/**
 * Parses an ISO 8601 timestamp (date, optional time, optional fraction, optional Z/±hh[:mm];
 * no zone means UTC) into epoch ms, fraction truncated to milliseconds.
 * Undefined when unparseable or outside 1970..9999.
 */
export function parseTimestamp(raw: string): number | undefined {
  const match = TIMESTAMP.exec(trimText(raw));
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = match[4] === undefined ? 0 : Number(match[4]);
  const minute = match[5] === undefined ? 0 : Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const millis = match[7] === undefined ? 0 : Number((match[7] + '00').slice(0, 3));
  if (month < 1 || month > 12) return undefined;
  const monthDays = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] as number);
  if (day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = match[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const offsetHours = Number(digits.slice(0, 2));
    const offsetMins = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const ms = daysFromCivil(year, month, day) * 86400000 + hour * 3600000 + minute * 60000 + second * 1000 + millis - offsetMinutes * 60000;
  if (ms < MIN_MS || ms > MAX_MS) return undefined;
  return ms;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ` of epoch ms (1970..9999). */
export function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Rounds half away from zero to `decimals` places, as `sign(x) * floor(|x| * 10^d + 0.5) / 10^d`
 * in IEEE doubles: the same operations in Python give the same bits (Math.round would not:
 * it rounds -2.5 to -2, and Python's round() rounds half to even).
 */
export function roundHalfAway(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  const rounded = Math.floor(Math.abs(value) * scale + 0.5) / scale;
  return (value < 0 ? -rounded : rounded) + 0; // + 0 turns -0 into 0
}

let lastTimestamp: { raw: string; ms: number | undefined; iso: string } = { raw: '\u0000', ms: undefined, iso: '' };

/**
 * Validates one raw record (fields in RAW_COLUMNS order). The first failing check, in
 * REASON_CODES order, is the reason.
 */
export function validateFields(fields: readonly string[], options: RuleOptions): Validation {
  if (fields.length !== RAW_COLUMNS.length) return { ok: false, reason: 'MALFORMED_CSV' };
  const [rawId, rawTitle, rawCategory, rawPrice, rawOldPrice, rawCurrency, rawSource, rawObservedAt] = fields as [string, string, string, string, string, string, string, string];
  const productId = trimText(rawId);
  if (productId === '') return { ok: false, reason: 'MISSING_PRODUCT_ID' };
  const priceText = trimText(rawPrice);
  if (priceText === '') return { ok: false, reason: 'MISSING_PRICE' };
  const price = parseNumber(priceText);
  if (price === undefined || !Number.isFinite(price) || price <= 0) return { ok: false, reason: 'INVALID_PRICE' };
  let oldPrice: number | null = null;
  const oldPriceText = trimText(rawOldPrice);
  if (oldPriceText !== '') {
    const parsed = parseNumber(oldPriceText);
    if (parsed === undefined || !Number.isFinite(parsed) || parsed <= 0) return { ok: false, reason: 'INVALID_OLD_PRICE' };
    oldPrice = parsed;
  }
  // Rows of a batch mostly share their timestamp text: parse and format each distinct text once.
  let observedMs: number | undefined;
  let observedAt: string;
  if (rawObservedAt === lastTimestamp.raw) {
    observedMs = lastTimestamp.ms;
    observedAt = lastTimestamp.iso;
  } else {
    observedMs = parseTimestamp(rawObservedAt);
    observedAt = observedMs === undefined ? '' : formatTimestamp(observedMs);
    lastTimestamp = { raw: rawObservedAt, ms: observedMs, iso: observedAt };
  }
  if (observedMs === undefined) return { ok: false, reason: 'INVALID_TIMESTAMP' };
  if (observedMs > options.nowMs + (options.futureToleranceMs ?? DEFAULT_FUTURE_TOLERANCE_MS)) return { ok: false, reason: 'FUTURE_TIMESTAMP' };
  const source = trimText(rawSource);
  if (source === '') return { ok: false, reason: 'MISSING_SOURCE' };
  const currency = trimText(rawCurrency).toUpperCase();
  if (!CURRENCY.test(currency)) return { ok: false, reason: 'INVALID_CURRENCY' };
  return {
    ok: true,
    row: {
      source,
      product_id: productId,
      observed_at: observedAt,
      observed_ms: observedMs,
      dt: observedAt.slice(0, 10),
      title: collapseText(rawTitle),
      category: normalizeCategory(rawCategory),
      price,
      old_price: oldPrice,
      currency,
    },
  };
}

/**
 * The drop columns. `oldPrice` is the row's own old_price, else the product's previous observed
 * price, else null (then no drop is computed and the row is labelled `no drop`).
 * drop_amount is rounded to 4 decimals (money; removes float noise), drop_pct to 2.
 */
export function computeDrop(price: number, oldPrice: number | null, minDropPct: number = DEFAULT_MIN_DROP_PCT): DropFields {
  if (oldPrice === null) return { old_price: null, drop_amount: null, drop_pct: null, is_drop: false, drop_label: 'no drop' };
  const dropAmount = roundHalfAway(oldPrice - price, 4);
  const dropPct = roundHalfAway((100 * dropAmount) / oldPrice, 2);
  const isDrop = dropPct >= minDropPct;
  return { old_price: oldPrice, drop_amount: dropAmount, drop_pct: dropPct, is_drop: isDrop, drop_label: isDrop ? 'drop' : 'no drop' };
}

/**
 * Maps a header record onto RAW_COLUMNS: index of each raw column in the file's records, or
 * undefined when a column is missing (then every data row is MALFORMED_CSV).
 * Column names are trimmed and matched case-insensitively; a UTF-8 BOM is ignored.
 */
export function headerIndexes(header: readonly string[]): number[] | undefined {
  const names = header.map((name, i) => trimText(i === 0 ? name.replace(/^\ufeff/, '') : name).toLowerCase());
  const indexes: number[] = [];
  for (const column of RAW_COLUMNS) {
    const index = names.indexOf(column);
    if (index === -1) return undefined;
    indexes.push(index);
  }
  return indexes;
}
