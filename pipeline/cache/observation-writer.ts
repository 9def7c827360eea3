import type { Statement } from 'better-sqlite3';
import type { CacheDb } from './cache-db';
import { createRollupMaintainer } from './dashboard-rollups';

/**
 * A cleaned, labelled observation: one row of the `observations` view. Produced by the local ETL
 * (pipeline/etl/price-rules.ts) and by the Athena sync (rows of the Glue job's cleaned/ table).
 */
export interface CleanRow {
  source: string;
  product_id: string;
  /** UTC ISO 8601 with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  observed_at: string;
  /** The same instant in ms since 1970-01-01 UTC, when the row's maker has it (saves parsing observed_at again). */
  observed_ms?: number;
  /** `YYYY-MM-DD` of observed_at. */
  dt: string;
  title: string;
  category: string;
  price: number;
  old_price: number | null;
  currency: string;
  drop_amount: number | null;
  drop_pct: number | null;
  is_drop: boolean;
  drop_label: 'drop' | 'no drop';
}

export interface WriteResult {
  /** Rows that were new. */
  inserted: number;
  /** Rows whose (source, product_id, observed_at) was already in the cache (or earlier in the batch). */
  duplicates: number;
}

export interface ObservationWriterOptions {
  /** Recorded in the `origin` column: 'local' (desktop ETL, the default) or 'athena' (cloud sync). */
  origin?: 'local' | 'athena';
}

/** What the writer knows of a product: its latest stored (or written in this transaction) observation. */
export interface ProductRef {
  /** observed_at (ms) of the product's latest observation; -Infinity when it has none. */
  readonly lastT: number;
  /** Its price (NaN when none). */
  readonly lastPrice: number;
}

export interface ObservationWriter {
  /**
   * Inserts a batch; the first row for a key wins, later ones count as duplicates.
   * Runs inside the caller's transaction (the caller commits), so a file's rows and its
   * manifest entry can commit together. `refs[i]`, when given, is `product()` of row i's product
   * (saves the writer that lookup; a stale ref is looked up again).
   */
  writeBatch(rows: readonly CleanRow[], refs?: readonly ProductRef[]): WriteResult;
  /** The writer's record of a product (created on first sight). */
  product(source: string, productId: string): ProductRef;
  /** Drops what the writer remembers; call after rolling back a transaction it wrote in. */
  forget(): void;
  /**
   * Writes the pending latest-observation updates of `product_keys` (kept write-behind: one
   * update per product and transaction, not per row) and the rollup deltas. Call it before committing.
   */
  flush(): void;
}

export const HOUR_MS = 3_600_000;
/** Bits of observation_rows.flags. */
export const FLAG_DROP = 1;
export const FLAG_ATHENA = 2;
/** Rows per multi-row INSERT: the per-call cost, not SQLite, dominates a 9-column row. */
const ROWS_PER_INSERT = 32;
const COLUMNS = 9;
/** Above this many pending products or rollup slots, flush before the caller asks (bounds memory). */
const MAX_PENDING = 50_000;

function isDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function num(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/**
 * Milliseconds since 1970-01-01 UTC of an ISO 8601 instant. The canonical
 * `YYYY-MM-DDTHH:MM:SS.sssZ` is read digit by digit (a tenth of Date.parse's cost); anything else
 * goes through Date.parse.
 */
export function instantMs(iso: string): number {
  if (
    iso.length === 24 &&
    iso.charCodeAt(4) === 45 &&
    iso.charCodeAt(7) === 45 &&
    iso.charCodeAt(10) === 84 &&
    iso.charCodeAt(13) === 58 &&
    iso.charCodeAt(16) === 58 &&
    iso.charCodeAt(19) === 46 &&
    iso.charCodeAt(23) === 90 &&
    isDigits(iso, 0, 4) &&
    isDigits(iso, 5, 7) &&
    isDigits(iso, 8, 10) &&
    isDigits(iso, 11, 13) &&
    isDigits(iso, 14, 16) &&
    isDigits(iso, 17, 19) &&
    isDigits(iso, 20, 23)
  ) {
    const month = num(iso, 5, 7);
    const day = num(iso, 8, 10);
    const hour = num(iso, 11, 13);
    const minute = num(iso, 14, 16);
    const second = num(iso, 17, 19);
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour < 24 && minute < 60 && second < 60) {
      return Date.UTC(num(iso, 0, 4), month - 1, day) + hour * 3_600_000 + minute * 60_000 + second * 1000 + num(iso, 20, 23);
    }
  }
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) throw new Error(`observed_at is not an ISO 8601 instant: ${JSON.stringify(iso)}`);
  return ms;
}

/**
 * The rows of a batch in (hour, product, time) order, input order among equal keys (so the first
 * row of a key still comes first): one numeric sort of packed (hour, product, index) keys, then
 * each (hour, product) run, a handful of rows, by time. Undefined (input order) when the packed keys
 * would not fit in a double's 53 bits.
 */
function keyOrder(n: number, hourOf: Float64Array, times: Float64Array, entries: readonly ProductEntry[], minHour: number, maxHour: number, maxProduct: number): Float64Array | undefined {
  if (n < 2) return undefined;
  const groups = (maxHour - minHour + 1) * (maxProduct + 1);
  if (!(groups * n < 2 ** 53)) return undefined;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (((hourOf[i] as number) - minHour) * (maxProduct + 1) + (entries[i] as ProductEntry).id) * n + i;
  keys.sort();
  const order = keys;
  let runStart = 0;
  let runGroup = -1;
  for (let k = 0; k < n; k++) {
    const key = keys[k] as number;
    const group = Math.floor(key / n);
    const i = key - group * n;
    order[k] = i;
    if (group !== runGroup) {
      runGroup = group;
      runStart = k;
      continue;
    }
    // Insertion sort by (time, index) within the run.
    const t = times[i] as number;
    let j = k - 1;
    while (j >= runStart) {
      const other = order[j] as number;
      const ot = times[other] as number;
      if (ot < t || (ot === t && other < i)) break;
      order[j + 1] = other;
      j--;
    }
    order[j + 1] = i;
  }
  return order;
}

/** A product as the writer knows it. */
interface ProductEntry extends ProductRef {
  /** The writer and the cache generation it belongs to (a ref from before a reset is looked up again). */
  owner: object;
  generation: number;
  id: number;
  source: string;
  productId: string;
  /** Latest observed_at (ms) stored or written in this transaction; -Infinity when none: a later row cannot be a duplicate. */
  lastT: number;
  lastPrice: number;
  /** The descriptor of the product's previous row (a title rarely changes), to skip the descriptor map. */
  title: string;
  category: string;
  currency: string;
  descriptor: number;
  /** The latest row of this transaction, not yet written to `product_keys`: time, price, descriptor. */
  dirty: boolean;
  pendingT: number;
  pendingPrice: number;
  pendingDescriptor: number;
  /** The rollups' product number in its category (dashboard-rollups.ts). */
  rollupNumbering: unknown;
  rollupN: number;
}

/**
 * The single path by which cleaned rows enter the cache: `observation_rows` (narrow rows keyed
 * (hour, product, t), dictionary-coded through `product_keys` and `descriptors`, migration
 * 0700-narrow-observations), `observation_hours`, each product's latest observation in
 * `product_keys` (invariant after flush(): last_t is the latest t of that product's rows; the
 * `products` view shows it), and the dashboard rollups (dashboard-rollups.ts).
 *
 * Duplicates are decided by the primary key, but a row later than everything stored for its
 * product cannot be a duplicate: such rows (nearly all of them: producers write in time order)
 * go in multi-row INSERTs of ROWS_PER_INSERT, the others one by one with `INSERT OR IGNORE`,
 * after the pending multi-row chunk is written so that the first row of a key still wins.
 * docs/decisions/0008-narrow-observations.md.
 */
export function createObservationWriter(db: CacheDb, options: ObservationWriterOptions = {}): ObservationWriter {
  const originFlag = options.origin === 'athena' ? FLAG_ATHENA : 0;
  const placeholders = `(${Array(COLUMNS).fill('?').join(', ')})`;
  const insertSql = 'INSERT OR IGNORE INTO observation_rows (hour, product, t, descriptor, price, old_price, drop_amount, drop_pct, flags) VALUES ';
  const insertOne = db.prepare(insertSql + placeholders);
  // One statement per chunk size, prepared on first use: a chunk cut short (before a possible
  // duplicate, at the end of a batch) still goes in one call.
  const insertChunk: Statement[] = [];
  const chunkStatement = (rows: number): Statement =>
    (insertChunk[rows] ??= rows === 1 ? insertOne : db.prepare(insertSql + Array(rows).fill(placeholders).join(', ')));
  const chunkParams: (number | null)[][] = [];
  const updateLatest = db.prepare(
    'UPDATE product_keys SET last_t = ?, last_price = ?, last_descriptor = ? WHERE id = ? AND (last_t IS NULL OR last_t < ?)',
  );
  const selectProduct = db.prepare('SELECT id, last_t AS last, last_price AS price FROM product_keys WHERE source = ? AND product_id = ?');
  // Only for a key without a latest observation (rows written through the view's trigger): one seek per hour.
  const selectLast = db.prepare(
    'SELECT o.t, o.price FROM observation_hours s CROSS JOIN observation_rows o ON o.hour = s.hour AND o.product = ? ORDER BY o.t DESC LIMIT 1',
  );
  const insertProductKey = db.prepare('INSERT INTO product_keys (source, product_id) VALUES (?, ?)');
  const productKeyAt = db.prepare('SELECT source, product_id FROM product_keys WHERE id = ?').raw();
  const selectDescriptor = db.prepare('SELECT id FROM descriptors WHERE title = ? AND category = ? AND currency = ?').pluck();
  const insertDescriptor = db.prepare('INSERT INTO descriptors (title, category, currency) VALUES (?, ?, ?)');
  const descriptorAt = db.prepare('SELECT title, category, currency FROM descriptors WHERE id = ?').raw();
  const allHours = db.prepare('SELECT hour FROM observation_hours').pluck();
  const hourExists = db.prepare('SELECT 1 FROM observation_hours WHERE hour = ?').pluck();
  const insertHour = db.prepare('INSERT OR IGNORE INTO observation_hours (hour) VALUES (?)');
  const rollups = createRollupMaintainer(db);

  // Caches of committed (or this transaction's) dictionary entries; reset() drops them.
  let products = new Map<string, Map<string, ProductEntry>>();
  let descriptors = new Map<string, number>();
  const owner = {};
  let generation = 0;
  let hours = new Set<number>(allHours.all() as number[]);
  let dirty: ProductEntry[] = [];
  // The newest entry of each dictionary this writer created: still there at the next batch means
  // every earlier one is too (they committed, or belong to the open transaction); gone or
  // different means a rollback, and the caches are dropped.
  let newestProduct: ProductEntry | undefined;
  let newestDescriptor: { id: number; title: string; category: string; currency: string } | undefined;
  let newestHour: number | undefined;

  const params: (number | null)[] = new Array<number | null>(ROWS_PER_INSERT * COLUMNS);
  let chunkRows = 0;

  function reset(): void {
    generation++;
    products = new Map();
    descriptors = new Map();
    hours = new Set(allHours.all() as number[]);
    dirty = [];
    newestProduct = undefined;
    newestDescriptor = undefined;
    newestHour = undefined;
  }

  function allocationsHold(): boolean {
    if (newestProduct) {
      const row = productKeyAt.get(newestProduct.id) as [string, string] | undefined;
      if (!row || row[0] !== newestProduct.source || row[1] !== newestProduct.productId) return false;
    }
    if (newestDescriptor) {
      const row = descriptorAt.get(newestDescriptor.id) as [string, string, string] | undefined;
      if (!row || row[0] !== newestDescriptor.title || row[1] !== newestDescriptor.category || row[2] !== newestDescriptor.currency) return false;
    }
    return newestHour === undefined || hourExists.get(newestHour) !== undefined;
  }

  function productEntry(source: string, productId: string): ProductEntry {
    let bySource = products.get(source);
    if (bySource === undefined) products.set(source, (bySource = new Map()));
    let entry = bySource.get(productId);
    if (entry !== undefined) return entry;
    const known = selectProduct.get(source, productId) as { id: number; last: number | null; price: number | null } | undefined;
    let lastT = -Infinity;
    let lastPrice = NaN;
    let id: number;
    if (known) {
      id = known.id;
      const last = known.last === null ? (selectLast.get(id) as { t: number; price: number } | undefined) : { t: known.last, price: known.price as number };
      if (last) {
        lastT = last.t;
        lastPrice = last.price;
      }
    } else {
      id = Number(insertProductKey.run(source, productId).lastInsertRowid);
    }
    entry = {
      owner,
      generation,
      id,
      source,
      productId,
      lastT,
      lastPrice,
      title: '',
      category: '',
      currency: '',
      descriptor: -1,
      dirty: false,
      pendingT: -Infinity,
      pendingPrice: NaN,
      pendingDescriptor: -1,
      rollupNumbering: undefined,
      rollupN: -1,
    };
    bySource.set(productId, entry);
    if (!known) newestProduct = entry;
    return entry;
  }

  function descriptorOf(entry: ProductEntry, row: CleanRow): number {
    if (entry.descriptor >= 0 && entry.title === row.title && entry.category === row.category && entry.currency === row.currency) return entry.descriptor;
    const key = row.title + '\u0001' + row.category + '\u0001' + row.currency;
    let id = descriptors.get(key);
    if (id === undefined) {
      id = selectDescriptor.get(row.title, row.category, row.currency) as number | undefined;
      if (id === undefined) {
        id = Number(insertDescriptor.run(row.title, row.category, row.currency).lastInsertRowid);
        newestDescriptor = { id, title: row.title, category: row.category, currency: row.currency };
      }
      descriptors.set(key, id);
    }
    entry.title = row.title;
    entry.category = row.category;
    entry.currency = row.currency;
    entry.descriptor = id;
    return id;
  }

  function writeChunk(): void {
    if (chunkRows === 0) return;
    const values = chunkRows === ROWS_PER_INSERT ? params : (chunkParams[chunkRows] ??= new Array<number | null>(chunkRows * COLUMNS));
    if (values !== params) for (let v = 0; v < chunkRows * COLUMNS; v++) values[v] = params[v] as number | null;
    const changes = chunkStatement(chunkRows).run(values).changes;
    if (changes !== chunkRows) {
      // Another connection wrote these keys since this transaction read `product_keys`: the rows
      // were counted as new. Failing the transaction is the honest outcome; a retry re-reads.
      throw new Error(`observation writer: ${chunkRows - changes} of ${chunkRows} rows were already stored by another connection; retry the batch`);
    }
    chunkRows = 0;
  }

  /** Books a row that was (or will be, with the pending chunk) inserted. */
  function accept(entry: ProductEntry, row: CleanRow, t: number, descriptor: number): void {
    rollups.add(row, entry);
    if (!entry.dirty) {
      entry.dirty = true;
      dirty.push(entry);
      entry.pendingT = t;
      entry.pendingPrice = row.price;
      entry.pendingDescriptor = descriptor;
    } else if (t > entry.pendingT) {
      entry.pendingT = t;
      entry.pendingPrice = row.price;
      entry.pendingDescriptor = descriptor;
    }
    if (t > entry.lastT) {
      entry.lastT = t;
      entry.lastPrice = row.price;
    }
  }

  function flush(): void {
    writeChunk();
    for (const entry of dirty) {
      updateLatest.run(entry.pendingT, entry.pendingPrice, entry.pendingDescriptor, entry.id, entry.pendingT);
      entry.dirty = false;
    }
    dirty = [];
    rollups.flush();
  }

  function product(source: string, productId: string): ProductRef {
    return productEntry(source, productId);
  }

  function writeBatch(rows: readonly CleanRow[], refs?: readonly ProductRef[]): WriteResult {
    if (rollups.beginBatch() || !allocationsHold()) reset();
    const n = rows.length;
    // Pass 1: times, hours and dictionary ids.
    const times = new Float64Array(n);
    const hourOf = new Float64Array(n);
    const entries: ProductEntry[] = new Array<ProductEntry>(n);
    const descriptorIds = new Int32Array(n);
    let lastHour = NaN;
    let maxT = -Infinity;
    let minHour = Infinity;
    let maxHour = -Infinity;
    let maxProduct = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as CleanRow;
      const t = row.observed_ms ?? instantMs(row.observed_at);
      const hour = Math.floor(t / HOUR_MS);
      if (row.observed_at.length === 24 && !row.observed_at.startsWith(row.dt)) {
        throw new Error(`observation writer: dt ${row.dt} is not the day of observed_at ${row.observed_at}`);
      }
      if (hour !== lastHour && !hours.has(hour)) {
        insertHour.run(hour);
        hours.add(hour);
        newestHour = hour;
      }
      let entry = refs?.[i] as ProductEntry | undefined;
      if (entry === undefined || entry.owner !== owner || entry.generation !== generation) entry = productEntry(row.source, row.product_id);
      times[i] = t;
      hourOf[i] = hour;
      entries[i] = entry;
      descriptorIds[i] = descriptorOf(entry, row);
      lastHour = hour;
      if (hour < minHour) minHour = hour;
      if (hour > maxHour) maxHour = hour;
      if (entry.id > maxProduct) maxProduct = entry.id;
    }
    const order = keyOrder(n, hourOf, times, entries, minHour, maxHour, maxProduct);
    // Pass 2: in key order (B-tree appends, a product's rows together and in time order); the first row of a key wins.
    let inserted = 0;
    for (let k = 0; k < n; k++) {
      const i = order === undefined ? k : (order[k] as number);
      const row = rows[i] as CleanRow;
      const entry = entries[i] as ProductEntry;
      const t = times[i] as number;
      const flags = (row.is_drop ? FLAG_DROP : 0) | originFlag;
      if (t > entry.lastT) {
        const at = chunkRows * COLUMNS;
        params[at] = hourOf[i] as number;
        params[at + 1] = entry.id;
        params[at + 2] = t;
        params[at + 3] = descriptorIds[i] as number;
        params[at + 4] = row.price;
        params[at + 5] = row.old_price;
        params[at + 6] = row.drop_amount;
        params[at + 7] = row.drop_pct;
        params[at + 8] = flags;
        if (++chunkRows === ROWS_PER_INSERT) writeChunk();
      } else {
        // Maybe a duplicate: the key decides, after the pending chunk (which may hold the first copy).
        writeChunk();
        const changes = insertOne.run(hourOf[i], entry.id, t, descriptorIds[i], row.price, row.old_price, row.drop_amount, row.drop_pct, flags).changes;
        if (changes === 0) continue;
      }
      inserted++;
      if (t > maxT) maxT = t;
      accept(entry, row, t, descriptorIds[i] as number);
    }
    if (maxT > -Infinity) rollups.observed(new Date(maxT).toISOString());
    writeChunk();
    if (dirty.length > MAX_PENDING || rollups.pendingSize() > MAX_PENDING) flush();
    return { inserted, duplicates: n - inserted };
  }

  return { writeBatch, flush, product, forget: reset };
}
