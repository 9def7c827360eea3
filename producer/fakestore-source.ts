import { join } from 'node:path';
import { apiUrl, createPollingSource, idOf, itemsToChunk, priceOf } from './api-polling';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file';
import { destinationId } from './sink';
import type { Source } from './source';
import type { SourceEnvironment, SourceOptions } from './sources';

/**
 * Fake Store API `/products` (https://fakestoreapi.com/docs): a plain array, no paging, no list
 * price. The old price is the previous observed price of that product (kept in
 * `<workspace>/producer/state/`, committed with the spool like a checkpoint, so it survives
 * restarts); null the first time a product is seen.
 */
export function createFakeStoreSource(options: SourceOptions, environment: SourceEnvironment): Source {
  const base = options.url ?? 'https://fakestoreapi.com';
  const currency = options.currency ?? 'USD';
  const stateFile = join(environment.workspace, 'producer', 'state', `fakestore-${destinationId(base)}.json`);
  let lastPrices: Map<string, number> | undefined;

  const polling = createPollingSource('fakestore', options, async function* (http, observedAt) {
    const prices = (lastPrices ??= new Map(Object.entries(((await readCheckpointFile(stateFile)) ?? {}) as Record<string, number>)));
    const { body } = await http.getJson(apiUrl(base, '/products', options.pageSize ? { limit: options.pageSize } : {}));
    if (!Array.isArray(body)) throw new Error('fakestore: /products is not an array');
    const chunk = itemsToChunk(body as unknown[], (item) => {
      const id = idOf(item.id);
      const price = typeof item.price === 'number' ? priceOf(item.price) : undefined;
      if (!id) return 'missing id';
      if (price === undefined) return `non-numeric price ${JSON.stringify(item.price)}`;
      if (typeof item.title !== 'string' || item.title.trim() === '') return 'missing title';
      const oldPrice = prices.get(id) ?? null;
      prices.set(id, price);
      return {
        product_id: id,
        // Several live titles end with a space.
        title: item.title.trim(),
        category: typeof item.category === 'string' && item.category ? item.category : 'uncategorized',
        price,
        old_price: oldPrice,
        currency,
        source: 'fakestore',
        observed_at: observedAt,
      };
    });
    // The last prices are a checkpoint: saved only once this poll's records are in the spool.
    yield { ...chunk, checkpoint: Object.fromEntries(prices) };
  });
  return { ...polling, commit: (checkpoint) => writeCheckpointFile(stateFile, checkpoint) };
}
