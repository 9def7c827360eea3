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

/**
 * A batch of observations as columns. Nullable numbers are NaN for NULL. A product or descriptor
 * the encoder had no id for is a negative number: -1 - k names the k-th entry of newProducts
 * (pairs source, product_id) or newDescriptors (triples title, category, currency); the store
 * resolves them and tells the encoder (`learn`).
 */
export interface EncodedBatch {
  n: number;
  /** True: rows are in (hour, product, t, input) order. False (some product had no id): input order. */
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

/** (source, product_id) -> product_keys.id: nested maps, so no key string is built per row. */
export class ProductDictionary {
  private bySource = new Map<string, Map<string, number>>();
  get(source: string, productId: string): number | undefined {
    return this.bySource.get(source)?.get(productId);
  }
  set(source: string, productId: string, id: number): void {
    let ids = this.bySource.get(source);
    if (ids === undefined) this.bySource.set(source, (ids = new Map()));
    ids.set(productId, id);
  }
  clear(): void {
    this.bySource = new Map();
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
 * The rows of a batch in (hour, product, time) order, input order among equal keys (so the first
 * row of a key still comes first): one numeric sort of packed (hour, product, index) keys, then
 * each (hour, product) run, a handful of rows, by time. Undefined (input order) when the packed keys
 * would not fit in a double's 53 bits or products are unresolved (negative).
 */
export function keyOrder(n: number, hour: Float64Array, t: Float64Array, product: Int32Array, scratch?: Float64Array): Float64Array | undefined {
  if (n < 2) return undefined;
  let minHour = Infinity;
  let maxHour = -Infinity;
  let maxProduct = 0;
  for (let i = 0; i < n; i++) {
    const h = hour[i] as number;
    const p = product[i] as number;
    if (p < 0) return undefined;
    if (h < minHour) minHour = h;
    if (h > maxHour) maxHour = h;
    if (p > maxProduct) maxProduct = p;
  }
  const groups = (maxHour - minHour + 1) * (maxProduct + 1);
  if (!(groups * n < 2 ** 53)) return undefined;
  const keys = scratch !== undefined && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = (((hour[i] as number) - minHour) * (maxProduct + 1) + (product[i] as number)) * n + i;
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
    const time = t[i] as number;
    let j = k - 1;
    while (j >= runStart) {
      const other = order[j] as number;
      const ot = t[other] as number;
      if (ot < time || (ot === time && other < i)) break;
      order[j + 1] = other;
      j--;
    }
    order[j + 1] = i;
  }
  return order;
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

/** The typed arrays of a batch, for postMessage's transfer list. */
export function batchBuffers(b: EncodedBatch): ArrayBuffer[] {
  return COLUMN_NAMES.map((name) => b[name].buffer as ArrayBuffer);
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
}

/**
 * An encoder over the given dictionaries (the in-thread writer shares them with its store; an
 * encoder on another thread keeps its own and learns the ids from the store's answers).
 */
export function createObservationEncoder(products = new ProductDictionary(), descriptors = new Map<string, number>(), options: EncoderOptions = {}): ObservationEncoder {
  const inputColumns: Columns = options.reuseBuffers ? reusedColumns() : emptyBatch;
  const sortedColumns: Columns = options.reuseBuffers ? reusedColumns() : emptyBatch;
  let keyScratch = new Float64Array(0);
  // Per product id: its previous row's descriptor (a title rarely changes), to skip the descriptor
  // map; one object per product, so a row reads one place, not four arrays.
  let lastSeen: ({ title: string; category: string; currency: string; descriptor: number } | undefined)[] = [];

  function encode(rows: readonly CleanRow[], ids?: ArrayLike<number>): EncodedBatch {
    const n = rows.length;
    const b = inputColumns(n);
    let newProducts: ProductDictionary | undefined;
    let newDescriptors: Map<string, number> | undefined;
    let unresolved = false;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as CleanRow;
      const t = row.observed_ms ?? instantMs(row.observed_at);
      if (row.observed_at.length === 24 && !row.observed_at.startsWith(row.dt)) {
        throw new Error(`observation writer: dt ${row.dt} is not the day of observed_at ${row.observed_at}`);
      }
      let id = ids === undefined ? -1 : (ids[i] as number);
      if (id < 0) id = products.get(row.source, row.product_id) ?? -1;
      if (id < 0) {
        newProducts ??= new ProductDictionary();
        const temporary = newProducts.get(row.source, row.product_id);
        if (temporary === undefined) {
          id = -1 - b.newProducts.length / 2;
          newProducts.set(row.source, row.product_id, id);
          b.newProducts.push(row.source, row.product_id);
        } else id = temporary;
        unresolved = true;
      }
      let descriptor: number;
      const seen = id >= 0 ? lastSeen[id] : undefined;
      if (seen !== undefined && seen.title === row.title && seen.category === row.category && seen.currency === row.currency) {
        descriptor = seen.descriptor;
      } else {
        const key = descriptorKey(row.title, row.category, row.currency);
        const known = descriptors.get(key) ?? newDescriptors?.get(key);
        if (known === undefined) {
          newDescriptors ??= new Map();
          descriptor = -1 - b.newDescriptors.length / 3;
          newDescriptors.set(key, descriptor);
          b.newDescriptors.push(row.title, row.category, row.currency);
        } else descriptor = known;
        if (id >= 0 && descriptor >= 0) setDense(lastSeen, id, { title: row.title, category: row.category, currency: row.currency, descriptor });
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
    if (options.reuseBuffers && keyScratch.length < n) keyScratch = new Float64Array(Math.max(n, keyScratch.length * 2));
    const order = keyOrder(n, b.hour, b.t, b.product, options.reuseBuffers ? keyScratch : undefined);
    if (order === undefined) {
      b.sorted = n < 2;
      return b;
    }
    return permuted(b, order, sortedColumns);
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
