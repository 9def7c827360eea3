import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, openCache } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import { NotFoundError } from '../api/api-errors';
import { ValidationError } from '../api/validate';
import { productHandlers } from './product-handlers';

function handlers() {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-product-handlers-'));
  const cache = openCache(cachePath(workspace));
  cache
    .prepare(
      `INSERT INTO observations (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label)
       VALUES ('sim', 'P-1', '2026-11-20T12:00:00.000Z', '2026-11-20', 'Desk Lamp', 'Home', 10, NULL, 'EUR', NULL, NULL, 0, 'no drop')`,
    )
    .run();
  cache.prepare(`INSERT INTO products VALUES ('sim', 'P-1', 'Desk Lamp', 'Home', 'EUR', 10, '2026-11-20T12:00:00.000Z')`).run();
  return productHandlers({ workspace, cache, events: new EventBus(), version: 'test', shell: 'browser' });
}

describe('product handlers', () => {
  it('search and detail answer from the cache', async () => {
    const h = handlers();
    expect((await h['products/search']({ query: 'lamp' })).map((p) => p.product_id)).toEqual(['P-1']);
    const detail = await h['products/detail']({ source: 'sim', productId: 'P-1' });
    expect(detail.stats).toMatchObject({ current_price: 10, lowest_price: 10, good_deal: true, rise_warning: null });
  });

  it('refuses bad input and says when a product is unknown', async () => {
    const h = handlers();
    await expect(h['products/search']({ query: 'x'.repeat(201) })).rejects.toThrow(ValidationError);
    await expect(h['products/search']({ limit: 0 })).rejects.toThrow(/at least 1/);
    await expect(h['products/detail']({ source: 'sim' } as never)).rejects.toThrow(/productId is required/);
    await expect(h['products/detail']({ source: 'sim', productId: 'nope' })).rejects.toThrow(NotFoundError);
  });
});
