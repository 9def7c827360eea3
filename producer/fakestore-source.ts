import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RawRecord } from '../pipeline/lake/raw-format';
import { apiUrl, createPollingSource, idOf, isObject, priceOf } from './api-polling';
import { destinationId } from './sink';
import type { RejectedRecord, Source } from './source';
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

  async function load(): Promise<Map<string, number>> {
    try {
      return new Map(Object.entries(JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, number>));
    } catch {
      return new Map();
    }
  }

  async function save(prices: Record<string, number>): Promise<void> {
    await mkdir(dirname(stateFile), { recursive: true });
    await writeFile(`${stateFile}.tmp`, JSON.stringify(prices));
    await rename(`${stateFile}.tmp`, stateFile);
  }

  const polling = createPollingSource('fakestore', options, async function* (http, observedAt) {
    lastPrices ??= await load();
    const { body } = await http.getJson(apiUrl(base, '/products', options.pageSize ? { limit: options.pageSize } : {}));
    if (!Array.isArray(body)) throw new Error('fakestore: /products is not an array');
    const records: RawRecord[] = [];
    const rejected: RejectedRecord[] = [];
    for (const item of body as unknown[]) {
      if (!isObject(item)) {
        rejected.push({ reason: 'not an object', raw: item });
        continue;
      }
      const id = idOf(item.id);
      const price = typeof item.price === 'number' ? priceOf(item.price) : undefined;
      if (!id) rejected.push({ reason: 'missing id', raw: item });
      else if (price === undefined) rejected.push({ reason: `non-numeric price ${JSON.stringify(item.price)}`, raw: item });
      else if (typeof item.title !== 'string' || item.title.trim() === '') rejected.push({ reason: 'missing title', raw: item });
      else {
        records.push({
          product_id: id,
          // Several live titles end with a space.
          title: item.title.trim(),
          category: typeof item.category === 'string' && item.category ? item.category : 'uncategorized',
          price,
          old_price: lastPrices.get(id) ?? null,
          currency,
          source: 'fakestore',
          observed_at: observedAt,
        });
        lastPrices.set(id, price);
      }
    }
    // The last prices are a checkpoint: saved only once this poll's records are in the spool.
    yield { records, rejected, checkpoint: Object.fromEntries(lastPrices) };
  });
  return { ...polling, commit: (checkpoint) => save(checkpoint as Record<string, number>) };
}
