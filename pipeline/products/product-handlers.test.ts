import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachePath, openCache } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import { NotFoundError, ValidationError } from '../base/errors';
import { productHandlers } from './product-handlers';
import { cleanRow, storeRows } from '../../test/support/clean-rows';

function handlers() {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-product-handlers-'));
  const cache = openCache(cachePath(workspace));
  storeRows(cache, [cleanRow({ source: 'sim', product_id: 'P-1', observed_at: '2026-11-20T12:00:00.000Z', title: 'Desk Lamp', category: 'Home', price: 10 })]);
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
