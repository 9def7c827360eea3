import { type CacheDb } from '../cache/cache-db';
import { F } from '../../model/features';
import { prepareData, type ForecastData } from '../../model/decision-data';
import { readProductHistories, workspaceHistories } from './history-reader';
import type { ProductHistory } from '../../model/price-history';
import { predictFromFeatures, type LoadedModel, type Prediction } from '../../model/predictor';
import { productStatesOf, type ProductState } from '../../model/product-states';

/**
 * Predictions and feature states read from the cache: `pricedrop predict`, the desktop app and
 * `pricedrop publish`. The computation is the model's (model/product-states.ts, predictor.ts),
 * which reads no database; this module reads the histories it takes.
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

/**
 * Every product's latest feature state and recent price history read from the cache, for
 * `pricedrop publish` (the server's bundle), the desktop's product list and `predictProduct`
 * (see `productStatesOf`): a source's histories are read whole.
 */
export function* productStates(db: CacheDb, model: LoadedModel, options: { historyDays?: number; source?: string; productId?: string } = {}): Generator<ProductState> {
  const { histories, data } = preparedSource(db, model, options.source);
  yield* productStatesOf(histories, data, model, options);
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
