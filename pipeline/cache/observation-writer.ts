import type { Statement } from 'better-sqlite3';
import type { CacheDb } from './cache-db';
import { createRollupMaintainer, type RollupSlot } from './dashboard-rollups';
import { BLOCK_COLUMNS, blockParams, decodeTimes, encodeBlock, FLAG_ATHENA, INSERT_BLOCK_SQL, MAX_BLOCK_ROWS, maxBlockBytes, copyRow, rowColumns, setRow, type RowColumns } from './observation-blocks';
import { initPending, PENDING_FIELDS, PendingBlocks } from './pending-blocks';
import { decodeBlocks, type DecodedRows, type StoredBlock } from './observation-reader';
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
  /** The price of the product's latest row before `t` (stored, or written in this transaction), if any. */
  priceBefore(source: string, productId: string, t: number): number | undefined;
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
  /** See ObservationWriter.priceBefore. */
  priceBefore(source: string, productId: string, t: number): number | undefined;
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

export { FLAG_ATHENA, FLAG_DROP } from './observation-blocks';

/**
 * Pending rows are written before the caller flushes only above these bounds (memory): bytes of
 * pending blocks, rollup slots plus new product numbers. An early write splits each product's
 * block of the transaction in two: at 50k pending products, the 5M-row ETL bench (100k products a
 * transaction) wrote blocks of one or two rows, and took 379 s instead of 21. The arena doubles
 * as it grows: at 256 MB, a 1M-row commit group (82 MB of blocks) grew it to 128 MB and the
 * bench's peak RSS to 537 MB; at 48 MB it stays at 64 MB (485 MB), a group split at most once.
 */
const MAX_PENDING_BYTES = 48 << 20;
const MAX_PENDING_ROLLUPS = 1_000_000;
/**
 * A product's latest block with fewer rows than this takes a few new rows (at most SMALL_APPEND)
 * in place, instead of a new block: a live producer's ETL run, one row per product, would
 * otherwise leave one block per row. Bulk runs bring more rows per product and write new blocks.
 */
const MERGE_BELOW = 64;
const SMALL_APPEND = 8;
/** New blocks per multi-row INSERT at flush (10M-row bench: a fifth less time per block than one at a time). */
const BLOCKS_PER_INSERT = 8;
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

/** Fields of a product's record in ProductTable.state: what every row reads. */
// The product's latest row, stored or pending: observed_at in ms (-Infinity when none: a later
// row cannot be a duplicate), price, descriptor.
const LAST_T = 0;
const LAST_PRICE = 1;
const LAST_DESCRIPTOR = 2;
// The category of a descriptor of this product, as an index into the store's category names: the
// product's rows mostly share a descriptor, and this line is read anyway.
const CATEGORY_DESCRIPTOR = 3;
const CATEGORY = 4;
const NUMBERING = 5; // the rollups' number of the product in its category, valid while the numbering's id matches (dashboard-rollups.ts)
const ROLLUP_N = 6;
const BITS = 7; // LOADED | DIRTY | LATE
/** Then the product's pending block (pending-blocks.ts): on the next cache line, fetched with this one. */
const PENDING = 8;
const STRIDE = PENDING + PENDING_FIELDS;
const LOADED = 1;
/** The product has pending rows. */
const DIRTY = 2;
/** A pending row of the product came no later than a row known before it (a late row): its rows are sorted and merged at flush. */
const LATE = 4;
/** Fields of a product's record in ProductTable.cold: read on late rows and at flush. */
const STORED_T = 0; // observed_at of the product's latest stored row (-Infinity: none)
const LAST_BLOCK_ID = 1; // its latest stored block (-1: none) and that block's rows
const LAST_BLOCK_N = 2;
const PENDING_FROM = 3; // the smallest t among its pending rows
const COLD = 4;

/**
 * What the store knows of each product, by id, in two Float64Arrays: `state`, two adjacent cache
 * lines a product (rows reach the store sorted by product, so a batch walks the records in
 * order), and `cold`. One heap object per product, or one array per field, cost a cache miss per
 * row and field: a third of the store's time.
 */
class ProductTable {
  size = 0;
  state = new Float64Array(0);
  cold = new Float64Array(0);
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
      initPending(state, at + PENDING);
    }
    const cold = new Float64Array(size * COLD);
    cold.set(this.cold);
    for (let at = this.size * COLD; at < cold.length; at += COLD) {
      cold[at + STORED_T] = -Infinity;
      cold[at + LAST_BLOCK_ID] = -1;
    }
    this.state = state;
    this.cold = cold;
    this.size = size;
  }

  loaded(id: number): boolean {
    return id < this.size && ((this.state[id * STRIDE + BITS] as number) & LOADED) !== 0;
  }
}

/** Late rows (no later than a row known before them) accepted in the open write, as values. */
class LateRows {
  n = 0;
  rows: RowColumns = rowColumns(0);
  byProduct = new Map<number, number[]>();

  add(id: number, t: number, descriptor: number, price: number, oldPrice: number, dropAmount: number, dropPct: number, flags: number): void {
    if (this.n === this.rows.t.length) {
      const grown = rowColumns(Math.max(256, this.n * 2));
      for (const key of Object.keys(grown) as (keyof RowColumns)[]) grown[key].set(this.rows[key] as never);
      this.rows = grown;
    }
    const r = this.n++;
    setRow(this.rows, r, t, descriptor, price, oldPrice, dropAmount, dropPct, flags);
    const list = this.byProduct.get(id);
    if (list === undefined) this.byProduct.set(id, [r]);
    else list.push(r);
  }
}

/** A product's stored blocks as the covering index gives them (no block data). */
interface BlockBounds {
  id: number;
  t_first: number;
  t_last: number;
  n: number;
}

/**
 * The single path by which cleaned rows enter the cache: `observation_blocks` (each product's
 * rows in blocks of up to MAX_BLOCK_ROWS, in time order, never overlapping; observation-blocks.ts,
 * migration 0800-observation-blocks), dictionary-coded through `product_keys` and `descriptors`,
 * and the dashboard rollups (dashboard-rollups.ts). A product's latest row is the last row of its
 * latest block (the `products` view shows it).
 *
 * `apply` decides at once which rows are new (the first row of a key wins), counts them in the
 * rollups and encodes them into the product's next block, in memory (pending-blocks.ts); `flush`
 * inserts each product's block (about 20 rows a product for a 1M-row bulk transaction), then the
 * rollups. A row later than everything known of its product cannot be a duplicate: nearly all
 * rows (producers write in time order) take that path. Late ones are checked against the
 * product's pending and stored rows, and merged into its blocks at flush.
 * docs/decisions/0010-observation-blocks.md.
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
  const insertBlock = db.prepare(INSERT_BLOCK_SQL);
  const insertBlocksSql = (count: number) => INSERT_BLOCK_SQL + `, ${INSERT_BLOCK_SQL.slice(INSERT_BLOCK_SQL.indexOf('VALUES ') + 7)}`.repeat(count - 1);
  const insertBlocksOf: Statement[] = [];
  const blockColumns = BLOCK_COLUMNS.join(', ');
  const updateBlock = db.prepare(`UPDATE observation_blocks SET (${blockColumns}) = (${BLOCK_COLUMNS.map(() => '?').join(', ')}) WHERE id = ?`);
  const deleteBlock = db.prepare('DELETE FROM observation_blocks WHERE id = ?');
  const blockById = db.prepare(`SELECT id, product, ${blockColumns} FROM observation_blocks WHERE id = ?`);
  const blockBefore = db.prepare(`SELECT id, product, ${blockColumns} FROM observation_blocks WHERE product = ? AND t_first < ? ORDER BY t_first DESC LIMIT 1`);
  const blockAtOrBefore = db.prepare(`SELECT id, product, ${blockColumns} FROM observation_blocks WHERE product = ? AND t_first <= ? ORDER BY t_first DESC LIMIT 1`);
  const boundsFrom = db.prepare('SELECT id, t_first, t_last, n FROM observation_blocks WHERE product = ? AND t_last >= ? ORDER BY t_first');
  const latestBlock = db.prepare('SELECT id, n, t_last, last_price, last_descriptor FROM observation_blocks WHERE product = ? ORDER BY t_first DESC LIMIT 1');
  const selectProduct = db.prepare('SELECT id FROM product_keys WHERE source = ? AND product_id = ?').pluck();
  const productById = db.prepare('SELECT source, product_id FROM product_keys WHERE id = ?').raw();
  const insertProductKey = db.prepare('INSERT INTO product_keys (source, product_id) VALUES (?, ?)');
  const selectDescriptor = db.prepare('SELECT id FROM descriptors WHERE title = ? AND category = ? AND currency = ?').pluck();
  const insertDescriptor = db.prepare('INSERT INTO descriptors (title, category, currency) VALUES (?, ?, ?)');
  const descriptorAt = db.prepare('SELECT title, category, currency FROM descriptors WHERE id = ?').raw();
  const rollups = createRollupMaintainer(db);

  // Caches of committed (or this transaction's) state; reset() drops them.
  const owner = {};
  let generation = 0;
  let table = new ProductTable();
  /** Category of each descriptor id, as an index into categoryNames (-1: not read yet). */
  let categoryIndex = new Int32Array(0);
  let categoryNames: string[] = [];
  let categoryByName = new Map<string, number>();
  /** Products with pending rows. */
  let dirty: number[] = [];
  const pending = new PendingBlocks();
  let late = new LateRows();
  /** Decoded times of stored blocks the duplicate checks read in this write. */
  let blockTimes = new Map<number, Float64Array>();
  // The newest entry of each dictionary this store created: still there at the next batch means
  // every earlier one is too (they committed, or belong to the open transaction); gone or
  // different means a rollback, and the caches are dropped.
  let newestProduct: { id: number; source: string; productId: string } | undefined;
  let newestDescriptor: { id: number; title: string; category: string; currency: string } | undefined;
  // Rollup slots by day (since 1970) and category index; void when the rollups' slots change.
  let slotsByDay = new Map<number, { dt: string; slots: (RollupSlot | undefined)[] }>();
  let slotsGeneration = -1;
  // begin() ran since the last apply() (its checks need not run again for this batch).
  let checkedForApply = false;

  // Scratch for writing: a product's rows, and the bytes of a block that writeRows encodes.
  let scratch = rowColumns(MAX_BLOCK_ROWS);
  const out = Buffer.alloc(maxBlockBytes(MAX_BLOCK_ROWS));
  const params: unknown[] = [];
  const multiParams: unknown[] = [];

  function reset(): void {
    generation++;
    products.clear();
    descriptors.clear();
    table = new ProductTable();
    categoryIndex = new Int32Array(0);
    categoryNames = [];
    categoryByName = new Map();
    dirty = [];
    pending.clear();
    late = new LateRows();
    blockTimes = new Map();
    newestProduct = undefined;
    newestDescriptor = undefined;
    slotsByDay = new Map();
    slotsGeneration = -1;
    checkedForApply = false;
  }

  function allocationsHold(): boolean {
    if (newestProduct) {
      const row = productById.get(newestProduct.id) as [string, string] | undefined;
      if (!row || row[0] !== newestProduct.source || row[1] !== newestProduct.productId) return false;
    }
    if (newestDescriptor) {
      const row = descriptorAt.get(newestDescriptor.id) as [string, string, string] | undefined;
      if (!row || row[0] !== newestDescriptor.title || row[1] !== newestDescriptor.category || row[2] !== newestDescriptor.currency) return false;
    }
    return true;
  }

  /** Records a product's state from its latest stored block (none for a new product). */
  function record(id: number, source: string, productId: string, isNew: boolean): void {
    table.ensure(id);
    const latest = isNew ? undefined : (latestBlock.get(id) as { id: number; n: number; t_last: number; last_price: number; last_descriptor: number } | undefined);
    const at = id * STRIDE;
    const state = table.state;
    state[at + BITS] = LOADED;
    state[at + LAST_T] = latest ? latest.t_last : -Infinity;
    state[at + LAST_PRICE] = latest ? latest.last_price : NaN;
    state[at + LAST_DESCRIPTOR] = latest ? latest.last_descriptor : -1;
    const c = id * COLD;
    table.cold[c + STORED_T] = latest ? latest.t_last : -Infinity;
    table.cold[c + LAST_BLOCK_ID] = latest ? latest.id : -1;
    table.cold[c + LAST_BLOCK_N] = latest ? latest.n : 0;
    setDense(table.source, id, source);
    setDense(table.productId, id, productId);
  }

  /** Reads a product id's row of product_keys (ids come from the dictionaries, so it exists). */
  function load(id: number): void {
    const row = productById.get(id) as [string, string] | undefined;
    if (!row) throw new Error(`observation writer: product id ${id} is not in product_keys (an encoder used ids from a rolled-back transaction)`);
    record(id, row[0], row[1], false);
  }

  /** The product's id, read or created, with its state loaded. */
  function productIdOf(source: string, productId: string): number {
    const known = products.get(source, productId);
    if (known !== undefined) {
      if (!table.loaded(known)) load(known);
      return known;
    }
    let id = selectProduct.get(source, productId) as number | undefined;
    if (id !== undefined) record(id, source, productId, false);
    else {
      id = Number(insertProductKey.run(source, productId).lastInsertRowid);
      record(id, source, productId, true);
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

  function priceBefore(source: string, productId: string, t: number): number | undefined {
    const id = productIdOf(source, productId);
    let bestT = -Infinity;
    let best: number | undefined;
    const block = blockBefore.get(id, t) as StoredBlock | undefined;
    if (block !== undefined) {
      const rows = decodeBlocks([block], -Infinity, t);
      if (rows.n > 0) {
        bestT = rows.t[rows.n - 1] as number;
        best = rows.price[rows.n - 1] as number;
      }
    }
    const consider = (rows: RowColumns, n: number) => {
      for (let i = 0; i < n; i++) {
        const rt = rows.t[i] as number;
        if (rt < t && rt > bestT) {
          bestT = rt;
          best = rows.price[i] as number;
        }
      }
    };
    const at = id * STRIDE + PENDING;
    if (pending.count(table.state, at) > 0) {
      const rows = scratchFor(pending.count(table.state, at));
      consider(rows, pending.decode(table.state, at, rows));
    }
    for (const r of late.byProduct.get(id) ?? []) {
      const rt = late.rows.t[r] as number;
      if (rt < t && rt > bestT) {
        bestT = rt;
        best = late.rows.price[r] as number;
      }
    }
    return best;
  }

  /** Whether a stored block of the product has a row at t (t no later than its latest stored row). */
  function storedHas(id: number, t: number): boolean {
    const block = blockAtOrBefore.get(id, t) as StoredBlock | undefined;
    if (block === undefined || block.t_last < t) return false;
    let times = blockTimes.get(block.id);
    if (times === undefined) {
      times = new Float64Array(block.n);
      decodeTimes(block, times);
      blockTimes.set(block.id, times);
    }
    let lo = 0;
    let hi = times.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const x = times[mid] as number;
      if (x === t) return true;
      if (x < t) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Whether a row that is not later than its product's latest is new: not pending, not stored. */
  function lateRowIsNew(id: number, t: number): boolean {
    const c = id * COLD;
    if (((table.state[id * STRIDE + BITS] as number) & DIRTY) !== 0 && t >= (table.cold[c + PENDING_FROM] as number)) {
      if (pending.times(table.state, id * STRIDE + PENDING).includes(t)) return false;
      for (const r of late.byProduct.get(id) ?? []) if (late.rows.t[r] === t) return false;
    }
    return !(t <= (table.cold[c + STORED_T] as number) && storedHas(id, t));
  }

  /** Inserts rows[from, to) of a product (sorted, unique t) as blocks of at most MAX_BLOCK_ROWS, balanced; returns the last one. */
  function insertBlocks(id: number, rows: RowColumns, from: number, to: number): { id: number; n: number } {
    const count = to - from;
    const blocks = Math.ceil(count / MAX_BLOCK_ROWS);
    let last = { id: -1, n: 0 };
    for (let k = 0; k < blocks; k++) {
      const a = from + Math.floor((k * count) / blocks);
      const b = from + Math.floor(((k + 1) * count) / blocks);
      const rowid = Number(insertBlock.run(blockParams(id, encodeBlock(rows, a, b, out), params)).lastInsertRowid);
      last = { id: rowid, n: b - a };
    }
    return last;
  }

  /** Room for `n` rows in the scratch columns. */
  function scratchFor(n: number): RowColumns {
    if (scratch.t.length < n) scratch = rowColumns(Math.max(n, scratch.t.length * 2));
    return scratch;
  }

  /** Merges two row sets sorted by t with no t in common into one. */
  function mergeRows(a: DecodedRows, b: RowColumns, bFrom: number, bTo: number): DecodedRows {
    const n = a.n + bTo - bFrom;
    const merged = rowColumns(n);
    let i = 0;
    let j = bFrom;
    for (let k = 0; k < n; k++) {
      if (j >= bTo || (i < a.n && (a.t[i] as number) < (b.t[j] as number))) copyRow(a, i++, merged, k);
      else copyRow(b, j++, merged, k);
    }
    return { ...merged, n };
  }

  /**
   * Writes one product's rows, sorted by t (`rows` [0, count)): the ones within its stored span
   * merged into the blocks they fall in, the later ones appended to its latest block when both
   * are small, else as new blocks.
   */
  function writeRows(id: number, rows: RowColumns, count: number): void {
    const cold = table.cold;
    const c = id * COLD;
    const storedT = cold[c + STORED_T] as number;
    // Rows within the stored span go into the blocks they fall in (or the gap before: that block grows).
    let tail = 0;
    while (tail < count && (rows.t[tail] as number) <= storedT) tail++;
    if (tail > 0) {
      const bounds = boundsFrom.all(id, rows.t[0]) as BlockBounds[];
      // Each inner row's block: the last one starting at or before it, else the first one after.
      let k = 0;
      let b = 0;
      while (k < tail) {
        while (b + 1 < bounds.length && (bounds[b + 1] as BlockBounds).t_first <= (rows.t[k] as number)) b++;
        const target = bounds[b] as BlockBounds;
        const next = bounds[b + 1];
        const from = k;
        while (k < tail && (next === undefined || (rows.t[k] as number) < next.t_first)) k++;
        const merged = mergeRows(decodeBlocks([blockById.get(target.id) as StoredBlock]), rows, from, k);
        deleteBlock.run(target.id);
        blockTimes.delete(target.id);
        const last = insertBlocks(id, merged, 0, merged.n);
        if (target.id === cold[c + LAST_BLOCK_ID]) {
          cold[c + LAST_BLOCK_ID] = last.id;
          cold[c + LAST_BLOCK_N] = last.n;
        }
        b++;
      }
    }
    if (tail === count) return;
    // The later rows: into the latest block when both are small, else new blocks.
    const lastId = cold[c + LAST_BLOCK_ID] as number;
    const lastN = cold[c + LAST_BLOCK_N] as number;
    let last: { id: number; n: number };
    if (lastId >= 0 && lastN < MERGE_BELOW && count - tail <= SMALL_APPEND && lastN + count - tail <= MAX_BLOCK_ROWS) {
      const merged = mergeRows(decodeBlocks([blockById.get(lastId) as StoredBlock]), rows, tail, count);
      blockTimes.delete(lastId);
      const values = blockParams(id, encodeBlock(merged, 0, merged.n, out), params).slice(1);
      values.push(lastId);
      updateBlock.run(values);
      last = { id: lastId, n: merged.n };
    } else last = insertBlocks(id, rows, tail, count);
    cold[c + LAST_BLOCK_ID] = last.id;
    cold[c + LAST_BLOCK_N] = last.n;
    cold[c + STORED_T] = rows.t[count - 1] as number;
  }

  /**
   * Writes the pending rows, product after product in id order (the index's pages in order):
   * a product's pending block as it is, inserted BLOCKS_PER_INSERT to a statement, when all its
   * rows came in time order after its stored ones; else decoded, with its late rows, through
   * writeRows.
   */
  function writePending(): void {
    if (dirty.length === 0) return;
    const ids = Int32Array.from(dirty).sort();
    const state = table.state;
    const cold = table.cold;
    let queued = 0;
    const queue: number[] = [];
    const insertQueued = () => {
      if (queued === 0) return;
      const statement = (insertBlocksOf[queued] ??= db.prepare(insertBlocksSql(queued)));
      multiParams.length = queued * params.length;
      const lastRowid = Number(statement.run(multiParams).lastInsertRowid);
      // Rowids are given in VALUES order, one more than the largest (this transaction is the table's only writer).
      queue.forEach((id, j) => (cold[id * COLD + LAST_BLOCK_ID] = lastRowid - queued + 1 + j));
      queued = 0;
      queue.length = 0;
    };
    for (const id of ids) {
      const at = id * STRIDE;
      const c = id * COLD;
      const n = pending.count(state, at + PENDING);
      const lateRows = late.byProduct.get(id);
      const small = (cold[c + LAST_BLOCK_ID] as number) >= 0 && (cold[c + LAST_BLOCK_N] as number) < MERGE_BELOW && n <= SMALL_APPEND;
      if (lateRows === undefined && n <= MAX_BLOCK_ROWS && !small) {
        // Every pending row came later than the one before and than the stored ones: the pending block is the new block.
        blockParams(id, pending.block(state, at + PENDING, state[at + LAST_T] as number, state[at + LAST_PRICE] as number, state[at + LAST_DESCRIPTOR] as number), params);
        for (let v = 0; v < params.length; v++) multiParams[queued * params.length + v] = params[v];
        queue.push(id);
        cold[c + LAST_BLOCK_N] = n;
        cold[c + STORED_T] = state[at + LAST_T] as number;
        if (++queued === BLOCKS_PER_INSERT) insertQueued();
      } else {
        const count = n + (lateRows?.length ?? 0);
        const rows = scratchFor(count);
        pending.decode(state, at + PENDING, rows);
        let k = n;
        for (const r of lateRows ?? []) copyRow(late.rows, r, rows, k++);
        if (lateRows !== undefined) sortByTime(rows, count);
        writeRows(id, rows, count);
      }
      pending.written(state, at + PENDING);
      state[at + BITS] = (state[at + BITS] as number) & ~(DIRTY | LATE);
    }
    insertQueued();
    dirty = [];
    pending.clear();
    late = new LateRows();
  }

  /** Sorts rows [0, count) by t (no two share one: the duplicates were dropped when they arrived). */
  function sortByTime(rows: RowColumns, count: number): void {
    const order = Array.from({ length: count }, (_, k) => k).sort((x, y) => (rows.t[x] as number) - (rows.t[y] as number));
    const copy = rowColumns(count);
    for (let k = 0; k < count; k++) copyRow(rows, order[k] as number, copy, k);
    for (let k = 0; k < count; k++) copyRow(copy, k, rows, k);
  }

  function flush(): void {
    writePending();
    blockTimes = new Map();
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
    const order = b.sorted ? undefined : keyOrder(n, b.t, b.product);
    const { hour, t: times, product: productOf, descriptor, price, oldPrice, dropAmount, dropPct, isDrop } = b;
    // Room for every product of the batch (a product is loaded on its first row).
    let maxId = -1;
    for (let i = 0; i < n; i++) if ((productOf[i] as number) > maxId) maxId = productOf[i] as number;
    if (maxId >= 0) table.ensure(maxId);
    if (slotsGeneration !== rollups.slotGeneration) {
      slotsByDay = new Map();
      slotsGeneration = rollups.slotGeneration;
    }
    let lastDay = NaN;
    let daySlots: (RollupSlot | undefined)[] = [];
    let dt = '';
    const { source, productId } = table;
    const state = table.state;
    const cold = table.cold;
    let inserted = 0;
    let maxT = -Infinity;
    // In key order (a product's rows together and in time order); the first row of a key wins.
    for (let k = 0; k < n; k++) {
      const i = order === undefined ? k : (order[k] as number);
      const id = productOf[i] as number;
      const t = times[i] as number;
      const d = descriptor[i] as number;
      const p = price[i] as number;
      const drop = isDrop[i] as number;
      const pct = dropPct[i] as number;
      const at = id * STRIDE;
      if (((state[at + BITS] as number) & LOADED) === 0) load(id);
      const isLate = !(t > (state[at + LAST_T] as number));
      if (isLate) {
        if (!lateRowIsNew(id, t)) continue;
        late.add(id, t, d, p, oldPrice[i] as number, dropAmount[i] as number, pct, drop | originFlag);
      } else pending.append(state, at + PENDING, t, d, p, oldPrice[i] as number, dropAmount[i] as number, pct, drop | originFlag);
      const bits = state[at + BITS] as number;
      if ((bits & DIRTY) === 0) {
        state[at + BITS] = bits | DIRTY | (isLate ? LATE : 0);
        cold[id * COLD + PENDING_FROM] = t;
        dirty.push(id);
      } else if (isLate) {
        state[at + BITS] = bits | LATE;
        if (t < (cold[id * COLD + PENDING_FROM] as number)) cold[id * COLD + PENDING_FROM] = t;
      }
      if (!isLate) {
        state[at + LAST_T] = t;
        state[at + LAST_PRICE] = p;
        state[at + LAST_DESCRIPTOR] = d;
      }
      inserted++;
      if (t > maxT) maxT = t;
      // The row's rollups: its (day, category) slot, then its product's number there.
      let c: number;
      if (state[at + CATEGORY_DESCRIPTOR] === d) c = state[at + CATEGORY] as number;
      else {
        c = d < categoryIndex.length && (categoryIndex[d] as number) >= 0 ? (categoryIndex[d] as number) : categoryOf(d);
        state[at + CATEGORY_DESCRIPTOR] = d;
        state[at + CATEGORY] = c;
      }
      const day = Math.floor((hour[i] as number) / 24);
      if (day !== lastDay) {
        lastDay = day;
        let known = slotsByDay.get(day);
        if (known === undefined) slotsByDay.set(day, (known = { dt: new Date(day * DAY_MS).toISOString().slice(0, 10), slots: [] }));
        daySlots = known.slots;
        dt = known.dt;
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
    }
    if (maxT > -Infinity) rollups.observed(new Date(maxT).toISOString());
    if (pending.bytes > MAX_PENDING_BYTES || rollups.pendingSize() > MAX_PENDING_ROLLUPS) flush();
    return { inserted, duplicates: n - inserted, resolved };
  }

  return {
    begin,
    refId,
    apply,
    flush,
    product,
    priceBefore,
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

  return { writeBatch, flush: store.flush, product: store.product, priceBefore: store.priceBefore, forget: store.forget };
}
