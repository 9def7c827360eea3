/**
 * The JavaScript step of migration 0800-observation-blocks (migrations.ts): the narrow rows of
 * 0700 into blocks.
 */
import type { CacheDb } from './cache-db';
import { blockParams, encodeBlock, INSERT_BLOCK_SQL, MAX_BLOCK_ROWS, maxBlockBytes, rowColumns } from './observation-blocks';

/** Moves `observation_rows` (through the index the migration made on (product, t)) into `observation_blocks`. */
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
      rows.t[n] = t;
      rows.descriptor[n] = descriptor;
      rows.price[n] = price;
      rows.oldPrice[n] = oldPrice ?? NaN;
      rows.dropAmount[n] = dropAmount ?? NaN;
      rows.dropPct[n] = dropPct ?? NaN;
      rows.flags[n] = flags;
      n++;
    }
    const last = got[got.length - 1];
    if (last === undefined) break;
    after = [last[0], last[1]];
  }
  write();
}
