/**
 * The JavaScript steps of the cache's migrations (migrations.ts): the rollups' columns of 0800,
 * and the copy of every stored observation into the typed rows of 0900.
 */
import type { CacheDb } from './cache-db';
import { Bitset, KIND_DROP } from './dashboard-rollups';

/** How far a migration's long step is: `done` of `total` rows. */
export type MigrationProgress = (done: number, total: number) => void;

/** Products per INSERT … SELECT of the copy: progress about every 1 % of a 50k-product cache. */
const PRODUCTS_PER_STEP = 512;

/**
 * Migration 0900: copies the observations of an 0800 cache (its blocks, decoded by the
 * observation_values view of 0800) and of a 0700 cache (the narrow observation_rows, which 0800
 * now leaves in place) into observation_records, with INSERT … SELECT inside SQLite, a range of
 * product ids at a time so that `progress` can tell. Decoding in SQL and writing in one pass took
 * half the time of decoding in JavaScript (10M rows: 73 s instead of 144 s). A new cache has no
 * rows, and this costs two empty reads.
 */
export function copyObservationsIntoRecords(db: CacheDb, progress: MigrationProgress): void {
  const has = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?").pluck().get(name) === 1;
  const sources: { total: string; copy: string }[] = [];
  if (has('observation_blocks')) {
    sources.push({
      total: 'SELECT COALESCE(SUM(n), 0) FROM observation_blocks',
      copy: `SELECT v.product, v.descriptor, strftime('%Y-%m-%dT%H:%M:%fZ', v.t / 1000.0, 'unixepoch'), date(v.t / 1000.0, 'unixepoch'),
                    v.price, v.old_price, v.drop_amount, v.drop_pct, v.flags & 1,
                    CASE WHEN v.flags & 1 THEN 'drop' ELSE 'no drop' END, CASE WHEN v.flags & 2 THEN 'athena' ELSE 'local' END
               FROM observation_values v WHERE v.product >= ? AND v.product < ? ORDER BY v.product, v.t`,
    });
  }
  if (has('observation_rows')) {
    sources.push({
      total: 'SELECT COUNT(*) FROM observation_rows',
      copy: `SELECT product, descriptor, strftime('%Y-%m-%dT%H:%M:%fZ', t / 1000.0, 'unixepoch'), date(t / 1000.0, 'unixepoch'),
                    price, old_price, drop_amount, drop_pct, flags & 1,
                    CASE WHEN flags & 1 THEN 'drop' ELSE 'no drop' END, CASE WHEN flags & 2 THEN 'athena' ELSE 'local' END
               FROM observation_rows INDEXED BY observation_rows_by_product WHERE product >= ? AND product < ? ORDER BY product, t`,
    });
  }
  const total = sources.reduce((sum, s) => sum + (db.prepare(s.total).pluck().get() as number), 0);
  if (total === 0) return;
  const maxProduct = (db.prepare('SELECT COALESCE(MAX(id), 0) FROM product_keys').pluck().get() as number) + 1;
  let done = 0;
  progress(0, total);
  for (const source of sources) {
    const copy = db.prepare(`INSERT INTO observation_records (product, descriptor, observed_at, dt, price, old_price, drop_amount, drop_pct, is_drop, drop_label, origin) ${source.copy}`);
    for (let from = 0; from < maxProduct; from += PRODUCTS_PER_STEP) {
      done += copy.run(from, from + PRODUCTS_PER_STEP).changes;
      progress(done, total);
    }
  }
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
