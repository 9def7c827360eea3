import { ensureKeyIndex } from './bulk-load';
import type { CacheDb } from './cache-db';

/**
 * Rollups that let the six dashboard panels answer in milliseconds over millions of
 * observations (a plain GROUP BY over 2M rows takes 250 to 460 ms here). Created by migration
 * `0500-dashboard-rollups` and kept exactly consistent with `observations`:
 *
 * - `rollup_daily (dt, category, is_drop)`: observation count, count of non-null drop_pct and
 *   their sum in hundredths of a percent (integers, so sums are exact whatever the order).
 *   Averages, drop counts, splits, trends and category rankings are sums over it.
 * - `rollup_category_products` numbers each category's products densely (`dropped`: the product
 *   has a drop row in that category), and `rollup_presence (dt, category, kind)` holds, per day,
 *   a bitmap of the category's product numbers seen that day (any row / a drop row / a no-drop
 *   row) and its popcount (`products`). Distinct products under any date range are the popcount
 *   of the OR of the days' bitmaps, answered in memory (pipeline/dashboard/product-presence.ts);
 *   a product seen in several categories is counted once. The Power BI views read `products`
 *   and `dropped` with plain SQL.
 *   A flush touches one row per (day, category, kind), not one per product: an ETL file of one
 *   day costs about 180 upserts whatever its size.
 *
 * Maintenance happens in the one writer of observations (observation-writer.ts): each inserted
 * row is added to pending in-memory deltas, written by `flush()` inside the caller's
 * transaction, so a rollback discards observations and rollups together. `version` columns hold
 * the `rollup_state.version` of the flush that last changed the row, so readers reload only what
 * changed.
 */

/** Presence kinds: the `kind` column of rollup_presence. */
export const KIND_ANY = 0;
export const KIND_DROP = 1;
export const KIND_NO_DROP = 2;

/** A pending (day, category) delta (see RollupMaintainer.slotFor). */
export interface RollupSlot {
  /** The category numbering the slot uses: a product's number stays valid while this does. */
  readonly numberingId: number;
}

/** What `add` needs from an inserted observation. */
export interface RollupRow {
  source: string;
  product_id: string;
  dt: string;
  category: string;
  drop_pct: number | null;
  is_drop: boolean;
}

/** Pending deltas of one (day, category): counts by is_drop and the presence bitmaps by kind. */
interface Slot extends RollupSlot {
  dt: string;
  category: string;
  numbering: Numbering;
  observations: [number, number];
  dropPctN: [number, number];
  dropPctSumC: [number, number];
  kinds: [Bitset, Bitset, Bitset];
}

/** A category's product numbers: source -> product_id -> n (nested maps: no key strings to build per row). */
interface Numbering {
  /** Unique per numbering object: a reloaded numbering gets a new id (see RollupSlot). */
  id: number;
  category: string;
  bySource: Map<string, Map<string, number>>;
  size: number;
  /** Numbers whose product has a drop row in the category (stored, or pending in `newlyDropped`). */
  dropped: Bitset;
}

export interface RollupMaintainer {
  /**
   * Call at the start of each batch, inside the caller's transaction: detects that the previous
   * batch's transaction was rolled back (its pending deltas are dropped) or that another
   * connection wrote rollups since (product numbers are reloaded). Returns true in either case:
   * what the caller cached about the stored rows may be stale too.
   */
  beginBatch(): boolean;
  /** Records one row that was just inserted into `observations` (only when the insert changed a row). */
  add(row: RollupRow): void;
  /**
   * `add` in three steps, for a caller that keeps its own lookups per row (the observation store):
   * the pending (day, category) slot, the product's number in that category (stable while the
   * slot's numberingId is), then the row's counts.
   */
  slotFor(dt: string, category: string): RollupSlot;
  numberIn(slot: RollupSlot, source: string, productId: string): number;
  /** `dropPct` NaN for NULL. */
  addToSlot(slot: RollupSlot, n: number, isDrop: boolean, dropPct: number): void;
  /** Changes whenever pending slots are dropped (flush, rollback): slots obtained before are void. */
  readonly slotGeneration: number;
  /** Raises rollup_state.last_observed_at (at flush) to this ISO instant if it is later. */
  observed(observedAt: string): void;
  /** Writes pending deltas (inside the caller's transaction). */
  flush(): void;
  /** Pending (day, category) keys plus new product numbers: the writer flushes early above a bound. */
  pendingSize(): number;
}

/** A growable bitset over small non-negative integers, stored as little-endian 32-bit words. */
export class Bitset {
  words: Uint32Array;
  constructor(words = 8) {
    this.words = new Uint32Array(words);
  }
  set(n: number): void {
    const w = n >>> 5;
    if (w >= this.words.length) {
      const grown = new Uint32Array(Math.max(w + 1, this.words.length * 2));
      grown.set(this.words);
      this.words = grown;
    }
    (this.words[w] as number) |= 1 << (n & 31);
  }
  isEmpty(): boolean {
    return this.words.every((w) => w === 0);
  }
  /** ORs a stored bitmap (a BLOB of rollup_presence) into this one. */
  orBlob(blob: Uint8Array): void {
    this.orWords(blobWords(blob));
  }
  /** ORs another bitset into this one. */
  orWith(other: Bitset): void {
    this.orWords(other.words);
  }
  private orWords(words: Uint32Array): void {
    if (words.length > this.words.length) {
      const grown = new Uint32Array(words.length);
      grown.set(this.words);
      this.words = grown;
    }
    for (let i = 0; i < words.length; i++) (this.words[i] as number) |= words[i] as number;
  }
  /** The number of bits set. */
  count(): number {
    let total = 0;
    for (const w of this.words) total += popcount32(w);
    return total;
  }
  has(n: number): boolean {
    const w = n >>> 5;
    return w < this.words.length && ((this.words[w] as number) & (1 << (n & 31))) !== 0;
  }
  /** Calls `visit` with each bit set here but not in `other`, and sets it in `other`. */
  eachNewIn(other: Bitset, visit: (n: number) => void): void {
    for (let w = 0; w < this.words.length; w++) {
      const own = this.words[w] as number;
      if (own === 0) continue;
      let fresh = (own & ~(w < other.words.length ? (other.words[w] as number) : 0)) >>> 0;
      while (fresh !== 0) {
        const bit = 31 - Math.clz32(fresh & -fresh);
        fresh = (fresh & (fresh - 1)) >>> 0;
        const n = w * 32 + bit;
        other.set(n);
        visit(n);
      }
    }
  }
  /** The bytes to store, trailing zero words trimmed. */
  toBlob(): Buffer {
    let end = this.words.length;
    while (end > 0 && this.words[end - 1] === 0) end--;
    return Buffer.from(this.words.buffer, this.words.byteOffset, end * 4);
  }
}

function popcount32(w: number): number {
  w = w - ((w >>> 1) & 0x55555555);
  w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
  return (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** A stored bitmap as 32-bit words (copied: SQLite's buffers need not be 4-byte aligned). */
export function blobWords(blob: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(blob.length / 4));
  new Uint8Array(words.buffer).set(blob);
  return words;
}

/** drop_pct in integer hundredths: the unit of the exact sums. drop_pct has 2 decimals by contract. */
export function dropPctCents(dropPct: number): number {
  return Math.round(dropPct * 100);
}

export function createRollupMaintainer(db: CacheDb): RollupMaintainer {
  ensureRollupsBuilt(db);
  /** dt -> category -> pending slot. */
  const slots = new Map<string, Map<string, Slot>>();
  let slotCount = 0;
  /** Committed numbers plus this transaction's new ones, loaded per category on first use. */
  let numberings = new Map<string, Numbering>();
  let nextNumberingId = 0;
  // Bumped whenever pending slots are dropped (flush, rollback): RollupSlots from before are void.
  let slotGeneration = 0;
  let newNumbers: { category: string; n: number; source: string; productId: string }[] = [];
  const readVersion = db.prepare('SELECT version FROM rollup_state WHERE id = 1').pluck();
  let knownVersion = readVersion.get() as number;
  db.exec('CREATE TEMP TABLE IF NOT EXISTS rollup_open_batch (id INTEGER PRIMARY KEY)');
  const markerExists = db.prepare('SELECT 1 FROM temp.rollup_open_batch WHERE id = 1').pluck();
  const setMarker = db.prepare('INSERT OR IGNORE INTO temp.rollup_open_batch (id) VALUES (1)');
  const clearMarker = db.prepare('DELETE FROM temp.rollup_open_batch');
  const loadNumbers = db.prepare('SELECT source, product_id, n, dropped FROM rollup_category_products WHERE category = ?').raw();
  const markDropped = db.prepare('UPDATE rollup_category_products SET dropped = 1 WHERE category = ? AND n = ?');
  const insertNumber = db.prepare('INSERT INTO rollup_category_products (category, n, source, product_id, version) VALUES (?, ?, ?, ?, ?)');
  const upsertDaily = db.prepare(
    `INSERT INTO rollup_daily (dt, category, is_drop, observations, drop_pct_n, drop_pct_sum_c, version) VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (dt, category, is_drop) DO UPDATE SET
       observations = observations + excluded.observations,
       drop_pct_n = drop_pct_n + excluded.drop_pct_n,
       drop_pct_sum_c = drop_pct_sum_c + excluded.drop_pct_sum_c,
       version = excluded.version`,
  );
  const selectPresence = db.prepare('SELECT bits FROM rollup_presence WHERE dt = ? AND category = ? AND kind = ?').pluck();
  const upsertPresence = db.prepare(
    `INSERT INTO rollup_presence (dt, category, kind, bits, products, version) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (dt, category, kind) DO UPDATE SET bits = excluded.bits, products = excluded.products, version = excluded.version`,
  );
  const bumpVersion = db.prepare('UPDATE rollup_state SET version = version + 1 WHERE id = 1 RETURNING version').pluck();
  const raiseLastObserved = db.prepare(
    'UPDATE rollup_state SET last_observed_at = ? WHERE id = 1 AND (last_observed_at IS NULL OR last_observed_at < ?)',
  );
  let lastObservedAt: string | undefined;

  function pending(): boolean {
    return slotCount > 0 || newNumbers.length > 0;
  }

  function beginBatch(): boolean {
    if (markerExists.get() !== undefined) return false;
    let stale = false;
    // Pending deltas but no marker: the transaction that produced them rolled back.
    if (pending()) {
      stale = true;
      slots.clear();
      slotGeneration++;
      slotCount = 0;
      lastDt = undefined;
      lastByCategory = undefined;
      newNumbers = [];
      numberings = new Map();
      lastObservedAt = undefined;
    }
    const version = readVersion.get() as number;
    if (version !== knownVersion) {
      numberings = new Map();
      knownVersion = version;
      stale = true;
    }
    setMarker.run();
    return stale;
  }

  function numbering(category: string): Numbering {
    let numbers = numberings.get(category);
    if (numbers === undefined) {
      numbers = { id: nextNumberingId++, category, bySource: new Map(), size: 0, dropped: new Bitset() };
      for (const [source, productId, n, dropped] of loadNumbers.all(category) as [string, string, number, number][]) {
        let bySource = numbers.bySource.get(source);
        if (!bySource) numbers.bySource.set(source, (bySource = new Map()));
        bySource.set(productId, n);
        if (dropped) numbers.dropped.set(n);
        numbers.size++;
      }
      numberings.set(category, numbers);
    }
    return numbers;
  }

  function numberOf(numbers: Numbering, source: string, productId: string): number {
    let bySource = numbers.bySource.get(source);
    if (!bySource) numbers.bySource.set(source, (bySource = new Map()));
    let n = bySource.get(productId);
    if (n === undefined) {
      n = numbers.size++;
      bySource.set(productId, n);
      newNumbers.push({ category: numbers.category, n, source, productId });
    }
    return n;
  }

  // The day of the previous row (rows come grouped by time): one map lookup fewer per row.
  let lastDt: string | undefined;
  let lastByCategory: Map<string, Slot> | undefined;

  function observed(observedAt: string): void {
    if (lastObservedAt === undefined || observedAt > lastObservedAt) lastObservedAt = observedAt;
  }

  function add(row: RollupRow): void {
    const slot = slotOf(row.dt, row.category);
    addTo(slot, numberOf(slot.numbering, row.source, row.product_id), row.is_drop, row.drop_pct ?? NaN);
  }

  function slotOf(dt: string, category: string): Slot {
    let byCategory = dt === lastDt ? lastByCategory : slots.get(dt);
    if (byCategory === undefined) slots.set(dt, (byCategory = new Map()));
    lastDt = dt;
    lastByCategory = byCategory;
    let slot = byCategory.get(category);
    if (slot === undefined) {
      const numbers = numbering(category);
      slot = {
        dt,
        category,
        numbering: numbers,
        numberingId: numbers.id,
        observations: [0, 0],
        dropPctN: [0, 0],
        dropPctSumC: [0, 0],
        kinds: [new Bitset(), new Bitset(), new Bitset()],
      };
      byCategory.set(category, slot);
      slotCount++;
    }
    return slot;
  }

  function addTo(slot: Slot, n: number, rowIsDrop: boolean, dropPct: number): void {
    const isDrop = rowIsDrop ? 1 : 0;
    slot.observations[isDrop]++;
    if (dropPct === dropPct) {
      slot.dropPctN[isDrop]++;
      slot.dropPctSumC[isDrop] += dropPctCents(dropPct);
    }
    // KIND_ANY is the union of the other two, made at flush: one bit to set a row, not two.
    slot.kinds[isDrop ? KIND_DROP : KIND_NO_DROP].set(n);
  }

  function flush(): void {
    if (!pending()) {
      clearMarker.run();
      return;
    }
    const version = bumpVersion.get() as number;
    for (const x of newNumbers) insertNumber.run(x.category, x.n, x.source, x.productId, version);
    newNumbers = [];
    for (const byCategory of slots.values()) {
      for (const slot of byCategory.values()) {
        for (const isDrop of [0, 1] as const) {
          if (slot.observations[isDrop] === 0) continue;
          upsertDaily.run(slot.dt, slot.category, isDrop, slot.observations[isDrop], slot.dropPctN[isDrop], slot.dropPctSumC[isDrop], version);
        }
        slot.kinds[KIND_DROP].eachNewIn(slot.numbering.dropped, (n) => markDropped.run(slot.category, n));
        slot.kinds[KIND_ANY].orWith(slot.kinds[KIND_DROP]);
        slot.kinds[KIND_ANY].orWith(slot.kinds[KIND_NO_DROP]);
        slot.kinds.forEach((bits, kind) => {
          if (bits.isEmpty()) return;
          const old = selectPresence.get(slot.dt, slot.category, kind) as Buffer | undefined;
          if (old) bits.orBlob(old);
          upsertPresence.run(slot.dt, slot.category, kind, bits.toBlob(), bits.count(), version);
        });
      }
    }
    if (lastObservedAt !== undefined) raiseLastObserved.run(lastObservedAt, lastObservedAt);
    lastObservedAt = undefined;
    slots.clear();
    slotGeneration++;
    slotCount = 0;
    lastDt = undefined;
    lastByCategory = undefined;
    knownVersion = version;
    clearMarker.run();
  }

  return {
    beginBatch,
    add,
    slotFor: slotOf,
    numberIn: (slot, source, productId) => numberOf((slot as Slot).numbering, source, productId),
    addToSlot: (slot, n, isDrop, dropPct) => addTo(slot as Slot, n, isDrop, dropPct),
    get slotGeneration() {
      return slotGeneration;
    },
    observed,
    flush,
    pendingSize: () => slotCount + newNumbers.length,
  };
}

/**
 * Builds the rollups from the stored observations when they have never been built (a cache that
 * held observations before migration 0500). Idempotent; runs in one transaction.
 */
export function ensureRollupsBuilt(db: CacheDb): void {
  const state = db.prepare('SELECT built FROM rollup_state WHERE id = 1').get() as { built: number } | undefined;
  if (state?.built === 1) return;
  rebuildRollups(db);
}

/** Recomputes both rollups from the stored observations from scratch (also a repair tool). */
export function rebuildRollups(db: CacheDb): void {
  db.transaction(() => {
    db.exec('DELETE FROM rollup_daily; DELETE FROM rollup_presence; DELETE FROM rollup_category_products; UPDATE rollup_state SET last_observed_at = NULL;');
    db.exec(`INSERT INTO rollup_state (id, version, built) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING`);
    // A new generation tells in-memory readers to drop what they hold rather than patch it.
    db.prepare('UPDATE rollup_state SET built = 1, generation = generation + 1 WHERE id = 1').run();
    const maintainer = createRollupMaintainer(db);
    ensureKeyIndex(db); // a bulk load may have deferred it
    // Every row in (product, observed_at) order (the key index), a page at a time (the
    // maintainer reads and writes between pages): a product's rows together, so its slot changes
    // with the day and its number with the category.
    const page = db
      .prepare(
        `SELECT o.product, o.observed_at, k.source, k.product_id, o.dt, d.category, o.is_drop, o.drop_pct
           FROM observation_records o INDEXED BY observation_records_key
           JOIN product_keys k ON k.id = o.product JOIN descriptors d ON d.id = o.descriptor
          WHERE (o.product, o.observed_at) > (?, ?) ORDER BY o.product, o.observed_at LIMIT 65536`,
      )
      .raw();
    let lastObservedAt = '';
    let key = -1;
    let slot: RollupSlot | undefined;
    let slotDt = '';
    let slotCategory = '';
    let number = -1;
    maintainer.beginBatch();
    for (let after: [number, string] = [Number.MIN_SAFE_INTEGER, '']; ; ) {
      const rows = page.all(...after) as [number, string, string, string, string, string, number, number | null][];
      for (const [product, observedAt, source, productId, dt, category, isDrop, dropPct] of rows) {
        if (maintainer.pendingSize() > 200_000) {
          maintainer.flush();
          maintainer.beginBatch();
          slot = undefined;
        }
        if (slot === undefined || product !== key || slotDt !== dt || slotCategory !== category) {
          slot = maintainer.slotFor(dt, category);
          slotDt = dt;
          slotCategory = category;
          key = product;
          number = maintainer.numberIn(slot, source, productId);
        }
        maintainer.addToSlot(slot, number, isDrop === 1, dropPct ?? NaN);
        if (observedAt > lastObservedAt) lastObservedAt = observedAt;
      }
      const last = rows[rows.length - 1];
      if (last === undefined) break;
      after = [last[0], last[1]];
    }
    if (lastObservedAt !== '') maintainer.observed(lastObservedAt);
    maintainer.flush();
  })();
}
