import type { CacheDb } from '../cache/cache-db';
import { lowerBound } from './daily-rollup-memory';
import { blobWords, ensureRollupsBuilt, KIND_ANY, KIND_DROP, KIND_NO_DROP } from '../cache/dashboard-rollups';

/**
 * Distinct-product counts under arbitrary date ranges, categories and drop status, from the
 * per-day product bitmaps of `rollup_presence` held in memory: per selected category, OR the
 * bitmaps of the days in range and count the bits. A product numbered in several categories
 * (its category changed) is counted once: those few products are checked one by one.
 *
 * The memory copy follows the tables by `rollup_state.version`: each query first reads the
 * version (one tiny read) and loads only rows changed since, so commits by other connections
 * (the ETL worker, a sync) are seen by the next query.
 */

export type PresenceKind = 'any' | 'drop' | 'no drop';

const KIND_NUMBER: Record<PresenceKind, number> = { any: KIND_ANY, drop: KIND_DROP, 'no drop': KIND_NO_DROP };

interface CategoryPresence {
  /** Product number -> `source \u0000 product_id`. */
  keys: string[];
  /** Day -> bitmaps by kind. */
  days: Map<string, (Uint32Array | undefined)[]>;
  /** The same, as sorted arrays (rebuilt when `days` changed): a date range is an index range, no allocation per query. */
  sortedDays: string[];
  sortedBits: (Uint32Array | undefined)[][];
  dirty: boolean;
  /** Reused accumulator. */
  acc: Uint32Array;
}

interface PresenceIndex {
  generation: number;
  version: number;
  categories: Map<string, CategoryPresence>;
  /** Products numbered in more than one category: key -> [category, number][]. */
  multi: Map<string, [string, number][]>;
  /** First (category, number) of every product, to find the multi-category ones. */
  firstSeen: Map<string, [string, number]>;
}

const indexes = new WeakMap<CacheDb, PresenceIndex>();

function category(index: PresenceIndex, name: string): CategoryPresence {
  let c = index.categories.get(name);
  if (!c) index.categories.set(name, (c = { keys: [], days: new Map(), sortedDays: [], sortedBits: [[], [], []], dirty: false, acc: new Uint32Array(0) }));
  return c;
}

/** The index for a database, refreshed to the latest committed rollups. */
function presenceIndex(db: CacheDb): PresenceIndex {
  const stateQuery = db.prepare('SELECT version, built, generation FROM rollup_state WHERE id = 1');
  let state = stateQuery.get() as { version: number; built: number; generation: number } | undefined;
  if (state && state.built !== 1 && !db.readonly) {
    ensureRollupsBuilt(db);
    state = stateQuery.get() as typeof state;
  }
  const version = state?.version ?? 0;
  const generation = state?.generation ?? 0;
  let index = indexes.get(db);
  if (index && index.version === version && index.generation === generation) return index;
  if (!index || index.generation !== generation || version < index.version) {
    index = { generation, version: -1, categories: new Map(), multi: new Map(), firstSeen: new Map() };
    indexes.set(db, index);
  }
  const numbers = db
    .prepare('SELECT category, n, source, product_id FROM rollup_category_products WHERE version > ? ORDER BY category, n')
    .raw()
    .all(index.version) as [string, number, string, string][];
  for (const [name, n, source, productId] of numbers) {
    const key = source + '\u0000' + productId;
    category(index, name).keys[n] = key;
    const first = index.firstSeen.get(key);
    if (!first) index.firstSeen.set(key, [name, n]);
    else index.multi.set(key, [...(index.multi.get(key) ?? [first]), [name, n]]);
  }
  const days = db
    .prepare('SELECT dt, category, kind, bits FROM rollup_presence WHERE version > ?')
    .raw()
    .all(index.version) as [string, string, number, Buffer][];
  for (const [dt, name, kind, bits] of days) {
    const c = category(index, name);
    let byKind = c.days.get(dt);
    if (!byKind) c.days.set(dt, (byKind = []));
    byKind[kind] = blobWords(bits);
    c.dirty = true;
  }
  for (const c of index.categories.values()) {
    if (c.dirty) {
      c.sortedDays = [...c.days.keys()].sort();
      c.sortedBits = [0, 1, 2].map((k) => c.sortedDays.map((d) => c.days.get(d)?.[k]));
      c.dirty = false;
    }
    const words = Math.ceil(c.keys.length / 32);
    if (c.acc.length < words) c.acc = new Uint32Array(words);
  }
  index.version = version;
  return index;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export interface PresenceQuery {
  /** Inclusive days, `YYYY-MM-DD`; absent: unbounded. */
  from?: string;
  to?: string;
  /** Empty or absent: every category. */
  categories?: readonly string[];
}

/** ORs the kind's bitmaps of the days in range into each selected category's accumulator. */
function accumulate(index: PresenceIndex, query: PresenceQuery, kind: PresenceKind): [string, CategoryPresence][] {
  const names = query.categories && query.categories.length > 0 ? [...new Set(query.categories)] : [...index.categories.keys()];
  const k = KIND_NUMBER[kind];
  const selected: [string, CategoryPresence][] = [];
  for (const name of names) {
    const c = index.categories.get(name);
    if (!c) continue;
    const acc = c.acc;
    acc.fill(0);
    const days = c.sortedDays;
    const first = query.from ? lowerBound(days, query.from) : 0;
    // Days are exactly 10 characters: day <= to  <=>  day < to + '\u0000'.
    const end = query.to ? lowerBound(days, query.to + '\u0000') : days.length;
    const bitsByDay = c.sortedBits[k] as (Uint32Array | undefined)[];
    for (let d = first; d < end; d++) {
      const bits = bitsByDay[d];
      if (!bits) continue;
      const n = bits.length < acc.length ? bits.length : acc.length;
      for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) | (bits[i] as number);
    }
    selected.push([name, c]);
  }
  return selected;
}

function has(acc: Uint32Array, n: number): boolean {
  return (((acc[n >>> 5] ?? 0) >>> (n & 31)) & 1) === 1;
}

/** Distinct products with an observation of `kind` in the range and categories. */
export function countPresentProducts(db: CacheDb, query: PresenceQuery, kind: PresenceKind): number {
  const index = presenceIndex(db);
  const selected = accumulate(index, query, kind);
  let count = 0;
  for (const [, c] of selected) for (const word of c.acc) if (word !== 0) count += popcount(word);
  if (index.multi.size > 0 && selected.length > 1) {
    const chosen = new Map(selected);
    for (const places of index.multi.values()) {
      let present = 0;
      for (const [name, n] of places) {
        const c = chosen.get(name);
        if (c && has(c.acc, n)) present++;
      }
      if (present > 1) count -= present - 1;
    }
  }
  return count;
}

/** The keys (`source \u0000 product_id`) of the distinct products counted by `countPresentProducts`. */
export function presentProductKeys(db: CacheDb, query: PresenceQuery, kind: PresenceKind): string[] {
  const index = presenceIndex(db);
  const keys = new Set<string>();
  for (const [, c] of accumulate(index, query, kind)) {
    c.acc.forEach((word, w) => {
      for (let bit = 0; word !== 0 && bit < 32; bit++) {
        if (word & (1 << bit)) keys.add(c.keys[w * 32 + bit] as string);
      }
    });
  }
  return [...keys];
}
