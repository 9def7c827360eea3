import { type CacheDb } from '../pipeline/cache/cache-db';
import { F, latestFeatures } from './features';
import { inputsOf, prepareData, type ForecastData } from './decision-data';
import { readProductHistories, workspaceHistories } from './history-reader';
import type { ProductHistory } from './price-history';
import { predictFromFeatures, type LoadedModel, type Prediction } from './predictor';
import { DAY_MS } from '../pipeline/base/time';

/**
 * Predictions and feature states read from the cache: `pricedrop predict`, the desktop app and
 * `pricedrop publish`. Apart from predictor.ts, so the headless server (which has no database)
 * bundles none of the cache's code.
 */

export interface ProductPrediction extends Prediction {
  source: string;
  title: string;
  category: string;
  currency: string;
  price: number;
  /** The moment the features describe: the product's last known day. */
  as_of: string;
  /** The feature vector the prediction was made from (FEATURE_NAMES order). */
  features: number[];
}

/**
 * Predicts for one product straight from the cache. The product is found by id (in any source,
 * or in `source`); its features are computed as of its last known day, with its source's
 * cross-section (so the source's histories are read). Throws when the product is unknown.
 */
export function predictProduct(db: CacheDb, model: LoadedModel, productId: string, options: { source?: string } = {}): ProductPrediction {
  const histories = readProductHistories(db, productId, options.source);
  if (histories.length === 0) throw new Error(`no product "${productId}"${options.source ? ` in source "${options.source}"` : ''} in the cache`);
  // Several sources may share an id: take the most recently seen one.
  const history = histories.reduce((a, b) => (b.lastSeen > a.lastSeen ? b : a));
  for (const state of productStates(db, model, { source: history.source, productId: history.productId, historyDays: 0 })) {
    const prediction = predictFromFeatures(model, state.features, productId);
    return { ...prediction, source: state.source, title: state.title, category: state.category, currency: state.currency, price: state.features[F.price]!, as_of: state.as_of, features: state.features };
  }
  throw new Error(`product "${productId}" has no known price to predict from`);
}

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
 * Every product's latest feature state and recent price history, for `pricedrop publish` (the
 * server's bundle), the desktop's product list and `predictProduct`. Features need the market's
 * cross-section, so a source's histories are read whole; `productId` then keeps one product.
 */
export function* productStates(db: CacheDb, model: LoadedModel, options: { historyDays?: number; source?: string; productId?: string } = {}): Generator<ProductState> {
  const historyMs = (options.historyDays ?? 180) * DAY_MS;
  const { histories, data } = preparedSource(db, model, options.source);
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

interface Prepared {
  key: string;
  histories: ProductHistory[];
  data: ForecastData;
}

/**
 * The last source prepared, per cache: a product page asks for one product at a time, and each
 * needs its whole source's cross-section; reading it again is only needed when the source has new
 * rows (its product count or latest observation moved) or another horizon is asked for.
 */
const prepared = new WeakMap<CacheDb, Prepared>();

function preparedSource(db: CacheDb, model: LoadedModel, source: string | undefined): Prepared {
  const { horizon_days: horizonDays, min_drop_pct: minDropPct } = model.meta.options;
  const state = (source === undefined ? db.prepare('SELECT COUNT(*) AS n, MAX(last_observed_at) AS last FROM products').get() : db.prepare('SELECT COUNT(*) AS n, MAX(last_observed_at) AS last FROM products WHERE source = ?').get(source)) as { n: number; last: string | null };
  const key = JSON.stringify([source ?? null, state.n, state.last, horizonDays, minDropPct]);
  const cached = prepared.get(db);
  if (cached?.key === key) return cached;
  const input = workspaceHistories(db, { source });
  const fresh = { key, histories: input.histories as ProductHistory[], data: prepareData(input, { horizonDays, minDropPct }) };
  prepared.set(db, fresh);
  return fresh;
}
