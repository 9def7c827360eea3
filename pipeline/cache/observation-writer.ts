import type { DropFields, ValidRow } from '../base/price-rules';
import { instantMs, isCanonical } from '../base/time';
import type { CacheDb } from './cache-db';
import { ensureKeyIndex, keyIndexCheck } from './bulk-load';
import { createRollupMaintainer, type RollupSlot } from './dashboard-rollups';

/**
 * A cleaned, labelled observation: one row of the `observations` view. Produced by the local ETL
 * (the rules of pipeline/base/price-rules.ts) and by the Athena sync (rows of the Glue job's
 * cleaned/ table, which have no `observed_ms`: the writer parses observed_at then).
 */
export type CleanRow = Omit<ValidRow, 'observed_ms'> & Partial<Pick<ValidRow, 'observed_ms'>> & Omit<DropFields, 'old_price'>;

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
  /** Writes the pending rollup deltas. Call it before committing. */
  flush(): void;
}

/** Rows per multi-row INSERT (one statement step binds them all: a third of the time of one row a step). */
const ROWS_PER_INSERT = 64;
const COLUMNS = 11;
const INSERT_COLUMNS = 'product, descriptor, observed_at, dt, price, old_price, drop_amount, drop_pct, is_drop, drop_label, origin';
const ROW_PLACEHOLDERS = `(${Array(COLUMNS).fill('?').join(', ')})`;
/** Rollup slots plus new product numbers pending before the writer flushes them early (memory). */
const MAX_PENDING_ROLLUPS = 1_000_000;

/** What the writer knows of one product: its latest row, and the lookups of its previous row. */
interface ProductState {
  id: number;
  source: string;
  productId: string;
  /** observed_at (ms) of the latest row, stored or written in this transaction; -Infinity when none. */
  lastT: number;
  lastPrice: number;
  /** Its rowid in observation_records (product_keys.last_row); `lastRowDirty`: changed since the last flush. */
  lastRow: number;
  lastRowDirty: boolean;
  /** The descriptor of the product's previous row in this writer, and its names. */
  descriptor: number;
  title: string;
  category: string;
  currency: string;
  /** The rollup slot of its previous row (day, category), valid while slotGeneration is the maintainer's. */
  slot: RollupSlot | undefined;
  slotDt: string;
  slotCategory: string;
  slotGeneration: number;
  /** Its number in the slot's category, valid while numberingId is the slot's. */
  numberingId: number;
  number: number;
}

/** A ref handed out by `product()`: the product's state when it was asked for. */
interface WriterRef extends ProductRef {
  owner: object;
  generation: number;
  state: ProductState;
}

/**
 * Row indexes [0, n) in (product id, time) order, input order among equal keys (so the first row
 * of a key still comes first): a counting sort by product id (ids are dense), then each product's
 * run (a handful of rows) sorted by time. A bulk batch arrives in time order across products; in
 * this order each product's rows enter the key index together and in time order, so they take
 * the multi-row path and the index's writes stay local.
 */
function keyOrder(states: readonly ProductState[], times: Float64Array): Int32Array {
  const n = states.length;
  const order = new Int32Array(n);
  if (n === 0) return order;
  let min = Infinity;
  let max = -Infinity;
  for (const s of states) {
    if (s.id < min) min = s.id;
    if (s.id > max) max = s.id;
  }
  const starts = new Int32Array(max - min + 2);
  for (const s of states) (starts[s.id - min + 1] as number)++;
  for (let k = 1; k < starts.length; k++) starts[k] = (starts[k] as number) + (starts[k - 1] as number);
  const runEnds = starts.slice(1);
  for (let i = 0; i < n; i++) order[(starts[(states[i] as ProductState).id - min] as number)++] = i;
  // Insertion sort of each run by time (stable: equal times keep input order).
  let from = 0;
  for (const end of runEnds) {
    for (let k = from + 1; k < end; k++) {
      const i = order[k] as number;
      const t = times[i] as number;
      let j = k - 1;
      while (j >= from && (times[order[j] as number] as number) > t) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = i;
    }
    from = end;
  }
  return order;
}

/**
 * The single path by which cleaned rows enter the cache: one typed row per observation in
 * `observation_records` (migration 0900; docs/decisions/0012-typed-cache-rows.md), its product
 * and (title, category, currency) through the dictionaries `product_keys` and `descriptors`, and
 * the dashboard rollups (dashboard-rollups.ts) kept exactly consistent with the rows.
 *
 * A row later than everything known of its product cannot be a duplicate: nearly all rows
 * (producers write in time order) take that path, 64 rows to an INSERT. One at the instant of its
 * product's latest row is a duplicate. Any other late one is inserted alone with OR IGNORE, and
 * the key index says whether it was new. During a bulk load into an empty cache the key is built
 * after the rows (bulk-load.ts): what only it can answer builds it first.
 */
export function createObservationWriter(db: CacheDb, options: ObservationWriterOptions = {}): ObservationWriter {
  const origin = options.origin ?? 'local';
  const insertMany = db.prepare(`INSERT INTO observation_records (${INSERT_COLUMNS}) VALUES ${Array(ROWS_PER_INSERT).fill(ROW_PLACEHOLDERS).join(', ')}`);
  const insertOne = db.prepare(`INSERT INTO observation_records (${INSERT_COLUMNS}) VALUES ${ROW_PLACEHOLDERS}`);
  const insertLate = db.prepare(`INSERT OR IGNORE INTO observation_records (${INSERT_COLUMNS}) VALUES ${ROW_PLACEHOLDERS}`);
  const priceBeforeRow = db.prepare('SELECT price FROM observation_records WHERE product = ? AND observed_at < ? ORDER BY observed_at DESC LIMIT 1').pluck();
  // A product and its latest row (product_keys.last_row, migration 1000): no need of the key.
  const selectProduct = db.prepare(
    'SELECT k.id, o.observed_at, o.price, k.last_row FROM product_keys k LEFT JOIN observation_records o ON o.rowid = k.last_row WHERE k.source = ? AND k.product_id = ?',
  ).raw();
  const setLastRow = db.prepare('UPDATE product_keys SET last_row = ? WHERE id = ?');
  const productById = db.prepare('SELECT source, product_id FROM product_keys WHERE id = ?').raw();
  const insertProductKey = db.prepare('INSERT INTO product_keys (source, product_id) VALUES (?, ?)');
  const selectDescriptor = db.prepare('SELECT id FROM descriptors WHERE title = ? AND category = ? AND currency = ?').pluck();
  const insertDescriptor = db.prepare('INSERT INTO descriptors (title, category, currency) VALUES (?, ?, ?)');
  const descriptorAt = db.prepare('SELECT title, category, currency FROM descriptors WHERE id = ?').raw();
  const rollups = createRollupMaintainer(db);
  // False while a bulk load defers the key: read at each batch (another connection may build it).
  const keyIndexExists = keyIndexCheck(db);
  let keyIndexed = true;
  function needKeyIndex(): void {
    if (keyIndexed) return;
    ensureKeyIndex(db);
    keyIndexed = true;
  }

  // What the writer remembers of committed (or this transaction's) state; reset() drops it.
  const owner = {};
  let generation = 0;
  let products = new Map<string, Map<string, ProductState>>();
  let descriptors = new Map<string, number>();
  // The newest entry of each dictionary this writer created: still there at the next batch means
  // every earlier one is too; gone or different means a rollback, and what it remembers is dropped.
  let newestProduct: ProductState | undefined;
  let newestDescriptor: { id: number; title: string; category: string; currency: string } | undefined;

  const queued: unknown[] = new Array<unknown>(ROWS_PER_INSERT * COLUMNS);
  // The product of each queued row (each becomes its product's latest: late rows are not queued).
  const queuedStates: ProductState[] = [];
  let queuedRows = 0;
  // Products whose latest row changed since the last flush (their last_row to write).
  let dirty: ProductState[] = [];

  function reset(): void {
    generation++;
    products = new Map();
    descriptors = new Map();
    newestProduct = undefined;
    newestDescriptor = undefined;
    queuedRows = 0;
    dirty = [];
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

  /** Drops what may be stale: a rolled-back transaction, or another connection's writes since the last batch. */
  function begin(): void {
    const stale = rollups.beginBatch();
    if (stale || !allocationsHold()) reset();
    keyIndexed = keyIndexExists();
  }

  /** The product's state, read or created. */
  function productState(source: string, productId: string): ProductState {
    let bySource = products.get(source);
    if (bySource === undefined) products.set(source, (bySource = new Map()));
    const remembered = bySource.get(productId);
    if (remembered !== undefined) return remembered;
    const known = selectProduct.get(source, productId) as [number, string | null, number | null, number | null] | undefined;
    const id = known ? known[0] : Number(insertProductKey.run(source, productId).lastInsertRowid);
    const latestAt = known?.[1] ?? null;
    const state: ProductState = {
      id,
      source,
      productId,
      lastT: latestAt === null ? -Infinity : instantMs(latestAt),
      lastPrice: latestAt === null ? NaN : (known?.[2] as number),
      lastRow: known?.[3] ?? -1,
      lastRowDirty: false,
      descriptor: -1,
      title: '',
      category: '',
      currency: '',
      slot: undefined,
      slotDt: '',
      slotCategory: '',
      slotGeneration: -1,
      numberingId: -1,
      number: -1,
    };
    if (known === undefined) newestProduct = state;
    bySource.set(productId, state);
    return state;
  }

  function product(source: string, productId: string): ProductRef {
    const state = productState(source, productId);
    const ref: WriterRef = { owner, generation, state, lastT: state.lastT, lastPrice: state.lastPrice };
    return ref;
  }

  /** The descriptor id of a row (the product's previous one, mostly), read or created. */
  function descriptorOf(state: ProductState, row: CleanRow): number {
    if (row.title === state.title && row.category === state.category && row.currency === state.currency) return state.descriptor;
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
    state.descriptor = id;
    state.title = row.title;
    state.category = row.category;
    state.currency = row.currency;
    return id;
  }

  /** A queued row's rowid: the product's latest row now (its last_row at the next flush). */
  function rowStored(r: number, rowid: number): void {
    const state = queuedStates[r] as ProductState;
    state.lastRow = rowid;
    if (!state.lastRowDirty) {
      state.lastRowDirty = true;
      dirty.push(state);
    }
  }

  function insertQueued(): void {
    if (queuedRows === ROWS_PER_INSERT) {
      // One statement's rows take consecutive rowids, in VALUES order (the table only appends).
      const last = Number(insertMany.run(queued).lastInsertRowid);
      for (let r = 0; r < queuedRows; r++) rowStored(r, last - queuedRows + 1 + r);
    } else {
      for (let r = 0; r < queuedRows; r++) rowStored(r, Number(insertOne.run(queued.slice(r * COLUMNS, (r + 1) * COLUMNS)).lastInsertRowid));
    }
    queuedRows = 0;
  }

  function writeBatch(rows: readonly CleanRow[], refs?: readonly ProductRef[]): WriteResult {
    begin();
    // Rows queued by a batch that threw (a bad dt) are not this batch's.
    queuedRows = 0;
    const states = rows.map((row, i) => {
      const ref = refs?.[i] as WriterRef | undefined;
      return ref !== undefined && ref.owner === owner && ref.generation === generation ? ref.state : productState(row.source, row.product_id);
    });
    const times = new Float64Array(rows.length);
    rows.forEach((row, i) => {
      times[i] = row.observed_ms ?? instantMs(row.observed_at);
    });
    let inserted = 0;
    let maxT = -Infinity;
    for (const i of keyOrder(states, times)) {
      const row = rows[i] as CleanRow;
      const state = states[i] as ProductState;
      const t = times[i] as number;
      const iso = row.observed_at; // read once: it may be a getter (the bench's rows)
      const observedAt = isCanonical(iso) ? iso : new Date(t).toISOString();
      const dt = observedAt.slice(0, 10);
      if (row.dt !== dt) throw new Error(`observation writer: dt ${JSON.stringify(row.dt)} is not the day of observed_at ${JSON.stringify(row.observed_at)}`);
      // At the instant of its product's latest row (stored or written here): that row's key.
      if (t === state.lastT) continue;
      const descriptor = descriptorOf(state, row);
      const isDrop = row.is_drop ? 1 : 0;
      const isLate = !(t > state.lastT);
      // The queued rows go first when a late row comes: they may hold its key.
      if (isLate) {
        insertQueued();
        needKeyIndex();
      }
      const at = queuedRows * COLUMNS;
      queued[at] = state.id;
      queued[at + 1] = descriptor;
      queued[at + 2] = observedAt;
      queued[at + 3] = dt;
      queued[at + 4] = row.price;
      queued[at + 5] = row.old_price;
      queued[at + 6] = row.drop_amount;
      queued[at + 7] = row.drop_pct;
      queued[at + 8] = isDrop;
      queued[at + 9] = isDrop ? 'drop' : 'no drop';
      queued[at + 10] = origin;
      if (!isLate) {
        // Later than every row of its product: new.
        queuedStates[queuedRows] = state;
        if (++queuedRows === ROWS_PER_INSERT) insertQueued();
        state.lastT = t;
        state.lastPrice = row.price;
      } else if (insertLate.run(queued.slice(0, COLUMNS)).changes === 0) {
        // A late row the key index already had.
        continue;
      }
      inserted++;
      if (t > maxT) maxT = t;
      // The row's rollups: its (day, category) slot, then its product's number there.
      if (state.slot === undefined || state.slotGeneration !== rollups.slotGeneration || state.slotDt !== dt || state.slotCategory !== row.category) {
        state.slot = rollups.slotFor(dt, row.category);
        state.slotDt = dt;
        state.slotCategory = row.category;
        state.slotGeneration = rollups.slotGeneration;
      }
      const slot = state.slot;
      if (state.numberingId !== slot.numberingId) {
        state.number = rollups.numberIn(slot, state.source, state.productId);
        state.numberingId = slot.numberingId;
      }
      rollups.addToSlot(slot, state.number, isDrop === 1, row.drop_pct ?? NaN);
    }
    insertQueued();
    if (maxT > -Infinity) rollups.observed(new Date(maxT).toISOString());
    if (rollups.pendingSize() > MAX_PENDING_ROLLUPS) rollups.flush();
    return { inserted, duplicates: rows.length - inserted };
  }

  function priceBefore(source: string, productId: string, t: number): number | undefined {
    const state = productState(source, productId);
    needKeyIndex();
    return priceBeforeRow.get(state.id, new Date(t).toISOString()) as number | undefined;
  }

  function flush(): void {
    for (const state of dirty) {
      setLastRow.run(state.lastRow, state.id);
      state.lastRowDirty = false;
    }
    dirty = [];
    rollups.flush();
  }

  return { writeBatch, product, priceBefore, forget: reset, flush };
}
