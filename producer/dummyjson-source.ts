import type { RawRecord } from '../pipeline/base/raw-format';
import { API_DEFAULTS, apiUrl, createPollingSource, idOf, isObject, itemsToChunk, priceOf, roundMoney } from './api-polling';
import type { Source } from './source';
import type { SourceOptions } from './sources';

/**
 * DummyJSON `/products` (https://dummyjson.com/docs/products): `{products, total, skip, limit}`,
 * paged with `limit`/`skip`; the answer's `limit` is the number of items returned. Pages after the
 * first are fetched `--concurrency` at a time. The old price is derived from the discount:
 * price / (1 - discountPercentage / 100); no discount means no old price.
 */
export function createDummyJsonSource(options: SourceOptions): Source {
  const base = options.url ?? 'https://dummyjson.com';
  const pageSize = options.pageSize ?? 100;
  const concurrency = options.concurrency ?? API_DEFAULTS.concurrency;
  const currency = options.currency ?? 'USD';
  return createPollingSource('dummyjson', options, async function* (http, observedAt) {
    const page = async (skip: number) => {
      const { body } = await http.getJson(apiUrl(base, '/products', { limit: pageSize, skip }));
      if (!isObject(body) || !Array.isArray(body.products)) throw new Error(`dummyjson: /products?skip=${skip} is not {products: [...]}`);
      return { products: body.products as unknown[], total: typeof body.total === 'number' ? body.total : undefined };
    };
    const first = await page(0);
    yield itemsToChunk(first.products, (item) => toRecord(item, observedAt, currency));
    const total = first.total ?? 0;
    if (first.products.length === 0) return;
    for (let skip = first.products.length; skip < total; skip += pageSize * concurrency) {
      const skips: number[] = [];
      for (let s = skip; s < Math.min(total, skip + pageSize * concurrency); s += pageSize) skips.push(s);
      const pages = await Promise.all(skips.map(page));
      for (const next of pages) yield itemsToChunk(next.products, (item) => toRecord(item, observedAt, currency));
      if (pages.some((next) => next.products.length === 0)) return;
    }
  });
}

function toRecord(item: Record<string, unknown>, observedAt: string, currency: string): RawRecord | string {
  const id = idOf(item.id);
  const price = priceOf(item.price);
  if (!id) return 'missing id';
  if (price === undefined || typeof item.price !== 'number') return `non-numeric price ${JSON.stringify(item.price)}`;
  if (typeof item.title !== 'string' || item.title.trim() === '') return 'missing title';
  const discount = typeof item.discountPercentage === 'number' && item.discountPercentage > 0 && item.discountPercentage < 100 ? item.discountPercentage : 0;
  return {
    product_id: id,
    title: item.title.trim(),
    category: typeof item.category === 'string' && item.category ? item.category : 'uncategorized',
    price,
    old_price: discount ? roundMoney(price / (1 - discount / 100)) : null,
    currency,
    source: 'dummyjson',
    observed_at: observedAt,
  };
}
