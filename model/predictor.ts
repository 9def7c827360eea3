import { FEATURE_COUNT, FEATURE_NAMES, NEVER_DAYS, type FeatureName } from './features';
import { explainRow, predictRow } from './forest/random-forest';
import { applyCalibration } from './evaluation/calibration';
import { round } from './evaluation/metrics';
import { type LoadedModel } from './model-file';

export { defaultModelPath, loadModel, parseModel, type LoadedModel, type ModelFile } from './model-file';

/**
 * The predictor: one module for the CLI (`pricedrop predict`), the desktop app and the headless
 * server. It reads no database: the server calls `predictFromFeatures` on the feature vectors
 * that `productStates` (cache-predictions.ts) put in the bundle, or that a client posts.
 *
 * What a prediction says (the JSON of `pricedrop predict` and `POST /api/predict`):
 * - `confidence`: the calibrated probability that `will_drop` is right, i.e. p when will_drop and
 *   1 − p otherwise, where p is the isotonic-calibrated probability of a drop of at least X %
 *   within H days (X, H: the model's options);
 * - `will_drop`: p ≥ the model's `threshold` (0.5: a drop is more likely than not);
 * - `recommendation`: `Wait` when p ≥ the model's `wait_threshold`, else `Buy now`. The wait
 *   threshold is tuned at training time on a slice of the training period (the one that saved
 *   the most money there), because waiting pays off well before a drop is more likely than not
 *   when drops are deep and rises are rare;
 * - `risk_level`: the risk that buying now overpays, from p: Low when p < wait_threshold (Buy
 *   now), Medium when wait_threshold ≤ p < max(0.5, wait_threshold), High from there on (the
 *   bands are stored in the model's options as `risk_bands`);
 * - `expected_drop_pct`: the drop size the regressor forest expects *should a drop come* (in % of
 *   today's price), and `expected_drop_amount` the same in money (currency of the product);
 * - `reasons`: the features that moved p most for this product, from the forest's decision paths.
 */
export interface Prediction {
  product_id: string;
  will_drop: boolean;
  confidence: number;
  expected_drop_amount: number;
  expected_drop_pct: number;
  risk_level: 'Low' | 'Medium' | 'High';
  recommendation: 'Buy now' | 'Wait';
  reasons: Reason[];
}

export interface Reason {
  feature: FeatureName;
  /** The feature's value for this product. */
  value: number;
  /** How far it moved the drop probability, in percentage points (+ toward a drop). */
  effect_pct_points: number;
  /** A sentence for people. */
  text: string;
}

/** The calibrated drop probability p for a feature vector. */
export function dropProbability(model: LoadedModel, features: ArrayLike<number>): number {
  return applyCalibration(model.meta.calibration, predictRow(model.classifier, features));
}

/** Predicts from a feature vector (FEATURE_NAMES order). Pure: no I/O, microseconds. */
export function predictFromFeatures(model: LoadedModel, features: ArrayLike<number>, productId: string, reasonCount = 3): Prediction {
  if (features.length !== FEATURE_COUNT) throw new Error(`expected ${FEATURE_COUNT} features, got ${features.length}`);
  const { options } = model.meta;
  const explained = explainRow(model.classifier, features);
  const p = applyCalibration(model.meta.calibration, explained.prediction);
  const willDrop = p >= options.threshold;
  const price = features[0] as number;
  const dropPct = Math.max(0, model.regressor ? predictRow(model.regressor, features) : model.meta.drop_size_fallback_pct);
  // Contributions are in raw vote share; scale them to the calibrated probability's move.
  const rawMove = explained.prediction - explained.bias;
  const scale = Math.abs(rawMove) > 1e-9 ? (p - applyCalibration(model.meta.calibration, explained.bias)) / rawMove : 1;
  const ranked = Array.from(explained.contributions.keys())
    .filter((f) => explained.contributions[f] !== 0)
    .sort((a, b) => Math.abs(explained.contributions[b]!) - Math.abs(explained.contributions[a]!))
    .slice(0, reasonCount);
  const reasons = ranked.map((f) => {
    const feature = FEATURE_NAMES[f]!;
    const effect = round(explained.contributions[f]! * scale * 100, 1);
    const value = features[f] as number;
    return { feature, value: round(value, 4), effect_pct_points: effect, text: describe(feature, value, effect) };
  });
  return {
    product_id: productId,
    will_drop: willDrop,
    confidence: round(willDrop ? p : 1 - p, 4),
    expected_drop_amount: round((price * dropPct) / 100, 2),
    expected_drop_pct: round(dropPct, 2),
    risk_level: p >= options.risk_bands.high ? 'High' : p >= options.risk_bands.medium ? 'Medium' : 'Low',
    recommendation: p >= options.wait_threshold ? 'Wait' : 'Buy now',
    reasons,
  };
}

/**
 * A feature vector from named values (a client's feature payload for a product the bundle does
 * not know). Every feature must be present and finite, except `category_code`, which may be
 * replaced by a `category` name (unknown names code as −1).
 */
export function featuresFromRecord(model: LoadedModel, record: Record<string, unknown>): Float64Array {
  const features = new Float64Array(FEATURE_COUNT);
  FEATURE_NAMES.forEach((name, f) => {
    let value = record[name];
    if (name === 'category_code' && value === undefined && typeof record.category === 'string') value = model.categoryCode(record.category);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`feature "${name}" must be a finite number`);
    features[f] = value;
  });
  return features;
}

function describe(feature: FeatureName, value: number, effect: number): string {
  const direction = effect >= 0 ? 'raises' : 'lowers';
  const tail = ` (${direction} the drop chance by ${Math.abs(effect).toFixed(1)} pts)`;
  const pct = (v: number) => `${Math.abs(v).toFixed(1)}%`;
  const span = (suffix: string) => suffix.replace(/^(\d+)d$/, '$1-day');
  const rel = (window: string) => (value >= 0 ? `price is ${pct(value)} above its ${window}` : `price is ${pct(value)} below its ${window}`);
  const days = (v: number) => `${Math.round(v)} day${Math.round(v) === 1 ? '' : 's'}`;
  let text: string;
  switch (feature) {
    case 'rel_mean_7d':
    case 'rel_mean_30d':
    case 'rel_mean_90d':
      text = rel(`${span(feature.slice(9))} average`);
      break;
    case 'rel_min_7d':
    case 'rel_min_30d':
    case 'rel_min_90d':
      text = value <= 0.05 ? `price is at its ${span(feature.slice(8))} low` : rel(`${span(feature.slice(8))} low`);
      break;
    case 'rel_max_7d':
    case 'rel_max_30d':
    case 'rel_max_90d':
      text = value >= -0.05 ? `price is at its ${span(feature.slice(8))} high` : rel(`${span(feature.slice(8))} high`);
      break;
    case 'rel_all_time_low':
      text = value <= 0.05 ? 'price is at its all-time low' : rel('all-time low');
      break;
    case 'drop_pct_now':
      text = value > 0 ? `on promotion: ${pct(value)} below the list price` : 'not on promotion';
      break;
    case 'days_since_change':
      text = `price unchanged for ${days(value)}`;
      break;
    case 'days_since_drop':
      text = value >= NEVER_DAYS ? 'no price drop seen yet' : `last drop ${days(value)} ago`;
      break;
    case 'changes_30d':
      text = `${value} price change${value === 1 ? '' : 's'} in the last 30 days`;
      break;
    case 'mean_abs_change_pct_30d':
      text = `recent price changes average ${pct(value)}`;
      break;
    case 'last_change_dir':
      text = value < 0 ? 'the last change was a drop' : value > 0 ? 'the last change was a rise' : 'no price change yet';
      break;
    case 'last_change_pct':
      text = `the last change was ${value >= 0 ? '+' : '−'}${pct(value)}`;
      break;
    case 'promo_age_days':
      text = value > 0 ? `current reduced price has lasted ${days(value)}` : 'no reduced price running';
      break;
    case 'category_code':
      text = 'its category';
      break;
    case 'category_drop_rate_30d':
      text = `${(value * 100).toFixed(0)}% of its category's recent prices were drops`;
      break;
    case 'day_of_week':
      text = `day of week (${['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][value] ?? value})`;
      break;
    case 'month':
      text = `time of year (month ${value})`;
      break;
    case 'history_days':
      text = `price history of ${days(value)}`;
      break;
    default:
      text = `${feature.replace(/_/g, ' ')} is ${round(value, 2)}`;
  }
  return text + tail;
}
