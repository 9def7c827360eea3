/**
 * The JavaScript steps of migration 0800-observation-blocks (migrations.ts): the narrow rows of
 * 0700 into blocks, and the rollups' new columns.
 */
import type { CacheDb } from './cache-db';
import { Bitset, KIND_DROP } from './dashboard-rollups';
import { blockParams, encodeBlock, INSERT_BLOCK_SQL, MAX_BLOCK_ROWS, maxBlockBytes, rowColumns, setRow } from './observation-blocks';

/** Moves `observation_rows` (a scan of the covering index the migration made on (product, t, …)) into `observation_blocks`. */
export function convertObservationRows(db: CacheDb): void {
  const page = db
    .prepare(
      `SELECT product, t, descriptor, price, old_price, drop_amount, drop_pct, flags FROM observation_rows INDEXED BY observation_rows_by_product
        WHERE (product, t) > (?, ?) ORDER BY product, t LIMIT 65536`,
    )
    .raw();
  const insert = db.prepare(INSERT_BLOCK_SQL);
  const rows = rowColumns(MAX_BLOCK_ROWS);
  const out = Buffer.alloc(maxBlockBytes(MAX_BLOCK_ROWS));
  const params: unknown[] = [];
  let product = -1;
  let n = 0;
  const write = () => {
    if (n > 0) insert.run(blockParams(product, encodeBlock(rows, 0, n, out), params));
    n = 0;
  };
  let after: [number, number] = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  for (;;) {
    const got = page.all(after[0], after[1]) as [number, number, number, number, number | null, number | null, number | null, number][];
    for (const [p, t, descriptor, price, oldPrice, dropAmount, dropPct, flags] of got) {
      if (p !== product || n === MAX_BLOCK_ROWS) {
        write();
        product = p;
      }
      setRow(rows, n++, t, descriptor, price, oldPrice ?? NaN, dropAmount ?? NaN, dropPct ?? NaN, flags);
    }
    const last = got[got.length - 1];
    if (last === undefined) break;
    after = [last[0], last[1]];
  }
  write();
}

/**
 * Whether the rollups match the rows they sum (built, and as many observations): then the
 * migration keeps them and fills their new columns (backfillRollupColumns), else (a cache written
 * around the writer) it rebuilds them from the blocks. Call before observation_rows is dropped.
 */
export function rollupsAddUp(db: CacheDb): boolean {
  const built = db.prepare('SELECT built FROM rollup_state WHERE id = 1').pluck().get() === 1;
  const rows = db.prepare('SELECT COUNT(*) FROM observation_rows').pluck().get() as number;
  const rolled = db.prepare('SELECT COALESCE(SUM(observations), 0) FROM rollup_daily').pluck().get() as number;
  return built && rows === rolled;
}

/**
 * rollup_presence.products (the popcount of each bitmap) and rollup_category_products.dropped
 * (the products with a drop bit on some day of the category), as the writer's flush keeps them.
 */
export function backfillRollupColumns(db: CacheDb): void {
  const setProducts = db.prepare('UPDATE rollup_presence SET products = ? WHERE dt = ? AND category = ? AND kind = ?');
  const markDropped = db.prepare('UPDATE rollup_category_products SET dropped = 1 WHERE category = ? AND n = ?');
  const dropped = new Map<string, Bitset>();
  for (const [dt, category, kind, bits] of db.prepare('SELECT dt, category, kind, bits FROM rollup_presence').raw().all() as [string, string, number, Buffer][]) {
    const set = new Bitset();
    set.orBlob(bits);
    setProducts.run(set.count(), dt, category, kind);
    if (kind !== KIND_DROP) continue;
    let marked = dropped.get(category);
    if (marked === undefined) dropped.set(category, (marked = new Bitset()));
    set.eachNewIn(marked, (n) => markDropped.run(category, n));
  }
}
