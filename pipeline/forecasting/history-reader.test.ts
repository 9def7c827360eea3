import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCache } from '../cache/cache-db';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import { countObservations, iterateHistories, readDataEnds, readProductHistories, readSources } from './history-reader';
import { useTempDirs } from '../../test/support/temp-dirs';
import { cleanRow, writeInTransaction } from '../../test/support/clean-rows';

const tempDir = useTempDirs('pricedrop-histories-');

function row(source: string, productId: string, day: number, price: number, title = `Item ${productId}`): CleanRow {
  const observedAt = new Date(Date.UTC(2026, 0, 1 + day, 9)).toISOString();
  return cleanRow({ source, product_id: productId, observed_at: observedAt, title, category: 'pantry', price });
}

describe('history reader over the narrow rows', () => {
  it('yields each product once, in (source, product_id) order, its price changes in time order', () => {
    const dir = tempDir();
    const db = openCache(join(dir, 'cache.db'));
    const writer = createObservationWriter(db);
    // Products first seen in an order unlike their names (the dictionary ids follow first sight),
    // days written out of order, a title that changes.
    const batches = [
      [row('shop-b', 'p2', 3, 5), row('shop-a', 'p9', 3, 7), row('shop-a', 'p10', 3, 2)],
      [row('shop-b', 'p2', 1, 6), row('shop-a', 'p9', 1, 8), row('shop-b', 'p1', 2, 3)],
      [row('shop-a', 'p9', 5, 6, 'Item p9 (new)'), row('shop-b', 'p2', 6, 4), row('shop-a', 'p10', 4, 2.5)],
    ];
    for (const batch of batches) writeInTransaction(db, writer, batch);
    const histories = [...iterateHistories(db)];
    expect(histories.map((h) => `${h.source}/${h.productId}`)).toEqual(['shop-a/p10', 'shop-a/p9', 'shop-b/p1', 'shop-b/p2']);
    const p9 = histories[1]!;
    expect([...p9.price]).toEqual([8, 7, 6]);
    expect([...p9.start]).toEqual([1, 3, 5].map((d) => Date.UTC(2026, 0, 1 + d, 9)));
    expect(p9.title).toBe('Item p9 (new)');
    expect([...iterateHistories(db, { source: 'shop-b' })].map((h) => h.productId)).toEqual(['p1', 'p2']);
    expect(readProductHistories(db, 'p2').map((h) => [...h.price])).toEqual([[6, 5, 4]]);
    expect(readSources(db)).toEqual(['shop-a', 'shop-b']);
    expect(readDataEnds(db)).toEqual(new Map([['shop-a', Date.UTC(2026, 0, 6, 9)], ['shop-b', Date.UTC(2026, 0, 7, 9)]]));
    expect(countObservations(db)).toBe(9);
    expect(countObservations(db, { source: 'shop-a', productId: 'p9' })).toBe(3);
    db.close();
  });
});
