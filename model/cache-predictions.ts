import { type CacheDb } from '../pipeline/cache/cache-db';
import { DAY_MS, computeFeatures, type FeatureContext, type ProductHistory } from './features';
import { iterateHistories, readCategoryDropRates, readDataEnd, readDataEnds, readProductHistories } from './history-reader';
import { predictFromFeatures, type LoadedModel, type Prediction } from './predictor';

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
  /** The moment the features describe: the source's last observation (the data's "now"). */
  as_of: string;
  /** The feature vector the prediction was made from (FEATURE_NAMES order). */
  features: number[];
}

/**
 * Predicts for one product straight from the cache. The product is found by id (in any source,
 * or in `source`); its features are computed as of the source's last observation.
 * Throws when the product is unknown.
 */
export function predictProduct(db: CacheDb, model: LoadedModel, productId: string, options: { source?: string } = {}): ProductPrediction {
  const histories = readProductHistories(db, productId, options.source);
  if (histories.length === 0) throw new Error(`no product "${productId}"${options.source ? ` in source "${options.source}"` : ''} in the cache`);
  // Several sources may share an id: take the most recently seen one.
  const history = histories.reduce((a, b) => (b.lastSeen > a.lastSeen ? b : a));
  const state = stateOf(db, model, history);
  const prediction = predictFromFeatures(model, state.features, productId);
  return { ...prediction, source: history.source, title: history.title, category: history.category, currency: history.currency, price: state.features[0]!, as_of: new Date(state.asOf).toISOString(), features: Array.from(state.features) };
}

function stateOf(db: CacheDb, model: LoadedModel, history: ProductHistory): { features: Float64Array; asOf: number } {
  const asOf = Math.max(history.lastSeen, readDataEnd(db, history.source) ?? history.lastSeen);
  // The category rate reads the 30 days before asOf's day: read just those (a few ms, not a scan).
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const rates = readCategoryDropRates(db, history.category, { from: day(asOf - 31 * DAY_MS), to: day(asOf) });
  const context: FeatureContext = { categoryCode: model.categoryCode, categoryDropRate: (category, t) => rates.rate(category, t) };
  const features = computeFeatures(history, asOf, context)!;
  return { features, asOf };
}

/** What the server's bundle keeps per product: enough to search, chart and predict with no database. */
export interface ProductState {
  source: string;
  product_id: string;
  title: string;
  category: string;
  currency: string;
  /** ISO time the features describe (the source's last observation). */
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
 * Streams every product's latest feature state and recent price history out of the cache, for
 * `pricedrop publish` (the server's bundle) and the desktop's product list.
 */
export function* productStates(db: CacheDb, model: LoadedModel, options: { historyDays?: number; source?: string } = {}): Generator<ProductState> {
  const historyMs = (options.historyDays ?? 180) * 86_400_000;
  const rates = readCategoryDropRates(db);
  const ends = readDataEnds(db);
  const context: FeatureContext = { categoryCode: model.categoryCode, categoryDropRate: (category, t) => rates.rate(category, t) };
  for (const history of iterateHistories(db, { source: options.source })) {
    const asOf = Math.max(history.lastSeen, ends.get(history.source) ?? history.lastSeen);
    const features = computeFeatures(history, asOf, context);
    if (!features) continue;
    const last = history.price.length - 1;
    const from = asOf - historyMs;
    let first = last;
    while (first > 0 && history.start[first]! > from) first--;
    const segments: ProductState['history'] = [];
    for (let j = first; j <= last; j++) {
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
      as_of: new Date(asOf).toISOString(),
      last_price: history.price[last]!,
      old_price: Number.isNaN(old) ? null : old,
      last_observed_at: new Date(history.lastSeen).toISOString(),
      features: Array.from(features),
      history: segments,
    };
  }
}

