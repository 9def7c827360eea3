import type { RawRecord } from '../pipeline/lake/raw-format';
import { apiUrl, createPollingSource, idOf, isObject, priceOf } from './api-polling';
import type { RejectedRecord, Source } from './source';
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
        yield toChunk(body.products as unknown[], observedAt, currency);
        const next = typeof body.nextCursorMark === 'string' ? body.nextCursorMark : undefined;
        if (!next || next === cursor) return;
        cursor = next;
      }
    },
    redact,
  );
}

function toChunk(products: unknown[], observedAt: string, currency: string): { records: RawRecord[]; rejected: RejectedRecord[] } {
  const records: RawRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const item of products) {
    if (!isObject(item)) {
      rejected.push({ reason: 'not an object', raw: item });
      continue;
    }
    const sku = idOf(item.sku);
    const price = typeof item.salePrice === 'number' ? priceOf(item.salePrice) : undefined;
    if (!sku) rejected.push({ reason: 'missing sku', raw: item });
    else if (price === undefined) rejected.push({ reason: `non-numeric salePrice ${JSON.stringify(item.salePrice)}`, raw: item });
    else if (typeof item.name !== 'string' || !item.name.trim()) rejected.push({ reason: 'missing name', raw: item });
    else {
      const regular = typeof item.regularPrice === 'number' ? priceOf(item.regularPrice) : undefined;
      const path = Array.isArray(item.categoryPath) ? (item.categoryPath as unknown[]).filter(isObject) : [];
      const last = path[path.length - 1];
      records.push({
        product_id: sku,
        title: item.name.trim(),
        category: last && typeof last.name === 'string' ? last.name : 'uncategorized',
        price,
        old_price: regular ?? null,
        currency,
        source: 'bestbuy',
        observed_at: observedAt,
      });
    }
  }
  return { records, rejected };
}
