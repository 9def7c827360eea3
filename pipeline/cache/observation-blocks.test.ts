import { describe, expect, it } from 'vitest';
import { decodeBlock, decodeTimes, derivedDropAmount, derivedDropPct, encodeBlock, FLAG_ATHENA, FLAG_DROP, MAX_BLOCK_ROWS, maxBlockBytes, rowColumns, type RowColumns } from './observation-blocks';
import { computeDrop } from '../etl/price-rules';
import { seededSequence } from '../runtime/seeded-sequence';

const T0 = Date.UTC(2025, 5, 1, 8, 30, 0, 125);

/** Rows with the values given (null for NULL), one a minute, descriptor 7. */
function columns(values: { price: number; old?: number | null; amount?: number | null; pct?: number | null; descriptor?: number; flags?: number }[]): RowColumns {
  const c = rowColumns(values.length);
  values.forEach((v, i) => {
    c.t[i] = T0 + i * 60_000 + (i % 3);
    c.descriptor[i] = v.descriptor ?? 7;
    c.price[i] = v.price;
    c.oldPrice[i] = v.old ?? NaN;
    c.dropAmount[i] = v.amount ?? NaN;
    c.dropPct[i] = v.pct ?? NaN;
    c.flags[i] = v.flags ?? 0;
  });
  return c;
}

function roundTrip(c: RowColumns, n = c.t.length): RowColumns {
  const out = new Uint8Array(maxBlockBytes(n));
  const block = encodeBlock(c, 0, n, out);
  const back = rowColumns(n);
  expect(decodeBlock(block, back)).toBe(n);
  return back;
}

/** Equal arrays, NaN shown as NULL; -0 is stored as 0 (as SQLite's REAL columns store it). */
function same(a: Float64Array | Int32Array | Uint8Array, b: Float64Array | Int32Array | Uint8Array): void {
  const shown = (x: number) => (Number.isNaN(x) ? 'NULL' : x === 0 ? 0 : x);
  expect(Array.from(a, shown)).toEqual(Array.from(b, shown));
}

describe('observation blocks', () => {
  it('writes cents as fixed-width digits with one divisor, and NULLs only as flags', () => {
    // Drop values the rules would not give (10 % of 14.50 is not 1.00): stored.
    const c = columns([
      { price: 12.99, old: 14.5, amount: 1, pct: 10, flags: FLAG_DROP },
      { price: 9.5, old: null, amount: null, pct: null },
      { price: 100, old: 99.99, amount: -0.01, pct: -0.01, flags: FLAG_ATHENA },
    ]);
    const block = encodeBlock(c, 0, 3, new Uint8Array(maxBlockBytes(3)));
    expect(block).toMatchObject({ n: 3, t_first: T0, w_descriptor: 0, last_descriptor: 7, last_price: 100, d_price: 100, d_old_price: 100, d_drop_amount: 100, w_price: 5, w_old_price: 4 });
    const text = Buffer.from(block.data).toString('latin1');
    // Row after row: t offset, price, old price, drop amount, drop %, flags ('L' = '0' + 4 + 8 + 16: three NULLs).
    expect(text.match(/.{25}/g)).toEqual(['0000000129914500100010001', '060001009500000000000000L', '120002100009999-001-00012']);
    const back = roundTrip(c);
    for (const key of ['t', 'descriptor', 'price', 'oldPrice', 'dropAmount', 'dropPct', 'flags'] as const) same(back[key], c[key]);
  });

  it('stores no drop values where they are what the rules make of price and old price', () => {
    const c = columns([
      { price: 12.99, old: 14.5, amount: 1.51, pct: 10.41, flags: FLAG_DROP },
      { price: 9.5, old: null, amount: null, pct: null },
      { price: 100, old: 99.99, amount: -0.01, pct: -0.01 },
    ]);
    const block = encodeBlock(c, 0, 3, new Uint8Array(maxBlockBytes(3)));
    expect(block).toMatchObject({ w_drop_amount: 0, w_drop_pct: 0, d_drop_amount: 0, d_drop_pct: 0 });
    expect(Buffer.from(block.data).toString('latin1').match(/.{16}/g)).toEqual(['0000000129914501', '060001009500000L', '1200021000099990']);
    const back = roundTrip(c);
    for (const key of ['price', 'oldPrice', 'dropAmount', 'dropPct'] as const) same(back[key], c[key]);
    // The derivation is the rules' (price-rules.ts computeDrop), on values where rounding decides.
    for (const [price, old] of [[8.99, 9.99], [0.333, 1], [19.995, 20], [1, 3], [2.5, 1.25]] as const) {
      const rules = computeDrop(price, old);
      expect([derivedDropAmount(price, old), derivedDropPct(derivedDropAmount(price, old), old)]).toEqual([rules.drop_amount, rules.drop_pct]);
    }
  });

  it('gives back every double exactly: more decimals, large and tiny values, text where no scale fits', () => {
    const random = seededSequence(7);
    const nasty = [1 + 0.07, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, -2.2250738585072014e-308, 123456789012345680000, 0.125, 1e-7, 19.999, 3];
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(random() * 40);
      const values = Array.from({ length: n }, (_, i) => {
        const kind = Math.floor(random() * 4);
        const price = kind === 0 ? Math.round(random() * 1e6) / 100 : kind === 1 ? Math.round(random() * 1e7) / 1e4 : kind === 2 ? (nasty[i % nasty.length] as number) : random() * 1000;
        return { price, old: random() < 0.3 ? null : price / 1.25, amount: random() < 0.5 ? null : -price / 3, pct: random() < 0.5 ? null : Math.round(random() * 1e4) / 100, descriptor: 1 + Math.floor(random() * 3) * 1000 };
      });
      const c = columns(values);
      const back = roundTrip(c, n);
      for (const key of ['t', 'descriptor', 'price', 'oldPrice', 'dropAmount', 'dropPct'] as const) same(back[key], c[key]);
    }
  });

  it('holds MAX_BLOCK_ROWS rows over a long span and decodes the times alone', () => {
    const c = rowColumns(MAX_BLOCK_ROWS);
    for (let i = 0; i < MAX_BLOCK_ROWS; i++) {
      c.t[i] = T0 + i * 86_400_017;
      c.descriptor[i] = 3;
      c.price[i] = 1 + i;
      c.oldPrice[i] = NaN;
      c.dropAmount[i] = NaN;
      c.dropPct[i] = NaN;
    }
    const block = encodeBlock(c, 0, MAX_BLOCK_ROWS, new Uint8Array(maxBlockBytes(MAX_BLOCK_ROWS)));
    expect(block.w_old_price).toBe(0);
    const times = new Float64Array(MAX_BLOCK_ROWS);
    decodeTimes(block, times);
    same(times, c.t);
  });

  it('refuses what it cannot store faithfully', () => {
    const c = columns([{ price: 1 }, { price: 2 }]);
    const out = new Uint8Array(maxBlockBytes(2));
    c.t[1] = c.t[0] as number;
    expect(() => encodeBlock(c, 0, 2, out)).toThrow(/increasing time/);
    c.t[1] = (c.t[0] as number) + 1;
    c.price[1] = Infinity;
    expect(() => encodeBlock(c, 0, 2, out)).toThrow(/finite/);
    expect(() => encodeBlock(c, 0, 0, out)).toThrow(/0 rows/);
    const block = encodeBlock(columns([{ price: 1 }]), 0, 1, out);
    expect(() => decodeBlock({ ...block, w_price: block.w_price + 1 }, rowColumns(1))).toThrow(/layout needs/);
  });
});
