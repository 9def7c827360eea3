import type { HandlerContext } from '../api/handler-context';
import { NotFoundError } from '../base/errors';
import { optionalNumber, optionalString, record, requiredString } from '../api/validate';
import { productDetail, searchProducts, type ProductDetail, type ProductSummary } from './product-queries';

/** The products domain: search, and one product's history, statistics and advice inputs. */
export function productHandlers(ctx: HandlerContext) {
  return {
    /** By id (exact or prefix) or by words of the name; empty query: the latest observed products. */
    'products/search': async (params: { query?: string; limit?: number }): Promise<ProductSummary[]> => {
      const input = record(params);
      return searchProducts(ctx.cache, optionalString(input, 'query', 200) ?? '', optionalNumber(input, 'limit', { min: 1, max: 500, integer: true }) ?? 50);
    },
    /** Price history (one point a day, drops and promotions marked) and statistics. */
    'products/detail': async (params: { source: string; productId: string }): Promise<ProductDetail> => {
      const input = record(params);
      const source = requiredString(input, 'source', 200);
      const productId = requiredString(input, 'productId', 200);
      const detail = productDetail(ctx.cache, source, productId);
      if (!detail) throw new NotFoundError(`No product ${productId} from ${source} in the cache`);
      return detail;
    },
  };
}
