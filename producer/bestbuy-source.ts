import type { RawRecord } from '../pipeline/base/raw-format';
import { apiUrl, createPollingSource, idOf, isObject, itemsToChunk, priceOf } from './api-polling';
import type { Source } from './source';
import type { SourceOptions } from './sources';

const SHOW = 'sku,name,regularPrice,salePrice,categoryPath';

/**
 * The Best Buy Products API (https://bestbuyapis.github.io/api-documentation/): walks
 * `/v1/products(<query>)` with cursorMark paging (`cursorMark=*`, then `nextCursorMark` until a
 * page is empty or the cursor stops changing), pageSize up to 100. price = salePrice, old price =
 * regularPrice, category = the last `categoryPath` name. The API key comes from an environment
 * variable (default BESTBUY_API_KEY) and is redacted from every message. A 403 (bad key or quota
 * spent) is not retried.
 */
export function createBestBuySource(options: SourceOptions): Source {
  const base = options.url ?? 'https://api.bestbuy.com';
  const keyVariable = options.apiKeyEnv ?? 'BESTBUY_API_KEY';
  const apiKey = process.env[keyVariable];
  if (!apiKey) throw new Error(`--source bestbuy needs an API key in the environment variable ${keyVariable}`);
  const pageSize = Math.min(100, options.pageSize ?? 100);
  const currency = options.currency ?? 'USD';
  const search = options.query ? `(${options.query})` : '';
  const redact = (url: string) => url.split(encodeURIComponent(apiKey)).join('***').split(apiKey).join('***');
  return createPollingSource(
    'bestbuy',
    options,
    async function* (http, observedAt) {
      let cursor = '*';
      for (;;) {
        const url = apiUrl(base, `/v1/products${search}`, { format: 'json', show: SHOW, pageSize, cursorMark: cursor, apiKey });
        const { body } = await http.getJson(url);
        if (!isObject(body) || !Array.isArray(body.products)) throw new Error('bestbuy: answer is not {products: [...]}');
        if (body.products.length === 0) return;
        yield itemsToChunk(body.products as unknown[], (item) => toRecord(item, observedAt, currency));
        const next = typeof body.nextCursorMark === 'string' ? body.nextCursorMark : undefined;
        if (!next || next === cursor) return;
        cursor = next;
      }
    },
    redact,
  );
}

function toRecord(item: Record<string, unknown>, observedAt: string, currency: string): RawRecord | string {
  const sku = idOf(item.sku);
  const price = typeof item.salePrice === 'number' ? priceOf(item.salePrice) : undefined;
  if (!sku) return 'missing sku';
  if (price === undefined) return `non-numeric salePrice ${JSON.stringify(item.salePrice)}`;
  if (typeof item.name !== 'string' || !item.name.trim()) return 'missing name';
  const regular = typeof item.regularPrice === 'number' ? priceOf(item.regularPrice) : undefined;
  const path = Array.isArray(item.categoryPath) ? (item.categoryPath as unknown[]).filter(isObject) : [];
  const last = path[path.length - 1];
  return {
    product_id: sku,
    title: item.name.trim(),
    category: last && typeof last.name === 'string' ? last.name : 'uncategorized',
    price,
    old_price: regular ?? null,
    currency,
    source: 'bestbuy',
    observed_at: observedAt,
  };
}
