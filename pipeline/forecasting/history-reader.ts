import { type CacheDb } from '../cache/cache-db';
import { instantMs } from '../base/time';
import { HistoryBuilder, type ProductHistory } from '../../model/price-history';
import type { TrainingHistories } from '../../model/training';
import { kindFromRepeatShare, type SourceKind } from '../../model/timeline';

/**
 * Reads price histories out of the cache's observation rows (`observation_records`, migration
 * 0900), streaming, in the order (source, product_id, observed_at): one product's rows arrive
 * together and in time order, so memory holds one product's raw rows at a time. No sort is
 * needed: product_keys in (source, product_id) order, each product's rows through the key index.
 */

export interface HistoryFilter {
  source?: string;
  productId?: string;
}

interface ObservationRow {
  source: string;
  product_id: string;
  /** observed_at, ms since 1970-01-01 UTC. */
  t: number;
  title: string;
  category: string;
  price: number;
  old_price: number | null;
  currency: string;
}

function whereClause(filter: HistoryFilter): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  if (filter.source !== undefined) {
    parts.push('k.source = ?');
    params.push(filter.source);
  }
  if (filter.productId !== undefined) {
    parts.push('k.product_id = ?');
    params.push(filter.productId);
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/** The rows of `iterateHistories`, in (source, product_id, observed_at) order. */
function historyRows(db: CacheDb, filter: HistoryFilter): Iterable<ObservationRow> {
  const { sql, params } = whereClause(filter);
  // CROSS JOIN keeps the order products, then their rows by the key index: no sort.
  const rows = db
    .prepare(
      `SELECT k.source, k.product_id, o.observed_at, d.title, d.category, o.price, o.old_price, d.currency
         FROM product_keys k CROSS JOIN observation_records o ON o.product = k.id JOIN descriptors d ON d.id = o.descriptor ${sql}
        ORDER BY k.source, k.product_id, o.observed_at`,
    )
    .raw()
    .iterate(...params) as Iterable<[string, string, string, string, string, number, number | null, string]>;
  return (function* () {
    for (const [source, productId, observedAt, title, category, price, oldPrice, currency] of rows) {
      yield { source, product_id: productId, t: instantMs(observedAt), title, category, price, old_price: oldPrice, currency };
    }
  })();
}

/** Yields each product's history (segments), product after product, in (source, product_id) order. */
export function* iterateHistories(db: CacheDb, filter: HistoryFilter = {}): Generator<ProductHistory> {
  let builder = new HistoryBuilder();
  let key = '';
  for (const row of historyRows(db, filter)) {
    const rowKey = row.source + '\u0000' + row.product_id;
    if (rowKey !== key) {
      const history = builder.build();
      if (history) yield history;
      builder = new HistoryBuilder();
      key = rowKey;
    }
    builder.add({
      source: row.source,
      productId: row.product_id,
      observedAt: row.t,
      title: row.title,
      category: row.category,
      price: row.price,
      oldPrice: row.old_price,
      currency: row.currency,
    });
  }
  const last = builder.build();
  if (last) yield last;
}

/** The sources in the cache, from the product dictionary (its unique index, no table scan). */
export function readSources(db: CacheDb): string[] {
  return db.prepare('SELECT DISTINCT k.source FROM product_keys k ORDER BY k.source').pluck().all() as string[];
}

/** One product's histories (one per source that has the id), each read through the primary key. */
export function readProductHistories(db: CacheDb, productId: string, source?: string): ProductHistory[] {
  const sources = source === undefined ? readSources(db) : [source];
  return sources.flatMap((s) => [...iterateHistories(db, { source: s, productId })]);
}

/**
 * The last observation time of each source (epoch ms): where labels stop being knowable. From
 * `products` (each product's latest observation, a seek of the key index), not a scan of every row.
 */
export function readDataEnds(db: CacheDb): Map<string, number> {
  const rows = db.prepare('SELECT source, MAX(last_observed_at) AS last FROM products GROUP BY source').all() as { source: string; last: string }[];
  return new Map(rows.map((row) => [row.source, Date.parse(row.last)]));
}

/** Total observation rows (for progress totals). */
export function countObservations(db: CacheDb, filter: HistoryFilter = {}): number {
  if (filter.source === undefined && filter.productId === undefined) return db.prepare('SELECT COUNT(*) FROM observation_records').pluck().get() as number;
  const { sql, params } = whereClause(filter);
  return db.prepare(`SELECT COUNT(*) FROM product_keys k JOIN observation_records o ON o.product = k.id ${sql}`).pluck().get(...params) as number;
}

/**
 * A source's kind from its histories: a change log records a row only when the price changes, so
 * almost no observed day repeats the previous price; snapshots repeat it most days. The share is
 * 1 − (price changes) / (observed days after the first), over all the source's products.
 */
function kindsFromHistories(histories: readonly ProductHistory[]): Map<string, SourceKind> {
  const totals = new Map<string, { changes: number; days: number }>();
  for (const history of histories) {
    const total = totals.get(history.source) ?? { changes: 0, days: 0 };
    total.changes += history.start.length - 1;
    total.days += history.checkpoints.length - 1;
    totals.set(history.source, total);
  }
  return new Map(
    [...totals].map(([source, { changes, days }]) => {
      const repeatShare = days > 0 ? Math.max(0, 1 - changes / days) : 1;
      return [source, kindFromRepeatShare(repeatShare)];
    }),
  );
}

/** The kinds a user or the import stored (table source_kinds), where the cache has that table. */
function storedSourceKinds(db: CacheDb): Map<string, SourceKind> {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'source_kinds'").get();
  if (!table) return new Map();
  const rows = db.prepare('SELECT source, kind FROM source_kinds').all() as { source: string; kind: SourceKind }[];
  return new Map(rows.map((row) => [row.source, row.kind]));
}

/**
 * Every history of the cache with each source's kind (stored, else detected) and data end: what
 * training reads (model/training.ts's TrainingHistories).
 */
export function workspaceHistories(db: CacheDb, filter: { source?: string } = {}): TrainingHistories {
  const histories = [...iterateHistories(db, filter)];
  const stored = storedSourceKinds(db);
  const detected = kindsFromHistories(histories);
  const kinds: Record<string, SourceKind> = {};
  for (const [source, kind] of detected) kinds[source] = stored.get(source) ?? kind;
  const dataEnds = readDataEnds(db);
  return {
    histories,
    products: histories.length,
    kinds,
    kindOf: (source) => kinds[source] ?? 'snapshots',
    dataEndOf: (source) => dataEnds.get(source) ?? Number.NaN,
  };
}
