import type { RawRecord } from '../pipeline/lake/raw-format';
import { API_DEFAULTS, apiUrl, createPollingSource, idOf, isObject, priceOf, roundMoney } from './api-polling';
import type { RejectedRecord, Source } from './source';
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
    yield toChunk(first.products, observedAt, currency);
    const total = first.total ?? 0;
    if (first.products.length === 0) return;
    for (let skip = first.products.length; skip < total; skip += pageSize * concurrency) {
      const skips: number[] = [];
      for (let s = skip; s < Math.min(total, skip + pageSize * concurrency); s += pageSize) skips.push(s);
      const pages = await Promise.all(skips.map(page));
      for (const next of pages) yield toChunk(next.products, observedAt, currency);
      if (pages.some((next) => next.products.length === 0)) return;
    }
  });
}

function toChunk(items: unknown[], observedAt: string, currency: string): { records: RawRecord[]; rejected: RejectedRecord[] } {
  const records: RawRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const item of items) {
    if (!isObject(item)) {
      rejected.push({ reason: 'not an object', raw: item });
      continue;
    }
    const id = idOf(item.id);
    const price = priceOf(item.price);
    if (!id) rejected.push({ reason: 'missing id', raw: item });
    else if (price === undefined || typeof item.price !== 'number') rejected.push({ reason: `non-numeric price ${JSON.stringify(item.price)}`, raw: item });
    else if (typeof item.title !== 'string' || item.title.trim() === '') rejected.push({ reason: 'missing title', raw: item });
    else {
      const discount = typeof item.discountPercentage === 'number' && item.discountPercentage > 0 && item.discountPercentage < 100 ? item.discountPercentage : 0;
      records.push({
        product_id: id,
        title: item.title.trim(),
        category: typeof item.category === 'string' && item.category ? item.category : 'uncategorized',
        price,
        old_price: discount ? roundMoney(price / (1 - discount / 100)) : null,
        currency,
        source: 'dummyjson',
        observed_at: observedAt,
      });
    }
  }
  return { records, rejected };
}
