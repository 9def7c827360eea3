import { describe, expect, it } from 'vitest';
import { createObservationEncoder, HOUR_MS, keyOrder, ProductDictionary, type CleanRow } from './observation-encoding';
import { seededSequence } from '../runtime/seeded-sequence';
import { cleanRow } from '../../test/support/clean-rows';

function row(productId: string, observedAt: string, extra: Partial<CleanRow> = {}): CleanRow {
  return cleanRow({ product_id: productId, observed_at: observedAt, ...extra });
}

describe('observation encoder', () => {
  const rows = [
    row('b', '2025-03-01T10:30:00.000Z'),
    row('a', '2025-03-01T11:00:00.000Z', { old_price: 3, drop_amount: 0.5, drop_pct: 16.67, is_drop: true, drop_label: 'drop' }),
    row('a', '2025-03-01T10:45:00.000Z'),
    row('b', '2025-03-01T10:30:00.000Z', { price: 9 }),
    row('a', '2025-03-01T10:05:00.000Z'),
  ];

  it('codes unknown products and descriptors as -1 - k in input order, and leaves the batch unsorted', () => {
    const b = createObservationEncoder().encode(rows);
    expect(b.sorted).toBe(false);
    expect(b.newProducts).toEqual(['s', 'b', 's', 'a']);
    expect(b.newDescriptors).toEqual(['T b', 'c', 'EUR', 'T a', 'c', 'EUR']);
    expect([...b.product]).toEqual([-1, -2, -2, -1, -2]);
    expect([...b.descriptor]).toEqual([-1, -2, -2, -1, -2]);
    expect([...b.t]).toEqual(rows.map((r) => Date.parse(r.observed_at)));
    expect([...b.hour]).toEqual(rows.map((r) => Math.floor(Date.parse(r.observed_at) / HOUR_MS)));
    // NULL is NaN in the numeric columns.
    expect([...b.oldPrice].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, 3, null, null, null]);
    expect([...b.dropPct].map((x) => (Number.isNaN(x) ? null : x))).toEqual([null, 16.67, null, null, null]);
    expect([...b.isDrop]).toEqual([0, 1, 0, 0, 0]);
  });

  it('once it knows the ids, sends rows in (product, time) order, the first of equal keys first', () => {
    const encoder = createObservationEncoder();
    const first = encoder.encode(rows);
    encoder.learn(first, { products: [7, 3], descriptors: [20, 10] });
    const b = encoder.encode(rows);
    expect(b.sorted).toBe(true);
    expect(b.newProducts).toEqual([]);
    // a (3) at 10:05, 10:45 and 11:00, then b (7) at 10:30 twice (input order: price 2.5, then 9).
    expect([...b.product]).toEqual([3, 3, 3, 7, 7]);
    expect([...b.t].map((t) => new Date(t).toISOString().slice(11, 16))).toEqual(['10:05', '10:45', '11:00', '10:30', '10:30']);
    expect([...b.price]).toEqual([2.5, 2.5, 2.5, 2.5, 9]);
    expect([...b.descriptor]).toEqual([10, 10, 10, 20, 20]);
  });

  it('takes product ids the caller already looked up, and shares dictionaries with a store', () => {
    const products = new ProductDictionary();
    products.set('s', 'a', 1);
    const encoder = createObservationEncoder(products, new Map([['T a\u0001c\u0001EUR', 4]]));
    const b = encoder.encode([row('a', '2025-03-01T10:05:00.000Z'), row('z', '2025-03-01T09:00:00.000Z')], Int32Array.of(-1, 2));
    // A new descriptor does not hold the order back (the store rewrites it in place).
    expect(b.sorted).toBe(true);
    expect([...b.product]).toEqual([1, 2]);
    expect(b.newDescriptors).toEqual(['T z', 'c', 'EUR']);
    expect([...b.descriptor]).toEqual([4, -1]);
  });

  it('orders rows by (product, time, input) whether product ids are dense or far apart', () => {
    const random = seededSequence(3);
    for (let round = 0; round < 200; round++) {
      const n = 2 + Math.floor(random() * 300);
      const spread = round % 2 ? 20 : 1e6;
      const product = Int32Array.from({ length: n }, () => Math.floor(random() * spread));
      const t = Float64Array.from({ length: n }, () => Math.floor(random() * 5));
      const want = Array.from({ length: n }, (_, i) => i).sort((a, b) => product[a]! - product[b]! || t[a]! - t[b]! || a - b);
      expect(Array.from(keyOrder(n, t, product)!)).toEqual(want);
    }
  });

  it('refuses a dt that is not the day of observed_at, and an unreadable observed_at', () => {
    const encoder = createObservationEncoder();
    expect(() => encoder.encode([{ ...row('a', '2025-03-01T10:05:00.000Z'), dt: '2025-03-02' }])).toThrow(/not the day of observed_at/);
    expect(() => encoder.encode([row('a', 'yesterday')])).toThrow(/ISO 8601/);
  });
});
