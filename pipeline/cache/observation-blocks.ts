/**
 * The storage format of observations in the cache: one row of `observation_blocks` holds up to
 * MAX_BLOCK_ROWS observations of one product, in time order (migration 0800-observation-blocks,
 * docs/decisions/0010-observation-blocks.md).
 *
 * A block's `data` is its rows one after the other, each the same fixed-width ASCII decimal
 * fields, so that plain SQL (SQLite 3.40, as the SQLite ODBC driver loads it) reads any row with
 * `substr` and `CAST`: the `observations` view decodes blocks that way; PriceDrop decodes them
 * here. A row per observation cost a B-tree insert each (0.9-1.6 us of SQLite alone on the project
 * machine: more than the whole 10M-row ingest budget); a block costs one insert for all its rows.
 *
 * The fields of a row, each of its block's width (`w_*`; 0: the block has no bytes for it):
 *   t            observed_at - t_first in ms (an integer)
 *   descriptor   descriptors.id of the row (width 0: every row has `last_descriptor`)
 *   price        \
 *   old_price     | the value times its divisor (`d_*` = 10^s, s decimal places) as an integer,
 *   drop_amount   | or, where no s <= 9 represents every value of the block exactly, the
 *   drop_pct     /  shortest round-trip text of the value (divisor 1), left-padded with spaces
 *   flags        one byte: '0' + FLAG_* bits (is_drop, origin, which values are NULL)
 * Integers are zero-padded on the left; negatives start with '-'. Decoding is exact: value =
 * CAST(field AS REAL) / divisor gives back the same double in SQL and here (the encoder checks
 * that m / 10^s is the value; both sides divide two exact doubles). -0 is stored as 0, as SQLite's
 * REAL columns store it.
 *
 * A block whose every drop_amount and drop_pct are what the cleaning rules make of its price and
 * old_price (all rows the ETL and the sync write) stores neither: its drop divisors are 0 and
 * both values are computed again, by derivedDropAmount / derivedDropPct here and the same
 * arithmetic in the views. That is a third of a row's bytes and digits.
 */

/** Rows a block holds at most: the `observation_slots` table numbers 0 to MAX_BLOCK_ROWS - 1. */
export const MAX_BLOCK_ROWS = 512;

/** Bits of a row's flags byte (stored as '0' + flags). */
export const FLAG_DROP = 1;
export const FLAG_ATHENA = 2;
export const FLAG_NO_OLD_PRICE = 4;
export const FLAG_NO_DROP_AMOUNT = 8;
export const FLAG_NO_DROP_PCT = 16;
const FLAGS_BASE = 48;

/** The decimal places of drop_amount and drop_pct in a layout that derives them (their divisor is 0). */
export const DERIVED = -2;

/**
 * drop_amount from price and old_price in a derived block: old_price - price rounded half away
 * from zero to 4 decimals, in doubles, as pipeline/etl/price-rules.ts computeDrop does today.
 * Frozen here on purpose: blocks say they derive, so what they derive must not follow a later
 * change of the rules (rows made by other rules fail the check and store their values).
 */
export function derivedDropAmount(price: number, oldPrice: number): number {
  return roundHalfAway(oldPrice - price, 1e4);
}

/** drop_pct of a derived block: 100 × drop_amount / old_price, half away from zero to 2 decimals. */
export function derivedDropPct(dropAmount: number, oldPrice: number): number {
  return roundHalfAway((100 * dropAmount) / oldPrice, 100);
}

function roundHalfAway(value: number, scale: number): number {
  const rounded = Math.floor(Math.abs(value) * scale + 0.5) / scale;
  return (value < 0 ? -rounded : rounded) + 0;
}

/** Whether a row's drop values are the derived ones (both NULL without an old price). */
function dropDerives(price: number, oldPrice: number, dropAmount: number, dropPct: number): boolean {
  if (oldPrice !== oldPrice) return dropAmount !== dropAmount && dropPct !== dropPct;
  const amount = derivedDropAmount(price, oldPrice);
  return dropAmount === amount && dropPct === derivedDropPct(amount, oldPrice);
}

/** Decimal places tried for a value column (divisor 10^s). */
const MAX_SCALE = 9;
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Integer fields are read digit by digit up to this many digits (exact in doubles); longer text goes through parseFloat. */
const MAX_INTEGER_DIGITS = 15;
/** A field this wide holds any double's shortest text ("-1.2345678901234567e-300"). */
const MAX_FIELD = 24;

/**
 * Observations as columns: a product's rows, or the pending rows of a writer. NaN is NULL in
 * oldPrice, dropAmount and dropPct; `flags` holds FLAG_DROP and FLAG_ATHENA (the NULL bits are
 * the encoder's business).
 */
export interface RowColumns {
  t: Float64Array;
  descriptor: Int32Array;
  price: Float64Array;
  oldPrice: Float64Array;
  dropAmount: Float64Array;
  dropPct: Float64Array;
  flags: Uint8Array;
}

/**
 * How a block's rows are written: field widths, and for the four values their decimal places
 * (-1: text). `descriptor` is the block's one descriptor when wDescriptor is 0.
 */
export interface BlockLayout {
  wT: number;
  wDescriptor: number;
  wPrice: number;
  wOldPrice: number;
  wDropAmount: number;
  wDropPct: number;
  sPrice: number;
  sOldPrice: number;
  sDropAmount: number;
  sDropPct: number;
}

/** An `observation_blocks` row, without its id and product. */
export interface BlockRecord {
  t_first: number;
  t_last: number;
  n: number;
  last_price: number;
  last_descriptor: number;
  w_t: number;
  w_descriptor: number;
  w_price: number;
  w_old_price: number;
  w_drop_amount: number;
  w_drop_pct: number;
  d_price: number;
  d_old_price: number;
  d_drop_amount: number;
  d_drop_pct: number;
  data: Uint8Array;
}

/** The columns of `observation_blocks` a block is written with, after `product`. */
export const BLOCK_COLUMNS = [
  't_first',
  't_last',
  'n',
  'last_price',
  'last_descriptor',
  'w_t',
  'w_descriptor',
  'w_price',
  'w_old_price',
  'w_drop_amount',
  'w_drop_pct',
  'd_price',
  'd_old_price',
  'd_drop_amount',
  'd_drop_pct',
  'data',
] as const satisfies readonly (keyof BlockRecord)[];

/** Inserts one block: `product`, then BLOCK_COLUMNS (blockParams gives the values). */
export const INSERT_BLOCK_SQL = `INSERT INTO observation_blocks (product, ${BLOCK_COLUMNS.join(', ')}) VALUES (${Array(BLOCK_COLUMNS.length + 1).fill('?').join(', ')})`;

/** The values of INSERT_BLOCK_SQL for a block of `product`, written into `into`. */
export function blockParams(product: number, b: BlockRecord, into: unknown[] = []): unknown[] {
  into[0] = product;
  for (let k = 0; k < BLOCK_COLUMNS.length; k++) into[k + 1] = b[BLOCK_COLUMNS[k] as keyof BlockRecord];
  into[BLOCK_COLUMNS.length] = asBuffer(b.data);
  return into;
}

/** better-sqlite3 binds Buffers as BLOBs: a view of the same bytes, not a copy. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

export function rowColumns(capacity: number): RowColumns {
  return {
    t: new Float64Array(capacity),
    descriptor: new Int32Array(capacity),
    price: new Float64Array(capacity),
    oldPrice: new Float64Array(capacity),
    dropAmount: new Float64Array(capacity),
    dropPct: new Float64Array(capacity),
    flags: new Uint8Array(capacity),
  };
}

/** Sets row k of `to`. */
export function setRow(to: RowColumns, k: number, t: number, descriptor: number, price: number, oldPrice: number, dropAmount: number, dropPct: number, flags: number): void {
  to.t[k] = t;
  to.descriptor[k] = descriptor;
  to.price[k] = price;
  to.oldPrice[k] = oldPrice;
  to.dropAmount[k] = dropAmount;
  to.dropPct[k] = dropPct;
  to.flags[k] = flags;
}

/** Copies row r of `from` into row k of `to`. */
export function copyRow(from: RowColumns, r: number, to: RowColumns, k: number): void {
  setRow(to, k, from.t[r] as number, from.descriptor[r] as number, from.price[r] as number, from.oldPrice[r] as number, from.dropAmount[r] as number, from.dropPct[r] as number, from.flags[r] as number);
}

/** Bytes of one row under a layout. */
export function rowBytes(l: BlockLayout): number {
  return l.wT + l.wDescriptor + l.wPrice + l.wOldPrice + l.wDropAmount + l.wDropPct + 1;
}

/** The bytes a block of `rows` rows needs at most, whatever its layout (for sizing a buffer). */
export function maxBlockBytes(rows: number): number {
  return rows * (16 + 10 + 4 * MAX_FIELD + 1);
}

export function digits(x: number): number {
  let d = 1;
  while (x >= 10) {
    x = Math.floor(x / 10);
    d++;
  }
  return d;
}

/** The width and decimal places (-1: text) that hold every non-NULL value of values[from, to) exactly. */
function valueLayout(values: Float64Array, from: number, to: number, minScale = 0): { width: number; scale: number } {
  let s = minScale;
  let any = false;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v !== v) continue;
    any = true;
    while (s <= MAX_SCALE) {
      const p = POW10[s] as number;
      const m = Math.round(v * p);
      if (m / p === v && Math.abs(m) <= Number.MAX_SAFE_INTEGER) break;
      s++;
    }
    if (s > MAX_SCALE) break;
  }
  if (!any) return { width: 0, scale: minScale };
  if (s <= MAX_SCALE) {
    // Every value again at the final s (exact at a smaller s implies exact at a larger one short
    // of overflow; this pass also finds the width).
    const p = POW10[s] as number;
    let maxAbs = 0;
    let negative = false;
    let exact = true;
    for (let i = from; i < to; i++) {
      const v = values[i] as number;
      if (v !== v) continue;
      const m = Math.round(v * p);
      if (m / p !== v || Math.abs(m) > Number.MAX_SAFE_INTEGER) {
        exact = false;
        break;
      }
      const a = m < 0 ? -m : m;
      if (a > maxAbs) maxAbs = a;
      if (m < 0) negative = true;
    }
    if (exact) return { width: digits(maxAbs) + (negative ? 1 : 0), scale: s };
  }
  let width = 1;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v === v) width = Math.max(width, String(v).length);
  }
  return { width, scale: -1 };
}

/**
 * The tightest layout for rows[from, to) with t offsets from `t0`. `margin` adds that many
 * digits to each value and descriptor width (room for the rows a writer appends later; their t
 * offsets only grow, and a row that outgrows the layout is written again under a wider one).
 */
export function fitLayout(rows: RowColumns, from: number, to: number, t0: number, margin = 0): BlockLayout {
  let maxOffset = 0;
  let sameDescriptor = true;
  let maxDescriptor = 0;
  const first = rows.descriptor[from] as number;
  for (let i = from; i < to; i++) {
    const off = (rows.t[i] as number) - t0;
    if (off > maxOffset) maxOffset = off;
    const d = rows.descriptor[i] as number;
    if (d !== first) sameDescriptor = false;
    if (d > maxDescriptor) maxDescriptor = d;
  }
  let derives = true;
  for (let i = from; i < to && derives; i++) derives = dropDerives(rows.price[i] as number, rows.oldPrice[i] as number, rows.dropAmount[i] as number, rows.dropPct[i] as number);
  const price = valueLayout(rows.price, from, to);
  const old = valueLayout(rows.oldPrice, from, to);
  const amount = derives ? { width: 0, scale: DERIVED } : valueLayout(rows.dropAmount, from, to);
  const pct = derives ? { width: 0, scale: DERIVED } : valueLayout(rows.dropPct, from, to);
  const grow = (w: number) => (w === 0 ? 0 : Math.min(MAX_FIELD, w + margin));
  return {
    wT: digits(maxOffset),
    wDescriptor: sameDescriptor ? 0 : digits(maxDescriptor) + margin,
    wPrice: grow(price.width),
    wOldPrice: grow(old.width),
    wDropAmount: grow(amount.width),
    wDropPct: grow(pct.width),
    sPrice: price.scale,
    sOldPrice: old.scale,
    sDropAmount: amount.scale,
    sDropPct: pct.scale,
  };
}

/** ASCII of "0000" to "9999" as little-endian 32-bit words: four digits per division and store (a third faster than digit by digit). */
const QUADS = new Uint32Array(10000);
for (let i = 0; i < 10000; i++) {
  const text = String(i).padStart(4, '0');
  QUADS[i] = text.charCodeAt(0) | (text.charCodeAt(1) << 8) | (text.charCodeAt(2) << 16) | (text.charCodeAt(3) << 24);
}
const POW10_FLOAT = Float64Array.from(POW10);

/** A view of bytes that writes 32-bit words anywhere (writeRow's fields are not aligned). */
export function wordView(out: Uint8Array): DataView {
  return new DataView(out.buffer, out.byteOffset, out.byteLength);
}

/** Writes x (a non-negative integer below 10^width) into out[at, at + width), zero-padded. */
function writeDigits(out: Uint8Array, view: DataView, at: number, width: number, x: number): void {
  let k = at + width;
  if (x >= 2147483648) {
    // Eight low digits with 32-bit arithmetic, then the rest.
    const high = Math.floor(x / 1e8);
    const low = (x - high * 1e8) | 0;
    const q = (low / 10000) | 0;
    view.setUint32(k - 4, QUADS[low - q * 10000] as number, true);
    view.setUint32(k - 8, QUADS[q] as number, true);
    k -= 8;
    x = high;
  }
  let y = x | 0;
  while (k - at >= 4) {
    const q = (y / 10000) | 0;
    k -= 4;
    view.setUint32(k, QUADS[y - q * 10000] as number, true);
    y = q;
  }
  while (k > at) {
    const q = (y / 10) | 0;
    out[--k] = 48 + y - q * 10;
    y = q;
  }
}

function writeText(out: Uint8Array, at: number, width: number, v: number): boolean {
  const text = String(v);
  if (text.length > width) return false;
  const pad = width - text.length;
  for (let k = 0; k < pad; k++) out[at + k] = 32;
  for (let k = 0; k < text.length; k++) out[at + pad + k] = text.charCodeAt(k);
  return true;
}

/**
 * Writes value v into out[at, at + width) at `scale` decimal places (-1: text); false when it
 * does not fit (not exact at that scale, or too wide). NaN (NULL) writes zeros.
 */
function writeValue(out: Uint8Array, view: DataView, at: number, width: number, scale: number, v: number): boolean {
  if (v !== v) {
    for (let k = at + width - 1; k >= at; k--) out[k] = 48;
    return true;
  }
  if (width === 0) return false;
  if (scale < 0) return writeText(out, at, width, v);
  const p = POW10_FLOAT[scale] as number;
  const m = Math.round(v * p);
  if (m / p !== v) return false;
  if (m >= 0) {
    if (m >= (POW10_FLOAT[width] as number)) return false;
    writeDigits(out, view, at, width, m);
  } else {
    if (-m >= (POW10_FLOAT[width - 1] as number)) return false;
    out[at] = 45;
    writeDigits(out, view, at + 1, width - 1, -m);
  }
  return true;
}

/**
 * Writes one row at `at` under layout `l` (t offset from t0; `descriptor` must be the block's
 * when l.wDescriptor is 0; `view`: wordView(out)). False, with garbage written, when the row does
 * not fit the layout: the caller picks a wider one (fitLayout) and writes the block again.
 */
export function writeRow(out: Uint8Array, view: DataView, at: number, l: BlockLayout, t0: number, blockDescriptor: number, t: number, descriptor: number, price: number, oldPrice: number, dropAmount: number, dropPct: number, flags: number): boolean {
  const off = t - t0;
  if (!(off >= 0 && off < (POW10_FLOAT[l.wT] as number) && Number.isSafeInteger(off))) return false;
  writeDigits(out, view, at, l.wT, off);
  at += l.wT;
  if (l.wDescriptor === 0) {
    if (descriptor !== blockDescriptor) return false;
  } else {
    if (!(descriptor >= 0 && descriptor < (POW10_FLOAT[l.wDescriptor] as number))) return false;
    writeDigits(out, view, at, l.wDescriptor, descriptor);
    at += l.wDescriptor;
  }
  if (!(price === price) || !writeValue(out, view, at, l.wPrice, l.sPrice, price)) return false;
  at += l.wPrice;
  if (!writeValue(out, view, at, l.wOldPrice, l.sOldPrice, oldPrice)) return false;
  at += l.wOldPrice;
  if (l.sDropAmount === DERIVED) {
    if (!dropDerives(price, oldPrice, dropAmount, dropPct)) return false;
  } else {
    if (!writeValue(out, view, at, l.wDropAmount, l.sDropAmount, dropAmount)) return false;
    at += l.wDropAmount;
    if (!writeValue(out, view, at, l.wDropPct, l.sDropPct, dropPct)) return false;
    at += l.wDropPct;
  }
  let f = flags & (FLAG_DROP | FLAG_ATHENA);
  if (oldPrice !== oldPrice) f |= FLAG_NO_OLD_PRICE;
  if (dropAmount !== dropAmount) f |= FLAG_NO_DROP_AMOUNT;
  if (dropPct !== dropPct) f |= FLAG_NO_DROP_PCT;
  out[at] = FLAGS_BASE + f;
  return true;
}

/** The record of a block of `n` rows written at out[at, ...) under `l`; its data is a view of out. */
export function blockRecord(l: BlockLayout, out: Uint8Array, at: number, n: number, tFirst: number, tLast: number, lastPrice: number, lastDescriptor: number): BlockRecord {
  const divisor = (s: number) => (s === DERIVED ? 0 : s < 0 ? 1 : (POW10[s] as number));
  return {
    t_first: tFirst,
    t_last: tLast,
    n,
    last_price: lastPrice,
    last_descriptor: lastDescriptor,
    w_t: l.wT,
    w_descriptor: l.wDescriptor,
    w_price: l.wPrice,
    w_old_price: l.wOldPrice,
    w_drop_amount: l.wDropAmount,
    w_drop_pct: l.wDropPct,
    d_price: divisor(l.sPrice),
    d_old_price: divisor(l.sOldPrice),
    d_drop_amount: divisor(l.sDropAmount),
    d_drop_pct: divisor(l.sDropPct),
    data: out.subarray(at, at + n * rowBytes(l)),
  };
}

/**
 * Encodes rows[from, to) of one product (in strictly increasing time, at most MAX_BLOCK_ROWS)
 * into `out` at `at` with the tightest layout; the record's data is a view of `out`. Throws on a
 * value that is not a finite number (the rules never produce one).
 */
export function encodeBlock(rows: RowColumns, from: number, to: number, out: Uint8Array, at = 0): BlockRecord {
  const n = to - from;
  if (n < 1 || n > MAX_BLOCK_ROWS) throw new Error(`observation block: ${n} rows (1 to ${MAX_BLOCK_ROWS})`);
  const { t, descriptor, price, oldPrice, dropAmount, dropPct, flags } = rows;
  for (let i = from; i < to; i++) {
    const ti = t[i] as number;
    if (i > from && !(ti > (t[i - 1] as number))) throw new Error('observation block: rows are not in strictly increasing time order');
    if (!Number.isSafeInteger(ti)) throw new Error('observation block: observed_at is not a whole number of ms');
    if (!Number.isFinite(price[i] as number) || !finiteOrNull(oldPrice[i] as number) || !finiteOrNull(dropAmount[i] as number) || !finiteOrNull(dropPct[i] as number)) {
      throw new Error(`observation block: a value of the row at ${new Date(ti).toISOString()} is not a finite number`);
    }
  }
  const tFirst = t[from] as number;
  const l = fitLayout(rows, from, to, tFirst);
  const stride = rowBytes(l);
  const blockDescriptor = descriptor[from] as number;
  const view = wordView(out);
  for (let i = from, p = at; i < to; i++, p += stride) {
    const ok = writeRow(out, view, p, l, tFirst, blockDescriptor, t[i] as number, descriptor[i] as number, price[i] as number, oldPrice[i] as number, dropAmount[i] as number, dropPct[i] as number, flags[i] as number);
    if (!ok) throw new Error('observation block: a row does not fit the layout fitted to it');
  }
  return blockRecord(l, out, at, n, tFirst, t[to - 1] as number, price[to - 1] as number, descriptor[to - 1] as number);
}

function finiteOrNull(v: number): boolean {
  return v !== v || Number.isFinite(v);
}

/** A field: digits (with '-' and leading spaces) read as an integer, anything else through parseFloat. */
function readField(data: Uint8Array, at: number, width: number): number {
  const end = at + width;
  let k = at;
  while (k < end && data[k] === 32) k++;
  let negative = false;
  if (data[k] === 45) {
    negative = true;
    k++;
  }
  if (end - k > MAX_INTEGER_DIGITS) return parseText(data, at, end);
  let m = 0;
  for (; k < end; k++) {
    const c = data[k] as number;
    if (c < 48 || c > 57) return parseText(data, at, end);
    m = m * 10 + (c - 48);
  }
  return negative ? -m : m;
}

function parseText(data: Uint8Array, from: number, to: number): number {
  let text = '';
  for (let k = from; k < to; k++) text += String.fromCharCode(data[k] as number);
  return parseFloat(text);
}

function stride(b: BlockRecord): number {
  const s = b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1;
  if (s * b.n !== b.data.length || b.n < 1) throw new Error(`observation block: ${b.data.length} bytes of data, the layout needs ${s * b.n}`);
  return s;
}

/** Decodes only the times of a block into `into` at `at`; returns the row count. */
export function decodeTimes(b: BlockRecord, into: Float64Array, at = 0): number {
  const s = stride(b);
  for (let i = 0; i < b.n; i++) into[at + i] = b.t_first + readField(b.data, i * s, b.w_t);
  return b.n;
}

/** Decodes a block into `into` at `at` (flags: FLAG_DROP | FLAG_ATHENA); returns the row count. */
export function decodeBlock(b: BlockRecord, into: RowColumns, at = 0): number {
  const s = stride(b);
  const { data, n } = b;
  const oDescriptor = b.w_t;
  const oPrice = oDescriptor + b.w_descriptor;
  const oOld = oPrice + b.w_price;
  const oAmount = oOld + b.w_old_price;
  const oPct = oAmount + b.w_drop_amount;
  const oFlags = oPct + b.w_drop_pct;
  for (let i = 0, p = 0; i < n; i++, p += s) {
    const f = (data[p + oFlags] as number) - FLAGS_BASE;
    const r = at + i;
    into.t[r] = b.t_first + readField(data, p, b.w_t);
    into.descriptor[r] = b.w_descriptor === 0 ? b.last_descriptor : readField(data, p + oDescriptor, b.w_descriptor);
    into.price[r] = readField(data, p + oPrice, b.w_price) / b.d_price;
    into.oldPrice[r] = f & FLAG_NO_OLD_PRICE ? NaN : readField(data, p + oOld, b.w_old_price) / b.d_old_price;
    if (b.d_drop_amount === 0) {
      const price = into.price[r] as number;
      const old = into.oldPrice[r] as number;
      const amount = old === old ? derivedDropAmount(price, old) : NaN;
      into.dropAmount[r] = amount;
      into.dropPct[r] = old === old ? derivedDropPct(amount, old) : NaN;
    } else {
      into.dropAmount[r] = f & FLAG_NO_DROP_AMOUNT ? NaN : readField(data, p + oAmount, b.w_drop_amount) / b.d_drop_amount;
      into.dropPct[r] = f & FLAG_NO_DROP_PCT ? NaN : readField(data, p + oPct, b.w_drop_pct) / b.d_drop_pct;
    }
    into.flags[r] = f & (FLAG_DROP | FLAG_ATHENA);
  }
  return n;
}
