import type { RawRecord } from '../pipeline/base/raw-format';
import { API_DEFAULTS, apiUrl, createPollingSource, idOf, isObject, priceOf } from './api-polling';
import type { RejectedRecord, Source } from './source';
import type { SourceOptions } from './sources';

/** Shopify serves pages only up to an offset of 25,000 products (page * limit); beyond, HTTP 400. */
const MAX_OFFSET = 25_000;

/**
 * A Shopify storefront's public `/products.json`: `{products: [...]}`, paged with `limit` (max 250)
 * and 1-based `page`, no total; a page past the end is `{"products":[]}`. One row per variant:
 * product_id `<product id>-<variant id>`, prices are strings, `compare_at_price` ("0.00" or null
 * when there is none) is the old price. Pages are fetched `--concurrency` at a time.
 */
export function createShopifySource(options: SourceOptions): Source {
  if (!options.url) throw new Error('--source shopify needs --url');
  const base = options.url;
  const limit = Math.min(250, options.pageSize ?? 250);
  const concurrency = options.concurrency ?? API_DEFAULTS.concurrency;
  const currency = options.currency ?? 'USD';
  return createPollingSource('shopify', options, async function* (http, observedAt, context) {
    for (let page = 1; ; page += concurrency) {
      const pages: number[] = [];
      for (let p = page; p < page + concurrency && p * limit <= MAX_OFFSET; p++) pages.push(p);
      if (pages.length === 0) {
        context.log('warn', `shopify: stopped at ${MAX_OFFSET} products (the storefront's paging limit)`);
        return;
      }
      const bodies = await Promise.all(pages.map((p) => http.getJson(apiUrl(base, '/products.json', { limit, page: p }))));
      let ended = false;
      for (const { body } of bodies) {
        if (!isObject(body) || !Array.isArray(body.products)) throw new Error('shopify: /products.json is not {products: [...]}');
        if (body.products.length === 0) {
          ended = true;
          continue;
        }
        if (!ended) yield toChunk(body.products as unknown[], observedAt, currency);
      }
      if (ended) return;
    }
  });
}

function toChunk(products: unknown[], observedAt: string, currency: string): { records: RawRecord[]; rejected: RejectedRecord[] } {
  const records: RawRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (const product of products) {
    if (!isObject(product)) {
      rejected.push({ reason: 'product is not an object', raw: product });
      continue;
    }
    const productId = idOf(product.id);
    if (!productId) {
      rejected.push({ reason: 'missing product id', raw: product });
      continue;
    }
    if (typeof product.title !== 'string' || !Array.isArray(product.variants)) {
      rejected.push({ reason: 'product without title or variants', raw: product });
      continue;
    }
    const category = typeof product.product_type === 'string' && product.product_type.trim() ? product.product_type.trim() : 'uncategorized';
    for (const variant of product.variants as unknown[]) {
      if (!isObject(variant)) {
        rejected.push({ reason: 'variant is not an object', raw: { product: productId, variant } });
        continue;
      }
      const variantId = idOf(variant.id);
      const price = priceOf(variant.price);
      if (!variantId) rejected.push({ reason: 'missing variant id', raw: { product: productId, variant } });
      else if (price === undefined) rejected.push({ reason: `non-numeric price ${JSON.stringify(variant.price)}`, raw: { product: productId, variant } });
      else {
        const compareAt = priceOf(variant.compare_at_price);
        const variantTitle = typeof variant.title === 'string' && variant.title !== 'Default Title' ? variant.title.trim() : '';
        records.push({
          product_id: `${productId}-${variantId}`,
          title: variantTitle ? `${product.title.trim()} - ${variantTitle}` : product.title.trim(),
          category,
          price,
          old_price: compareAt !== undefined && compareAt > 0 ? compareAt : null,
          currency,
          source: 'shopify',
          observed_at: observedAt,
        });
      }
    }
  }
  return { records, rejected };
}
