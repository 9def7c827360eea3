/**
 * Reading observations back out of `observation_blocks` (observation-blocks.ts) in JavaScript:
 * a product's rows, or every block in product order. The SQL views decode the same blocks for
 * other clients; these readers skip SQL's per-field work (the product page, training, rollup
 * rebuilds, the writer's duplicate checks).
 */
import type { CacheDb } from './cache-db';
import { BLOCK_COLUMNS, decodeBlock, MAX_BLOCK_ROWS, rowColumns, type BlockRecord, type RowColumns } from './observation-blocks';

/** Decoded rows: the first `n` of each column. */
export interface DecodedRows extends RowColumns {
  n: number;
}

const SELECT_BLOCK = `SELECT id, product, ${BLOCK_COLUMNS.join(', ')} FROM observation_blocks`;

/** A stored block with its id and product. */
export interface StoredBlock extends BlockRecord {
  id: number;
  product: number;
}

/** Blocks of one product that hold rows with from <= t < to, in time order. */
export function productBlocks(db: CacheDb, product: number, from = -Infinity, to = Infinity): StoredBlock[] {
  if (from === -Infinity && to === Infinity) {
    return db.prepare(`${SELECT_BLOCK} WHERE product = ? ORDER BY t_first`).all(product) as StoredBlock[];
  }
  return db
    .prepare(`${SELECT_BLOCK} WHERE product = ? AND t_first < ? AND t_last >= ? ORDER BY t_first`)
    .all(product, to === Infinity ? Number.MAX_SAFE_INTEGER : to, from === -Infinity ? Number.MIN_SAFE_INTEGER : from) as StoredBlock[];
}

/** Decodes blocks (in time order, not overlapping) into one set of columns, keeping rows with from <= t < to. */
export function decodeBlocks(blocks: readonly BlockRecord[], from = -Infinity, to = Infinity): DecodedRows {
  let total = 0;
  for (const b of blocks) total += b.n;
  const rows = rowColumns(total);
  let n = 0;
  for (const b of blocks) n += decodeBlock(b, rows, n);
  let start = 0;
  let end = n;
  while (start < end && (rows.t[start] as number) < from) start++;
  while (end > start && (rows.t[end - 1] as number) >= to) end--;
  if (start === 0 && end === n) return { ...rows, n };
  return {
    n: end - start,
    t: rows.t.subarray(start, end),
    descriptor: rows.descriptor.subarray(start, end),
    price: rows.price.subarray(start, end),
    oldPrice: rows.oldPrice.subarray(start, end),
    dropAmount: rows.dropAmount.subarray(start, end),
    dropPct: rows.dropPct.subarray(start, end),
    flags: rows.flags.subarray(start, end),
  };
}

/** A product's stored rows in time order (from <= t < to). */
export function readProductRows(db: CacheDb, product: number, from = -Infinity, to = Infinity): DecodedRows {
  return decodeBlocks(productBlocks(db, product, from, to), from, to);
}

/** The product_keys id of (source, product_id), if the cache knows the product. */
export function productKeyId(db: CacheDb, source: string, productId: string): number | undefined {
  return db.prepare('SELECT id FROM product_keys WHERE source = ? AND product_id = ?').pluck().get(source, productId) as number | undefined;
}

/**
 * Every block, in (product, t_first) order, a page at a time (no statement stays open between
 * pages, so the caller may write in between). `products` limits it to those product ids, in order.
 */
export function* allBlocks(db: CacheDb, pageSize = 4096): Generator<StoredBlock> {
  const page = db.prepare(`${SELECT_BLOCK} WHERE (product, t_first) > (?, ?) ORDER BY product, t_first LIMIT ?`);
  let after: [number, number] = [Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
  for (;;) {
    const blocks = page.all(after[0], after[1], pageSize) as StoredBlock[];
    yield* blocks;
    const last = blocks[blocks.length - 1];
    if (last === undefined || blocks.length < pageSize) return;
    after = [last.product, last.t_first];
  }
}

/**
 * The price of a product's latest stored row before `t` (the ETL's previous price for a row older
 * than the product's latest): one index seek and one block decoded.
 */
export function createPriceBefore(db: CacheDb): (source: string, productId: string, t: number) => number | undefined {
  const keyId = db.prepare('SELECT id FROM product_keys WHERE source = ? AND product_id = ?').pluck();
  const blockBefore = db.prepare(`${SELECT_BLOCK} WHERE product = ? AND t_first < ? ORDER BY t_first DESC LIMIT 1`);
  const rows = rowColumns(MAX_BLOCK_ROWS);
  return (source, productId, t) => {
    const id = keyId.get(source, productId) as number | undefined;
    const block = id === undefined ? undefined : (blockBefore.get(id, t) as StoredBlock | undefined);
    if (block === undefined) return undefined;
    const n = decodeBlock(block, rows);
    let i = n - 1;
    while (i > 0 && (rows.t[i] as number) >= t) i--;
    return rows.price[i] as number;
  };
}
