/**
 * The CPU half of writing observations: cleaned rows (objects with strings) to an `EncodedBatch`
 * (typed columns in the cache's key order, dictionary-coded), with no database handle, so it can
 * run on any thread. The SQLite half, `createObservationStore` in observation-writer.ts, applies
 * encoded batches. docs/decisions/0009-two-thread-ingest.md.
 */

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

export const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * A batch of observations as columns. Nullable numbers are NaN for NULL. A product or descriptor
 * the encoder had no id for is a negative number: -1 - k names the k-th entry of newProducts
 * (pairs source, product_id) or newDescriptors (triples title, category, currency); the store
 * resolves them and tells the encoder (`learn`).
 */
export interface EncodedBatch {
  n: number;
  /** True: rows are in (product, t, input) order. False (some product had no id): input order. */
  sorted: boolean;
  hour: Float64Array;
  t: Float64Array;
  product: Int32Array;
  descriptor: Int32Array;
  price: Float64Array;
  oldPrice: Float64Array;
  dropAmount: Float64Array;
  dropPct: Float64Array;
  isDrop: Uint8Array;
  newProducts: string[];
  newDescriptors: string[];
}

/** The ids the store gave an encoded batch's new products and descriptors (same order). */
export interface Resolved {
  products: number[];
  descriptors: number[];
}

/**
 * (source, product_id) -> product_keys.id: an open-addressing hash table over typed arrays, the
 * hash computed from product_id's characters. A row's lookup reads its own strings and one or
 * two slots of a table that stays in cache; a Map of 50k products cost three cache misses (its
 * buckets, its entries), 0.6 us a row on the project machine with another thread writing beside it.
 * No key string is built per row.
 */
export class ProductDictionary {
  private size = 0;
  private mask = 1023;
  private ids = new Int32Array(1024).fill(-1);
  private hashes = new Int32Array(1024);
  private sources: (string | undefined)[] = new Array<string | undefined>(1024);
  private productIds: (string | undefined)[] = new Array<string | undefined>(1024);

  private static hash(productId: string): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < productId.length; i++) h = Math.imul(h ^ productId.charCodeAt(i), 0x01000193);
    return h | 0;
  }

  get(source: string, productId: string): number | undefined {
    const h = ProductDictionary.hash(productId);
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const id = this.ids[slot] as number;
      if (id < 0) return undefined;
      if (this.hashes[slot] === h && this.productIds[slot] === productId && this.sources[slot] === source) return id;
    }
  }

  set(source: string, productId: string, id: number): void {
    if (id < 0) throw new Error('product dictionary: ids are not negative');
    const h = ProductDictionary.hash(productId);
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const known = this.ids[slot] as number;
      if (known < 0) {
        this.ids[slot] = id;
        this.hashes[slot] = h;
        this.sources[slot] = source;
        this.productIds[slot] = productId;
        if (++this.size * 2 > this.mask) this.grow();
        return;
      }
      if (this.hashes[slot] === h && this.productIds[slot] === productId && this.sources[slot] === source) {
        this.ids[slot] = id;
        return;
      }
    }
  }

  private grow(): void {
    const { ids, hashes, sources, productIds } = this;
    const capacity = (this.mask + 1) * 2;
    this.mask = capacity - 1;
    this.ids = new Int32Array(capacity).fill(-1);
    this.hashes = new Int32Array(capacity);
    this.sources = new Array<string | undefined>(capacity);
    this.productIds = new Array<string | undefined>(capacity);
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k] as number;
      if (id < 0) continue;
      let slot = (hashes[k] as number) & this.mask;
      while ((this.ids[slot] as number) >= 0) slot = (slot + 1) & this.mask;
      this.ids[slot] = id;
      this.hashes[slot] = hashes[k] as number;
      this.sources[slot] = sources[k];
      this.productIds[slot] = productIds[k];
    }
  }

  clear(): void {
    this.size = 0;
    this.mask = 1023;
    this.ids = new Int32Array(1024).fill(-1);
    this.hashes = new Int32Array(1024);
    this.sources = new Array<string | undefined>(1024);
    this.productIds = new Array<string | undefined>(1024);
  }
}

/**
 * `array[index] = value`, growing the array one slot at a time: assigning far past the end would
 * turn it into a slow dictionary-mode array (ids index these tables, and they start wherever the
 * cache's ids are).
 */
export function setDense<T>(array: (T | undefined)[], index: number, value: T): void {
  while (array.length < index) array.push(undefined);
  array[index] = value;
}

export function descriptorKey(title: string, category: string, currency: string): string {
  return title + '\u0001' + category + '\u0001' + currency;
}

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
 * The rows of a batch in (product, time) order, input order among equal keys (so the first row
 * of a key still comes first): a counting sort by product id (ids are dense: a tenth of sorting
 * packed keys), each row put in its product's run by time (runs are a handful of rows). The store
 * then walks product records and pending blocks in order. Undefined (input order) when products
 * are unresolved (negative). The order is valid until the next call with the same scratch.
 */
export function keyOrder(n: number, t: Float64Array, product: Int32Array, scratch?: KeyOrderScratch): Float64Array | undefined {
  if (n < 2) return undefined;
  let minProduct = Infinity;
  let maxProduct = -1;
  for (let i = 0; i < n; i++) {
    const p = product[i] as number;
    if (p < 0) return undefined;
    if (p > maxProduct) maxProduct = p;
    if (p < minProduct) minProduct = p;
  }
  const span = maxProduct - minProduct + 1;
  if (span > 4 * n + 4096) return sparseKeyOrder(n, t, product);
  const memory = scratch ?? new KeyOrderScratch();
  const { starts, cursor, order } = memory.room(n, span + 1);
  starts.fill(0, 0, span + 1);
  for (let i = 0; i < n; i++) (starts[(product[i] as number) - minProduct + 1] as number)++;
  for (let p = 0; p < span; p++) (starts[p + 1] as number) += starts[p] as number;
  cursor.set(starts.subarray(0, span));
  for (let i = 0; i < n; i++) {
    const p = (product[i] as number) - minProduct;
    // Into the product's run, after its rows of an earlier or equal time (insertion: runs are short).
    const time = t[i] as number;
    let j = (cursor[p] as number)++ - 1;
    const start = starts[p] as number;
    while (j >= start && (t[order[j] as number] as number) > time) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = i;
  }
  return order.subarray(0, n);
}

/** keyOrder for a batch of few products far apart in id: one numeric sort of packed (product, index) keys, then runs by time. */
function sparseKeyOrder(n: number, t: Float64Array, product: Int32Array): Float64Array | undefined {
  let maxProduct = 0;
  for (let i = 0; i < n; i++) if ((product[i] as number) > maxProduct) maxProduct = product[i] as number;
  if (!((maxProduct + 1) * n < 2 ** 53)) return undefined;
  const order = new Float64Array(n);
  for (let i = 0; i < n; i++) order[i] = (product[i] as number) * n + i;
  order.sort();
  let runStart = 0;
  let runProduct = -1;
  for (let k = 0; k < n; k++) {
    const key = order[k] as number;
    const p = Math.floor(key / n);
    const i = key - p * n;
    if (p !== runProduct) {
      runProduct = p;
      runStart = k;
    }
    let j = k - 1;
    while (j >= runStart && (t[order[j] as number] as number) > (t[i] as number)) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = i;
  }
  return order;
}

/** keyOrder's memory, kept between calls by an encoder. */
export class KeyOrderScratch {
  private orderBuffer = new Float64Array(0);
  private startsBuffer = new Int32Array(0);
  private cursorBuffer = new Int32Array(0);
  room(n: number, buckets: number): { order: Float64Array; starts: Int32Array; cursor: Int32Array } {
    if (this.orderBuffer.length < n) this.orderBuffer = new Float64Array(Math.max(n, this.orderBuffer.length * 2));
    if (this.startsBuffer.length < buckets) {
      this.startsBuffer = new Int32Array(Math.max(buckets, this.startsBuffer.length * 2));
      this.cursorBuffer = new Int32Array(this.startsBuffer.length);
    }
    return { order: this.orderBuffer, starts: this.startsBuffer, cursor: this.cursorBuffer };
  }
}

/** The typed columns of an EncodedBatch and their array types: one list for allocating, viewing and transferring them. */
const COLUMN_TYPES = {
  hour: Float64Array,
  t: Float64Array,
  product: Int32Array,
  descriptor: Int32Array,
  price: Float64Array,
  oldPrice: Float64Array,
  dropAmount: Float64Array,
  dropPct: Float64Array,
  isDrop: Uint8Array,
} as const;
type ColumnName = keyof typeof COLUMN_TYPES;
const COLUMN_NAMES = Object.keys(COLUMN_TYPES) as ColumnName[];
type ColumnArrays = Record<ColumnName, Float64Array | Int32Array | Uint8Array>;

/** A batch of n rows whose columns `column(name)` makes. */
function batchOf(n: number, column: (name: ColumnName) => Float64Array | Int32Array | Uint8Array): EncodedBatch {
  const batch = { n, sorted: false, newProducts: [], newDescriptors: [] } as unknown as EncodedBatch;
  for (const name of COLUMN_NAMES) (batch as unknown as ColumnArrays)[name] = column(name);
  return batch;
}

/** Where a batch's columns come from: fresh arrays (they may be transferred to another thread), or reused ones. */
type Columns = (n: number) => EncodedBatch;

function emptyBatch(n: number): EncodedBatch {
  return batchOf(n, (name) => new COLUMN_TYPES[name](n));
}

/**
 * Columns over buffers kept between calls (grown as needed): valid until the next call. For a
 * batch stored on the same thread before the next is encoded; saves the garbage collector about
 * 1 MB of typed arrays per 8,192 rows (the ETL: GC 410 -> 826 ms per 1M rows without it).
 */
function reusedColumns(): Columns {
  let buffers = emptyBatch(0);
  return (n) => {
    if (buffers.n < n) buffers = emptyBatch(Math.max(n, buffers.n * 2));
    return batchOf(n, (name) => buffers[name].subarray(0, n));
  };
}

/** The batch's columns rearranged into `order` (the nine copies written out, not a loop over COLUMN_NAMES: this runs for every row). */
function permuted(b: EncodedBatch, order: Float64Array, columns: Columns): EncodedBatch {
  const out = columns(b.n);
  for (let k = 0; k < b.n; k++) {
    const i = order[k] as number;
    out.hour[k] = b.hour[i] as number;
    out.t[k] = b.t[i] as number;
    out.product[k] = b.product[i] as number;
    out.descriptor[k] = b.descriptor[i] as number;
    out.price[k] = b.price[i] as number;
    out.oldPrice[k] = b.oldPrice[i] as number;
    out.dropAmount[k] = b.dropAmount[i] as number;
    out.dropPct[k] = b.dropPct[i] as number;
    out.isDrop[k] = b.isDrop[i] as number;
  }
  out.sorted = true;
  out.newProducts = b.newProducts;
  out.newDescriptors = b.newDescriptors;
  return out;
}

/** The typed arrays of a batch, for postMessage's transfer list (in COLUMN_NAMES order). */
export function batchBuffers(b: EncodedBatch): ArrayBuffer[] {
  return COLUMN_NAMES.map((name) => b[name].buffer as ArrayBuffer);
}

/**
 * Column buffers that came back from the thread that stored them (batchBuffers order), for the
 * next batches: an encoder thread that allocated ~1 MB of typed arrays per 16k-row batch made
 * its garbage collector mark the million row objects it holds again and again.
 */
export class ColumnPool {
  private free: ArrayBuffer[][] = [];
  give(buffers: ArrayBuffer[]): void {
    if (buffers.length === COLUMN_NAMES.length) this.free.push(buffers);
  }
  /** Columns of n rows over pooled buffers big enough, else fresh ones. */
  take(n: number): EncodedBatch {
    for (let k = this.free.length - 1; k >= 0; k--) {
      const buffers = this.free[k] as ArrayBuffer[];
      if (COLUMN_NAMES.every((name, c) => (buffers[c] as ArrayBuffer).byteLength >= n * COLUMN_TYPES[name].BYTES_PER_ELEMENT)) {
        this.free.splice(k, 1);
        return batchOf(n, (name) => new COLUMN_TYPES[name](buffers[COLUMN_NAMES.indexOf(name)] as ArrayBuffer, 0, n));
      }
    }
    return emptyBatch(n);
  }
}

export interface ObservationEncoder {
  /**
   * Encodes rows. `ids[i]`, when given and not negative, is row i's product id (the caller already
   * looked it up). Throws on an unreadable observed_at or a dt that is not its day.
   */
  encode(rows: readonly CleanRow[], ids?: ArrayLike<number>): EncodedBatch;
  /** Records the ids the store gave a batch's new products and descriptors. */
  learn(batch: Pick<EncodedBatch, 'newProducts' | 'newDescriptors'>, resolved: Resolved): void;
  /** Forgets every id (after the store dropped its caches: a rolled-back id may be given again). */
  reset(): void;
}

export interface EncoderOptions {
  /**
   * Reuse the column buffers between calls: each batch is then valid only until the next encode
   * (the in-thread writer stores it first). Off for batches posted to another thread.
   */
  reuseBuffers?: boolean;
  /** Where batches posted to another thread take their columns (the buffers the store gave back). */
  pool?: ColumnPool;
}

/**
 * An encoder over the given dictionaries (the in-thread writer shares them with its store; an
 * encoder on another thread keeps its own and learns the ids from the store's answers).
 */
export function createObservationEncoder(products = new ProductDictionary(), descriptors = new Map<string, number>(), options: EncoderOptions = {}): ObservationEncoder {
  const pool = options.pool;
  const fresh: Columns = pool ? (n) => pool.take(n) : emptyBatch;
  const inputColumns: Columns = options.reuseBuffers ? reusedColumns() : fresh;
  const sortedColumns: Columns = options.reuseBuffers ? reusedColumns() : fresh;
  const keyScratch = new KeyOrderScratch();
  // Per product id, its previous row's title, category, currency and descriptor id (a title
  // rarely changes), to skip the descriptor map: four slots of one array, so a row reads one
  // place (an object per product cost a second cache miss per row).
  let lastSeen: (string | number | undefined)[] = [];
  // The day of the previous row's observed_ms and its YYYY-MM-DD: dt is checked against it
  // without reading the row's observed_at string (a cache miss per row).
  let lastDay = NaN;
  let lastDt = '';

  function encode(rows: readonly CleanRow[], ids?: ArrayLike<number>): EncodedBatch {
    const n = rows.length;
    const b = inputColumns(n);
    let newProducts: ProductDictionary | undefined;
    let newDescriptors: Map<string, number> | undefined;
    let unresolved = false;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as CleanRow;
      let t = row.observed_ms;
      if (t === undefined) {
        t = instantMs(row.observed_at);
        if (row.observed_at.length === 24 && !row.observed_at.startsWith(row.dt)) {
          throw new Error(`observation writer: dt ${row.dt} is not the day of observed_at ${row.observed_at}`);
        }
      } else if (row.dt !== lastDt || Math.floor(t / DAY_MS) !== lastDay) {
        const day = Math.floor(t / DAY_MS);
        const dt = Number.isFinite(t) ? new Date(day * DAY_MS).toISOString().slice(0, 10) : '';
        if (row.dt !== dt) throw new Error(`observation writer: dt ${row.dt} is not the day of observed_at ${row.observed_at}`);
        lastDay = day;
        lastDt = row.dt;
      }
      let id = ids === undefined ? -1 : (ids[i] as number);
      if (id < 0) id = products.get(row.source, row.product_id) ?? -1;
      if (id < 0) {
        // The batch's new products by their position k in newProducts (coded -1 - k).
        newProducts ??= new ProductDictionary();
        const k = newProducts.get(row.source, row.product_id);
        if (k === undefined) {
          id = -1 - b.newProducts.length / 2;
          newProducts.set(row.source, row.product_id, b.newProducts.length / 2);
          b.newProducts.push(row.source, row.product_id);
        } else id = -1 - k;
        unresolved = true;
      }
      let descriptor: number;
      const at = id * 4;
      if (id >= 0 && lastSeen[at] === row.title && lastSeen[at + 1] === row.category && lastSeen[at + 2] === row.currency) {
        descriptor = lastSeen[at + 3] as number;
      } else {
        const key = descriptorKey(row.title, row.category, row.currency);
        const known = descriptors.get(key) ?? newDescriptors?.get(key);
        if (known === undefined) {
          newDescriptors ??= new Map();
          descriptor = -1 - b.newDescriptors.length / 3;
          newDescriptors.set(key, descriptor);
          b.newDescriptors.push(row.title, row.category, row.currency);
        } else descriptor = known;
        if (id >= 0 && descriptor >= 0) {
          while (lastSeen.length < at) lastSeen.push(undefined);
          lastSeen[at] = row.title;
          lastSeen[at + 1] = row.category;
          lastSeen[at + 2] = row.currency;
          lastSeen[at + 3] = descriptor;
        }
      }
      b.hour[i] = Math.floor(t / HOUR_MS);
      b.t[i] = t;
      b.product[i] = id;
      b.descriptor[i] = descriptor;
      b.price[i] = row.price;
      b.oldPrice[i] = row.old_price ?? NaN;
      b.dropAmount[i] = row.drop_amount ?? NaN;
      b.dropPct[i] = row.drop_pct ?? NaN;
      b.isDrop[i] = row.is_drop ? 1 : 0;
    }
    if (unresolved) return b;
    const order = keyOrder(n, b.t, b.product, keyScratch);
    if (order === undefined) {
      b.sorted = n < 2;
      return b;
    }
    const sorted = permuted(b, order, sortedColumns);
    // The input columns were only a step: back to the pool.
    if (pool) pool.give(batchBuffers(b));
    return sorted;
  }

  function learn(batch: Pick<EncodedBatch, 'newProducts' | 'newDescriptors'>, resolved: Resolved): void {
    for (let k = 0; k < resolved.products.length; k++) {
      products.set(batch.newProducts[2 * k] as string, batch.newProducts[2 * k + 1] as string, resolved.products[k] as number);
    }
    for (let k = 0; k < resolved.descriptors.length; k++) {
      const [title, category, currency] = batch.newDescriptors.slice(3 * k, 3 * k + 3) as [string, string, string];
      descriptors.set(descriptorKey(title, category, currency), resolved.descriptors[k] as number);
    }
  }

  function reset(): void {
    products.clear();
    descriptors.clear();
    lastSeen = [];
  }

  return { encode, learn, reset };
}
