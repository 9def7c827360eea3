import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus } from '../api/event-bus';
import { openCache, setMeta } from '../cache/cache-db';
import { createObservationWriter, type CleanRow } from '../cache/observation-writer';
import { dashboardHandlers } from './dashboard-handlers';

const dir = mkdtempSync(join(tmpdir(), 'pricedrop-dash-handlers-'));
const cache = openCache(join(dir, 'cache.db'));
afterAll(() => {
  cache.close();
  rmSync(dir, { recursive: true, force: true });
});

function row(i: number): CleanRow {
  const dt = `2026-03-${String(1 + (i % 28)).padStart(2, '0')}`;
  const drop = i % 4 === 0;
  return {
    source: 'shop',
    product_id: `p${i % 30}`,
    observed_at: `${dt}T08:00:${String(i % 60).padStart(2, '0')}.000Z`,
    dt,
    title: `Product ${i % 30}`,
    category: i % 30 < 10 ? 'dairy' : 'bakery',
    price: drop ? 8 : 10,
    old_price: 10,
    currency: 'EUR',
    drop_amount: drop ? 2 : 0,
    drop_pct: drop ? 20 : 0,
    is_drop: drop,
    drop_label: drop ? 'drop' : 'no drop',
  };
}

const writer = createObservationWriter(cache);
cache.transaction(() => {
  writer.writeBatch(Array.from({ length: 600 }, (_, i) => row(i)));
  writer.flush();
})();
const handlers = dashboardHandlers({ workspace: dir, cache, events: new EventBus(), version: 'test', shell: 'browser' });

describe('dashboard handlers', () => {
  it("'dashboard/products' pages the products of a panel selection (trend point, category bar, split slice)", async () => {
    const page = await handlers['dashboard/products']({ grain: 'week', period: '2026-03-02', category: 'dairy', dropStatus: 'drop', limit: 3 });
    expect(page.filter).toEqual({ from: '2026-03-02', to: '2026-03-08', categories: ['dairy'], dropStatus: 'drop' });
    const panels = await handlers['dashboard/panels'](page.filter);
    expect(page.total).toBe(panels.kpis.products_analysed);
    expect(page.products).toHaveLength(3);
    expect(page.products[0]).toMatchObject({ source: 'shop', category: 'dairy', max_drop_pct: 20, last_drop_pct: 20 });
    const rest = await handlers['dashboard/products']({ ...page.filter, offset: 3, limit: 500 });
    expect(rest.products.length).toBe(page.total - 3);
  });

  it('selects nothing for a bar outside the filter, and validates paging', async () => {
    const none = await handlers['dashboard/products']({ categories: ['bakery'], category: 'dairy' });
    expect(none).toMatchObject({ total: 0, products: [] });
    await expect(handlers['dashboard/products']({ limit: 501 })).rejects.toThrow(/limit/);
    await expect(handlers['dashboard/products']({ period: 'March' } as never)).rejects.toThrow(/period/);
  });

  it("'cache/status' tells data as of per origin and per source", async () => {
    setMeta(cache, 'data_as_of.athena', JSON.stringify({ last_observed_at: '2026-03-28T08:00:00.000Z', updated_at: '2026-03-29T00:00:00.000Z', rows_inserted: 5 }));
    const status = await handlers['cache/status']();
    expect(status.observations).toBe(cache.prepare('SELECT COUNT(*) FROM observations').pluck().get());
    expect(status.origins.athena).toMatchObject({ rows_inserted: 5 });
    expect(status.sources).toEqual([{ source: 'shop', data_as_of: cache.prepare('SELECT MAX(observed_at) FROM observations').pluck().get(), products: 30 }]);
  });
});
