import { describe, expect, it } from 'vitest';
import { toCleanRow } from './cloud-sync';

const row = {
  source: 'pnp',
  product_id: 'p1',
  observed_at: '2026-11-20T10:00:00.000Z',
  dt: '2026-11-20',
  title: 'Tea',
  category: 'drinks',
  price: 9.5,
  old_price: 10,
  currency: 'ZAR',
  drop_amount: 0.5,
  drop_pct: 5,
  is_drop: true,
};

describe('toCleanRow: an Athena row of cleaned_observations as a cache row', () => {
  it('keeps the Glue job output as it is', () => {
    expect(toCleanRow(row)).toEqual({ ...row, drop_label: 'drop' });
  });

  it('reads observed_at as the rules read timestamps, into the canonical UTC form', () => {
    expect(toCleanRow({ ...row, observed_at: '2026-11-20 12:00:00+02:00' })?.observed_at).toBe('2026-11-20T10:00:00.000Z');
    expect(toCleanRow({ ...row, observed_at: new Date('2026-11-20T10:00:00Z') })?.observed_at).toBe('2026-11-20T10:00:00.000Z');
  });

  it('is not a row without a readable time, or with a dt that is not its day', () => {
    expect(toCleanRow({ ...row, observed_at: 'yesterday' })).toBeNull();
    expect(toCleanRow({ ...row, dt: '2026-11-21' })).toBeNull();
    expect(toCleanRow({ ...row, price: null })).toBeNull();
  });
});
