import type { Statement } from 'better-sqlite3';
import type { CacheDb } from './cache-db';
import { createRollupMaintainer, type RollupSlot } from './dashboard-rollups';
import { createObservationEncoder, descriptorKey, keyOrder, ProductDictionary, setDense, type CleanRow, type EncodedBatch, type Resolved } from './observation-encoding';

export { HOUR_MS, instantMs, type CleanRow } from './observation-encoding';

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

/**
 * What the writer knew of a product when `product()` was asked: its latest stored (or written in
 * this transaction) observation. A snapshot: later batches do not change it.
 */
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

/** The SQLite half of the writer: applies batches encoded by observation-encoding.ts (on any thread). */
export interface ObservationStore {
  /**
   * Inserts an encoded batch inside the caller's transaction (same rules as writeBatch). `resolved`
   * holds the ids given to the batch's new products and descriptors, for the encoder's `learn`.
   */
  apply(batch: EncodedBatch): WriteResult & { resolved: Resolved };
  /** The product's record (created on first sight). */
  product(source: string, productId: string): ProductRef;
  /** See ObservationWriter.flush. */
  flush(): void;
  /** See ObservationWriter.forget. */
  forget(): void;
  /**
   * Checks, inside the caller's transaction, whether what the store remembers still holds (a
   * rolled-back transaction, another connection's writes) and drops it if not. apply() calls it
   * unless it was called since the last apply(): call it before encoding with dictionaries the store
   * shares (same transaction). False when ids this store gave out were rolled back (apply() then
   * refuses a batch: an encoder elsewhere may hold them).
   */
  begin(): boolean;
  /** The product id of a ref this store gave out in its current generation; -1 for any other. */
  refId(ref: ProductRef | undefined): number;
  /** Counts the store's cache resets (a rolled-back transaction, another connection's writes, forget()). */
  readonly generation: number;
}

/** Bits of observation_rows.flags. */
export const FLAG_DROP = 1;
export const FLAG_ATHENA = 2;
/** Rows per multi-row INSERT: the per-call cost, not SQLite, dominates a 9-column row. */
const ROWS_PER_INSERT = 32;
const COLUMNS = 9;
/** Above this many pending products or rollup slots, flush before the caller asks (bounds memory). */
const MAX_PENDING = 50_000;
const DAY_MS = 86_400_000;

/** A ref handed out by `product()`: the product's state when it was asked for. */
interface StoreRef extends ProductRef {
  owner: object;
  generation: number;
  id: number;
}

function grownInt32(a: Int32Array, size: number, fill: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size).fill(fill);
  b.set(a);
  return b;
}

/** Fields of a product's record in ProductTable.state. */
// The product's latest row, stored or written in this transaction (flush writes it to product_keys
// when the transaction wrote a row of the product: DIRTY): observed_at in ms (-Infinity when none:
// a later row cannot be a duplicate), price, descriptor.
const LAST_T = 0;
const LAST_PRICE = 1;
const LAST_DESCRIPTOR = 2;
// The category of a descriptor of this product, as an index into the store's category names: the
// product's rows mostly share a descriptor, and this line is read anyway.
const CATEGORY_DESCRIPTOR = 3;
const CATEGORY = 4;
const NUMBERING = 5; // the rollups' number of the product in its category, valid while the numbering's id matches (dashboard-rollups.ts)
const ROLLUP_N = 6;
const BITS = 7; // LOADED | DIRTY
const STRIDE = 8;
const LOADED = 1;
const DIRTY = 2;

/**
 * What the store knows of each product: one 64-byte record per product id in a Float64Array.
 * Rows reach the store sorted by (hour, product), so each hour walks the records in order, and a
 * row touches one cache line (one heap object per product, or one array per field, cost a cache
 * miss per row and field: a third of the store's time).
 */
class ProductTable {
  size = 0;
  state = new Float64Array(0);
  source: (string | undefined)[] = [];
  productId: (string | undefined)[] = [];

  ensure(id: number): void {
    if (id < this.size) return;
    const size = Math.max(1024, id + 1, this.size * 2);
    const state = new Float64Array(size * STRIDE);
    state.set(this.state);
    for (let at = this.size * STRIDE; at < state.length; at += STRIDE) {
      state[at + LAST_T] = -Infinity;
      state[at + LAST_PRICE] = NaN;
      state[at + LAST_DESCRIPTOR] = -1;
      state[at + CATEGORY_DESCRIPTOR] = -1;
      state[at + CATEGORY] = -1;
      state[at + NUMBERING] = -1;
      state[at + ROLLUP_N] = -1;
    }
    this.state = state;
    this.size = size;
  }

  loaded(id: number): boolean {
    return id < this.size && ((this.state[id * STRIDE + BITS] as number) & LOADED) !== 0;
  }
}

/** A product's latest row as product_keys holds it (last_t NULL: not recorded, see selectLast). */
interface StoredLatest {
  last: number | null;
  price: number | null;
  descriptor: number | null;
}

const orNull = (x: number): number | null => (x === x ? x : null);

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
 * docs/decisions/0008-narrow-observations.md, 0009-two-thread-ingest.md.
 *
 * `products` and `descriptors` are the store's dictionaries ((source, product_id) and
 * (title, category, currency) to ids); the in-thread writer shares them with its encoder.
 */
export function createObservationStore(
  db: CacheDb,
  options: ObservationWriterOptions = {},
  products = new ProductDictionary(),
  descriptors = new Map<string, number>(),
): ObservationStore {
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
  const selectProduct = db.prepare('SELECT id, last_t AS last, last_price AS price, last_descriptor AS descriptor FROM product_keys WHERE source = ? AND product_id = ?');
  const productById = db.prepare('SELECT source, product_id, last_t AS last, last_price AS price, last_descriptor AS descriptor FROM product_keys WHERE id = ?');
  // Only for a key without a latest observation (rows written through the view's trigger): one seek per hour.
  const selectLast = db.prepare(
    'SELECT o.t, o.price, o.descriptor FROM observation_hours s CROSS JOIN observation_rows o ON o.hour = s.hour AND o.product = ? ORDER BY o.t DESC LIMIT 1',
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

  // Caches of committed (or this transaction's) state; reset() drops them.
  const owner = {};
  let generation = 0;
  let table = new ProductTable();
  /** Category of each descriptor id, as an index into categoryNames (-1: not read yet). */
  let categoryIndex = new Int32Array(0);
  let categoryNames: string[] = [];
  let categoryByName = new Map<string, number>();
  let hours = new Set<number>(allHours.all() as number[]);
  let dirty: number[] = [];
  // The newest entry of each dictionary this store created: still there at the next batch means
  // every earlier one is too (they committed, or belong to the open transaction); gone or
  // different means a rollback, and the caches are dropped.
  let newestProduct: { id: number; source: string; productId: string } | undefined;
  let newestDescriptor: { id: number; title: string; category: string; currency: string } | undefined;
  let newestHour: number | undefined;
  // The rollup slots of the current day, by category index (dropped when the day or the rollups' slots change).
  let daySlots: (RollupSlot | undefined)[] = [];
  let daySlotsDt = '';
  let daySlotsGeneration = -1;

  const params: (number | null)[] = new Array<number | null>(ROWS_PER_INSERT * COLUMNS);
  let chunkRows = 0;
  // begin() ran since the last apply() (its checks need not run again for this batch).
  let checkedForApply = false;

  function reset(): void {
    generation++;
    products.clear();
    descriptors.clear();
    table = new ProductTable();
    categoryIndex = new Int32Array(0);
    categoryNames = [];
    categoryByName = new Map();
    hours = new Set(allHours.all() as number[]);
    dirty = [];
    newestProduct = undefined;
    newestDescriptor = undefined;
    newestHour = undefined;
    daySlots = [];
    daySlotsDt = '';
    checkedForApply = false;
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

  /** Records a product's state; last_t NULL means unknown (rows written through the view's trigger) unless `isNew`. */
  function record(id: number, source: string, productId: string, stored: StoredLatest | undefined, isNew = false): void {
    table.ensure(id);
    const latest =
      stored !== undefined && stored.last !== null
        ? { t: stored.last, price: stored.price as number, descriptor: stored.descriptor ?? -1 }
        : isNew
          ? undefined
          : (selectLast.get(id) as { t: number; price: number; descriptor: number } | undefined);
    const at = id * STRIDE;
    table.state[at + BITS] = LOADED;
    table.state[at + LAST_T] = latest ? latest.t : -Infinity;
    table.state[at + LAST_PRICE] = latest ? latest.price : NaN;
    table.state[at + LAST_DESCRIPTOR] = latest ? latest.descriptor : -1;
    setDense(table.source, id, source);
    setDense(table.productId, id, productId);
  }

  /** Reads a product id's row of product_keys (ids come from the dictionaries, so it exists). */
  function load(id: number): void {
    const row = productById.get(id) as ({ source: string; product_id: string } & StoredLatest) | undefined;
    if (!row) throw new Error(`observation writer: product id ${id} is not in product_keys (an encoder used ids from a rolled-back transaction)`);
    record(id, row.source, row.product_id, row);
  }

  /** The product's id, read or created, with its state loaded. */
  function productIdOf(source: string, productId: string): number {
    const known = products.get(source, productId);
    if (known !== undefined) {
      if (!table.loaded(known)) load(known);
      return known;
    }
    const row = selectProduct.get(source, productId) as ({ id: number } & StoredLatest) | undefined;
    let id: number;
    if (row) {
      id = row.id;
      record(id, source, productId, row);
    } else {
      id = Number(insertProductKey.run(source, productId).lastInsertRowid);
      record(id, source, productId, undefined, true);
      newestProduct = { id, source, productId };
    }
    products.set(source, productId, id);
    return id;
  }

  function product(source: string, productId: string): ProductRef {
    const id = productIdOf(source, productId);
    const at = id * STRIDE;
    const ref: StoreRef = { owner, generation, id, lastT: table.state[at + LAST_T] as number, lastPrice: table.state[at + LAST_PRICE] as number };
    return ref;
  }

  function setCategory(descriptor: number, category: string): number {
    let index = categoryByName.get(category);
    if (index === undefined) {
      index = categoryNames.push(category) - 1;
      categoryByName.set(category, index);
    }
    if (descriptor >= categoryIndex.length) categoryIndex = grownInt32(categoryIndex, Math.max(1024, descriptor + 1, categoryIndex.length * 2), -1);
    categoryIndex[descriptor] = index;
    return index;
  }

  function descriptorId(title: string, category: string, currency: string): number {
    let id = selectDescriptor.get(title, category, currency) as number | undefined;
    if (id === undefined) {
      id = Number(insertDescriptor.run(title, category, currency).lastInsertRowid);
      newestDescriptor = { id, title, category, currency };
    }
    descriptors.set(descriptorKey(title, category, currency), id);
    setCategory(id, category);
    return id;
  }

  function categoryOf(descriptor: number): number {
    const known = descriptor < categoryIndex.length ? (categoryIndex[descriptor] as number) : -1;
    if (known >= 0) return known;
    const row = descriptorAt.get(descriptor) as [string, string, string] | undefined;
    if (!row) throw new Error(`observation writer: descriptor id ${descriptor} is not in descriptors`);
    return setCategory(descriptor, row[1]);
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

  function flush(): void {
    writeChunk();
    const state = table.state;
    // In id order: product_keys' pages are then visited in order.
    const ids = Int32Array.from(dirty).sort();
    for (const id of ids) {
      const at = id * STRIDE;
      // The latest row known (stored or new): written only if later than the stored one.
      const t = state[at + LAST_T] as number;
      updateLatest.run(t, state[at + LAST_PRICE], state[at + LAST_DESCRIPTOR], id, t);
      state[at + BITS] = (state[at + BITS] as number) & ~DIRTY;
    }
    dirty = [];
    rollups.flush();
  }

  /** Gives the batch's new products and descriptors their ids (existing or new) and rewrites its columns. */
  function resolve(b: EncodedBatch): Resolved {
    const resolved: Resolved = { products: [], descriptors: [] };
    for (let k = 0; k < b.newProducts.length; k += 2) resolved.products.push(productIdOf(b.newProducts[k] as string, b.newProducts[k + 1] as string));
    for (let k = 0; k < b.newDescriptors.length; k += 3) {
      const [title, category, currency] = [b.newDescriptors[k] as string, b.newDescriptors[k + 1] as string, b.newDescriptors[k + 2] as string];
      resolved.descriptors.push(descriptors.get(descriptorKey(title, category, currency)) ?? descriptorId(title, category, currency));
    }
    if (resolved.products.length > 0 || resolved.descriptors.length > 0) {
      for (let i = 0; i < b.n; i++) {
        const p = b.product[i] as number;
        if (p < 0) b.product[i] = resolved.products[-1 - p] as number;
        const d = b.descriptor[i] as number;
        if (d < 0) b.descriptor[i] = resolved.descriptors[-1 - d] as number;
      }
    }
    return resolved;
  }

  /** Drops stale caches; returns false when ids this store gave out were rolled back. */
  function begin(): boolean {
    const stale = rollups.beginBatch();
    const hold = allocationsHold();
    if (stale || !hold) reset();
    checkedForApply = true;
    return hold;
  }

  function refId(ref: ProductRef | undefined): number {
    const r = ref as StoreRef | undefined;
    return r !== undefined && r.owner === owner && r.generation === generation ? r.id : -1;
  }

  function apply(b: EncodedBatch): WriteResult & { resolved: Resolved } {
    // The caller that shares the dictionaries checked just before encoding (and encoded after any reset).
    const holds = checkedForApply || begin();
    checkedForApply = false;
    if (!holds && b.n > 0) {
      // An encoder elsewhere may hold those ids (an in-thread writer calls begin() before encoding):
      // its batch could name rows that no longer exist, or that another connection now owns.
      throw new Error('observation writer: ids given out by a rolled-back transaction may be in this batch; encode it again with a fresh encoder');
    }
    const resolved = resolve(b);
    const n = b.n;
    const order = b.sorted ? undefined : keyOrder(n, b.hour, b.t, b.product);
    const { hour, t: times, product: productOf, descriptor, price, oldPrice, dropAmount, dropPct, isDrop } = b;
    // Room for every product of the batch (a product is loaded on its first row).
    let maxId = -1;
    for (let i = 0; i < n; i++) if ((productOf[i] as number) > maxId) maxId = productOf[i] as number;
    if (maxId >= 0) table.ensure(maxId);
    const { source, productId } = table;
    const state = table.state;
    let inserted = 0;
    let maxT = -Infinity;
    let lastHour = NaN;
    let lastDay = NaN;
    let dt = '';
    // In key order (B-tree appends, a product's rows together and in time order); the first row of a key wins.
    for (let k = 0; k < n; k++) {
      const i = order === undefined ? k : (order[k] as number);
      const h = hour[i] as number;
      if (h !== lastHour) {
        if (!hours.has(h)) {
          insertHour.run(h);
          hours.add(h);
          newestHour = h;
        }
        lastHour = h;
        const day = Math.floor(h / 24);
        if (day !== lastDay) {
          lastDay = day;
          dt = new Date(day * DAY_MS).toISOString().slice(0, 10);
        }
      }
      const id = productOf[i] as number;
      const t = times[i] as number;
      const d = descriptor[i] as number;
      const p = price[i] as number;
      const drop = isDrop[i] as number;
      const pct = dropPct[i] as number;
      const at = id * STRIDE;
      if (((state[at + BITS] as number) & LOADED) === 0) load(id);
      const bits = state[at + BITS] as number;
      if (t > (state[at + LAST_T] as number)) {
        const v = chunkRows * COLUMNS;
        params[v] = h;
        params[v + 1] = id;
        params[v + 2] = t;
        params[v + 3] = d;
        params[v + 4] = p;
        params[v + 5] = orNull(oldPrice[i] as number);
        params[v + 6] = orNull(dropAmount[i] as number);
        params[v + 7] = orNull(pct);
        params[v + 8] = drop | originFlag;
        if (++chunkRows === ROWS_PER_INSERT) writeChunk();
        state[at + LAST_T] = t;
        state[at + LAST_PRICE] = p;
        state[at + LAST_DESCRIPTOR] = d;
      } else {
        // Maybe a duplicate: the key decides, after the pending chunk (which may hold the first copy).
        writeChunk();
        const changes = insertOne.run(h, id, t, d, p, orNull(oldPrice[i] as number), orNull(dropAmount[i] as number), orNull(pct), drop | originFlag).changes;
        if (changes === 0) continue;
      }
      inserted++;
      if (t > maxT) maxT = t;
      // Book the row (inserted, or pending in the chunk): rollups, then the product's latest.
      if (daySlotsDt !== dt || daySlotsGeneration !== rollups.slotGeneration) {
        daySlots = [];
        daySlotsDt = dt;
        daySlotsGeneration = rollups.slotGeneration;
      }
      let c: number;
      if (state[at + CATEGORY_DESCRIPTOR] === d) c = state[at + CATEGORY] as number;
      else {
        c = d < categoryIndex.length && (categoryIndex[d] as number) >= 0 ? (categoryIndex[d] as number) : categoryOf(d);
        state[at + CATEGORY_DESCRIPTOR] = d;
        state[at + CATEGORY] = c;
      }
      const slot = (daySlots[c] ??= rollups.slotFor(dt, categoryNames[c] as string));
      let number: number;
      if (state[at + NUMBERING] === slot.numberingId) number = state[at + ROLLUP_N] as number;
      else {
        number = rollups.numberIn(slot, source[id] as string, productId[id] as string);
        state[at + NUMBERING] = slot.numberingId;
        state[at + ROLLUP_N] = number;
      }
      rollups.addToSlot(slot, number, drop === 1, pct);
      if ((bits & DIRTY) === 0) {
        state[at + BITS] = bits | DIRTY;
        dirty.push(id);
      }
    }
    if (maxT > -Infinity) rollups.observed(new Date(maxT).toISOString());
    writeChunk();
    if (dirty.length > MAX_PENDING || rollups.pendingSize() > MAX_PENDING) flush();
    return { inserted, duplicates: n - inserted, resolved };
  }

  return {
    begin,
    refId,
    apply,
    flush,
    product,
    forget: reset,
    get generation() {
      return generation;
    },
  };
}

/**
 * The writer on one thread: an encoder and a store sharing their dictionaries. Bulk producers
 * that can spare a thread run the encoder there instead (pipeline/cache/encoder-thread.ts).
 */
export function createObservationWriter(db: CacheDb, options: ObservationWriterOptions = {}): ObservationWriter {
  const products = new ProductDictionary();
  const descriptors = new Map<string, number>();
  const store = createObservationStore(db, options, products, descriptors);
  const encoder = createObservationEncoder(products, descriptors, { reuseBuffers: true });
  let encoderGeneration = store.generation;
  let idScratch = new Int32Array(0);

  function writeBatch(rows: readonly CleanRow[], refs?: readonly ProductRef[]): WriteResult {
    // Before encoding: a rolled-back transaction may have freed ids the dictionaries still hold.
    store.begin();
    if (encoderGeneration !== store.generation) {
      encoder.reset();
      encoderGeneration = store.generation;
    }
    let ids: Int32Array | undefined;
    if (refs !== undefined) {
      if (idScratch.length < rows.length) idScratch = new Int32Array(Math.max(rows.length, idScratch.length * 2));
      ids = idScratch;
      for (let i = 0; i < rows.length; i++) ids[i] = store.refId(refs[i]);
    }
    // The shared dictionaries already hold the ids the store gives the batch's new names: no learn().
    const { inserted, duplicates } = store.apply(encoder.encode(rows, ids));
    return { inserted, duplicates };
  }

  return { writeBatch, flush: store.flush, product: store.product, forget: store.forget };
}
