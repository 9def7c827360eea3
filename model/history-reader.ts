import { type CacheDb } from '../pipeline/cache/cache-db';
import { BLOCK_COLUMNS, decodeBlock, MAX_BLOCK_ROWS, rowColumns } from '../pipeline/cache/observation-blocks';
import type { StoredBlock } from '../pipeline/cache/observation-reader';
import { HistoryBuilder, type ProductHistory } from './price-history';
import type { HistorySource } from './decision-data';
import type { SourceKind } from './timeline';

/**
 * Reads price histories out of the cache's observation blocks (pipeline/cache/observation-blocks.ts),
 * streaming, in the order (source, product_id, observed_at): one product's rows arrive together
 * and in time order, so memory holds one product's raw rows at a time. A product's blocks are
 * its rows in time order, so no sort is needed: product_keys in (source, product_id) order, each
 * product's blocks through their index.
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

function descriptorNames(db: CacheDb): Map<number, [string, string, string]> {
  const descriptors = new Map<number, [string, string, string]>();
  for (const [id, title, category, currency] of db.prepare('SELECT id, title, category, currency FROM descriptors').raw().iterate() as Iterable<[number, string, string, string]>) {
    descriptors.set(id, [title, category, currency]);
  }
  return descriptors;
}

/** The rows of `iterateHistories`, in (source, product_id, observed_at) order. */
function historyRows(db: CacheDb, filter: HistoryFilter): Iterable<ObservationRow> {
  const descriptors = descriptorNames(db);
  const { sql, params } = whereClause(filter);
  const blocks = db
    .prepare(
      `SELECT k.source AS source, k.product_id AS product_id, ${BLOCK_COLUMNS.map((c) => `b.${c}`).join(', ')}
         FROM product_keys k JOIN observation_blocks b ON b.product = k.id ${sql}
        ORDER BY k.source, k.product_id, b.t_first`,
    )
    .iterate(...params) as Iterable<StoredBlock & { source: string; product_id: string }>;
  return (function* () {
    const rows = rowColumns(MAX_BLOCK_ROWS);
    for (const block of blocks) {
      const n = decodeBlock(block, rows);
      for (let i = 0; i < n; i++) {
        const [title, category, currency] = descriptors.get(rows.descriptor[i] as number) as [string, string, string];
        const oldPrice = rows.oldPrice[i] as number;
        yield { source: block.source, product_id: block.product_id, t: rows.t[i] as number, title, category, price: rows.price[i] as number, old_price: oldPrice === oldPrice ? oldPrice : null, currency };
      }
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
 * `products` (each product's latest observation, the last row of its latest block), not a scan
 * of every row.
 */
export function readDataEnds(db: CacheDb): Map<string, number> {
  const rows = db.prepare('SELECT source, MAX(last_observed_at) AS last FROM products GROUP BY source').all() as { source: string; last: string }[];
  return new Map(rows.map((row) => [row.source, Date.parse(row.last)]));
}

/** The last observation time of one source: its products' latest blocks (one index seek per product). */
export function readDataEnd(db: CacheDb, source: string): number | undefined {
  const last = db
    .prepare(
      `SELECT MAX((SELECT MAX(b.t_last) FROM observation_blocks b WHERE b.product = k.id AND b.t_first = (SELECT MAX(x.t_first) FROM observation_blocks x WHERE x.product = k.id)))
         FROM product_keys k WHERE k.source = ?`,
    )
    .pluck()
    .get(source) as number | null;
  return last === null ? undefined : last;
}

/** Total observation rows (for progress totals). */
export function countObservations(db: CacheDb, filter: HistoryFilter = {}): number {
  if (filter.source === undefined && filter.productId === undefined) return db.prepare('SELECT COALESCE(SUM(n), 0) FROM observation_blocks').pluck().get() as number;
  const { sql, params } = whereClause(filter);
  return db.prepare(`SELECT COALESCE(SUM(b.n), 0) FROM product_keys k JOIN observation_blocks b ON b.product = k.id ${sql}`).pluck().get(...params) as number;
}

/** Share of consecutive observations that repeat the price at or above which a source is read as snapshots. */
export const SNAPSHOT_REPEAT_SHARE = 0.25;

/**
 * A source's kind from its histories: a change log records a row only when the price changes, so
 * almost no observed day repeats the previous price; snapshots repeat it most days. The share is
 * 1 − (price changes) / (observed days after the first), over all the source's products.
 */
export function detectSourceKinds(histories: readonly ProductHistory[]): Map<string, { kind: SourceKind; repeatShare: number }> {
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
      return [source, { kind: repeatShare >= SNAPSHOT_REPEAT_SHARE ? 'snapshots' : 'changes', repeatShare }];
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
 * training reads (decision-data.ts's HistorySource).
 */
export function workspaceHistories(db: CacheDb, filter: { source?: string } = {}): HistorySource & { products: number; kinds: Record<string, SourceKind> } {
  const histories = [...iterateHistories(db, filter)];
  const stored = storedSourceKinds(db);
  const detected = detectSourceKinds(histories);
  const kinds: Record<string, SourceKind> = {};
  for (const source of detected.keys()) kinds[source] = stored.get(source) ?? detected.get(source)!.kind;
  const dataEnds = readDataEnds(db);
  return {
    histories,
    products: histories.length,
    kinds,
    kindOf: (source) => kinds[source] ?? 'snapshots',
    dataEndOf: (source) => dataEnds.get(source) ?? Number.NaN,
  };
}
