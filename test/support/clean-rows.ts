import type { CleanRow } from '../../pipeline/cache/observation-encoding';

/**
 * A cleaned observation for tests: `dt` follows from observed_at, and it is a "no drop" row
 * unless the fields say otherwise.
 */
export function cleanRow(fields: Pick<CleanRow, 'product_id' | 'observed_at'> & Partial<CleanRow>): CleanRow {
  return {
    source: 's',
    dt: fields.observed_at.slice(0, 10),
    title: `T ${fields.product_id}`,
    category: 'c',
    price: 2.5,
    old_price: null,
    currency: 'EUR',
    drop_amount: null,
    drop_pct: null,
    is_drop: false,
    drop_label: 'no drop',
    ...fields,
  };
}
