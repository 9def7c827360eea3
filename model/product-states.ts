import { latestFeatures } from './features';
import { inputsOf, type ForecastData } from './decision-data';
import type { ProductHistory } from './price-history';
import { DAY_MS } from '../pipeline/base/time';
import type { LoadedModel } from './model-file';

/** What the server's bundle keeps per product: enough to search, chart and predict with no database. */
export interface ProductState {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  /** ISO time the features describe (the product's last known day). */
  as_of: string;
  last_price: number;
  /** The "was" price shown with the current price, or null. */
  old_price: number | null;
  last_observed_at: string;
  /** Feature vector in FEATURE_NAMES order: pass to `predictFromFeatures`. */
  features: number[];
  /** Price segments of the last `historyDays` (plus the one in force at its start), oldest first. */
  history: { t: string; price: number; old_price: number | null }[];
}

/**
 * Every product's latest feature state and recent price history, from histories prepared with the
 * model's horizon (`data.products[i]` is `histories[i]`): the server's bundle, the desktop's
 * product list and one product's prediction. Features need the market's cross-section, so the
 * histories are a source's whole; `productId` then keeps one product.
 */
export function* productStatesOf(histories: readonly ProductHistory[], data: ForecastData, model: LoadedModel, options: { historyDays?: number; productId?: string } = {}): Generator<ProductState> {
  const historyMs = (options.historyDays ?? 180) * DAY_MS;
  for (let index = 0; index < histories.length; index++) {
    const history = histories[index]!;
    if (options.productId !== undefined && history.productId !== options.productId) continue;
    const latest = latestFeatures(inputsOf(data, data.products[index]!, model.categoryCode));
    if (!latest) continue;
    const asOf = (latest.day + 1) * DAY_MS - 1;
    const last = history.price.length - 1;
    const from = asOf - historyMs;
    let first = last;
    while (first > 0 && history.start[first]! > from) first--;
    const segments: ProductState['history'] = [];
    for (let j = first; j <= last && historyMs > 0; j++) {
      const old = history.oldPrice[j]!;
      segments.push({ t: new Date(history.start[j]!).toISOString(), price: history.price[j]!, old_price: Number.isNaN(old) ? null : old });
    }
    const old = history.oldPrice[last]!;
    yield {
      source: history.source,
      product_id: history.productId,
      title: history.title,
      category: history.category,
      currency: history.currency,
      as_of: new Date(Math.min(asOf, history.lastSeen)).toISOString(),
      last_price: history.price[last]!,
      old_price: Number.isNaN(old) ? null : old,
      last_observed_at: new Date(history.lastSeen).toISOString(),
      features: Array.from(latest.features),
      history: segments,
    };
  }
}

