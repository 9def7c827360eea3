import { describe, expect, it } from 'vitest';
import { createProductSearch } from './loaded-bundle';
import type { BundleProduct } from './bundle-format';

const product = (id: string, name: string): BundleProduct => ({ id, name, category: 'c', currency: 'EUR', price: 1, old_price: null, last_observed_at: '2026-01-01T00:00:00Z', features: [] });

describe('createProductSearch', () => {
  const search = createProductSearch([
    product('tea-10', 'Green tea 10 bags'),
    product('tea-100', 'Earl Grey Tea 100 bags'),
    product('x1', 'Steak knife'),
    product('x2', 'Teapot'),
    product('x3', 'Crème brûlée pots'),
    product('x4', 'Instead-of-tea herbal'),
    product('x5', 'Tea towel'),
  ]);
  const ids = (query: string, limit = 20) => search(query, limit).map((p) => p.id);

  it('ranks exact id, id prefix, name prefix, word start, then substring; by name within a rank', () => {
    expect(ids('tea-10')).toEqual(['tea-10', 'tea-100']);
    // id prefix (by name: Earl Grey…, Green…), name prefix (Tea towel, Teapot), a word start
    // (Instead-of-tea), then a substring inside a word (Steak).
    expect(ids('tea')).toEqual(['tea-100', 'tea-10', 'x5', 'x2', 'x4', 'x1']);
  });

  it('ignores case and accents, and respects the limit', () => {
    expect(ids('CREME BRULEE')).toEqual(['x3']);
    expect(ids('tea', 2)).toEqual(['tea-100', 'tea-10']);
    expect(ids('   ')).toEqual([]);
    expect(ids('zzz')).toEqual([]);
  });
});
