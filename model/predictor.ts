import { F, FEATURE_COUNT, FEATURE_NAMES, NEVER_DAYS, type FeatureName } from './features';
import { explainRow } from './forest/random-forest';
import { applyCalibration } from './evaluation/calibration';
import { round } from './evaluation/metrics';
import type { PolicyInUse } from './evaluation/report-types';
import { type LoadedModel } from './model-file';
import { confidenceOf, dropWithin, modelAdvice, riskLevel, type ModelScores } from './policy';
import { scoreRow, scoringForestsOf } from './scoring';

export { defaultModelPath, loadModel, parseModel, type LoadedModel, type ModelFile } from './model-file';

/**
 * The predictor: one module for the CLI (`pricedrop predict`), the desktop app and the headless
 * server. It reads no database: the server calls `predictFromFeatures` on the feature vectors
 * that `productStatesOf` (product-states.ts) put in the bundle, or that a client posts.
 *
 * What a prediction says (the JSON of `pricedrop predict` and `POST /api/predict`), for a buyer
 * who must buy within the model's H days:
 * - `recommendation`: the advice of the policy in use (`policy`): the model's expected-savings
 *   rule (policy.ts), or the baseline that beat it on validation (`rule_tuned`,
 *   `frequency_baseline`), which the reasons then name;
 * - `will_drop`: true exactly when the advice is Wait (a drop worth waiting for is expected);
 * - `confidence`: the chance the advice is right: for Wait, that waiting ends no worse than
 *   buying now; for Buy now, that no drop of X % comes (or that waiting would end worse);
 * - `risk_level`: from the confidence (Low ≥ 0.8, Medium ≥ 0.65, else High);
 * - `expected_drop_pct` / `expected_drop_amount`: the drop's depth the model expects should one
 *   come (in % of today's price, and in the product's currency);
 * - `reasons`: the features that moved the drop chance most for this product.
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
  policy: PolicyInUse;
}

export interface Reason {
  /** The feature, or `policy` for the line that names a baseline's advice. */
  feature: FeatureName | 'policy';
  /** The feature's value for this product. */
  value: number;
  /** How far it moved the drop probability, in percentage points (+ toward a drop). */
  effect_pct_points: number;
  /** A sentence for people. */
  text: string;
}

/**
 * Does the policy in use say Wait for these features, `daysLeft` days before the deadline?
 * `scores`: the model's scores of `features`, when the caller has them already.
 */
export function adviseWait(model: LoadedModel, features: ArrayLike<number>, daysLeft: number, scores?: ModelScores): boolean {
  const { policy, options } = model.meta;
  if (policy.in_use === 'rule_tuned') return features[F[`rel_min_${policy.rule.window_days}d` as FeatureName]]! > policy.rule.threshold_pct;
  if (policy.in_use === 'frequency_baseline') return features[F.past_drop_rate]! > policy.frequency.level;
  return modelAdvice(scores ?? scoreRow(scoringForestsOf(model), features), daysLeft, options.horizon_days, policy.model).wait;
}

/** Predicts from a feature vector (FEATURE_NAMES order). Pure: no I/O, well under a millisecond. */
export function predictFromFeatures(model: LoadedModel, features: ArrayLike<number>, productId: string, reasonCount = 3): Prediction {
  if (features.length !== FEATURE_COUNT) throw new Error(`expected ${FEATURE_COUNT} features, got ${features.length}`);
  const { options, policy } = model.meta;
  const h = options.horizon_days;
  const scores = scoreRow(scoringForestsOf(model), features);
  const wait = adviseWait(model, features, h, scores);
  const confidence = confidenceOf(wait, dropWithin(scores.p, h, h), scores.worse);
  const explained = explainRow(model.classifier, features);
  // Contributions are in raw vote share; scale them to the calibrated probability's move.
  const rawMove = explained.prediction - explained.bias;
  const scale = Math.abs(rawMove) > 1e-9 ? (scores.p - applyCalibration(model.meta.calibration, explained.bias)) / rawMove : 1;
  const ranked = Array.from(explained.contributions.keys())
    .filter((f) => explained.contributions[f] !== 0)
    .sort((a, b) => Math.abs(explained.contributions[b]!) - Math.abs(explained.contributions[a]!))
    .slice(0, reasonCount);
  const reasons: Reason[] = ranked.map((f) => {
    const feature = FEATURE_NAMES[f]!;
    const effect = round(explained.contributions[f]! * scale * 100, 1);
    const value = features[f] as number;
    return { feature, value: round(value, 4), effect_pct_points: effect, text: describe(feature, value, effect) };
  });
  if (policy.in_use !== 'model') reasons.unshift({ feature: 'policy', value: 0, effect_pct_points: 0, text: policyText(model) });
  const price = features[F.price] as number;
  return {
    product_id: productId,
    will_drop: wait,
    confidence: round(confidence, 4),
    expected_drop_amount: round((price * scores.dropPct) / 100, 2),
    expected_drop_pct: round(scores.dropPct, 2),
    risk_level: riskLevel(confidence),
    recommendation: wait ? 'Wait' : 'Buy now',
    reasons,
    policy: policy.in_use,
  };
}

/** The sentence naming a baseline's advice (the reasons' first line when one is in use). */
export function policyText(model: LoadedModel): string {
  const { policy } = model.meta;
  if (policy.in_use === 'rule_tuned') return `Advice from the tuned rule (it beat the model on validation): wait while the price is more than ${policy.rule.threshold_pct}% above its ${policy.rule.window_days}-day low`;
  if (policy.in_use === 'frequency_baseline') return `Advice from the product's own drop frequency (it beat the model on validation): wait while its past rate of drops is above ${round(policy.frequency.level * 100, 1)}%`;
  return "Advice from the model's expected savings";
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
  const days = (v: number) => `${Math.round(v)} day${Math.round(v) === 1 ? '' : 's'}`;
  const window = /^rel_(min|max|mean)_(\d+)d$/.exec(feature);
  let text: string;
  if (window) {
    const what = { min: 'low', max: 'high', mean: 'average' }[window[1] as 'min' | 'max' | 'mean'];
    const span = `${window[2]}-day ${what}`;
    text = Math.abs(value) <= 0.05 ? `price is at its ${span}` : `price is ${pct(value)} ${value > 0 ? 'above' : 'below'} its ${span}`;
    return text + tail;
  }
  switch (feature) {
    case 'rel_all_time_low':
      text = value <= 0.05 ? 'price is at its lowest so far' : `price is ${pct(value)} above its lowest so far`;
      break;
    case 'rel_regular':
      text = Math.abs(value) <= 0.05 ? 'price is at its regular level' : `price is ${pct(value)} ${value > 0 ? 'above' : 'below'} its regular price`;
      break;
    case 'list_discount_pct':
      text = value > 0 ? `on promotion: ${pct(value)} below the list price` : 'no list-price discount shown';
      break;
    case 'on_drop':
      text = value > 0 ? 'on a discount now' : 'not on a discount now';
      break;
    case 'current_discount_pct':
      text = `${pct(value)} below its regular price`;
      break;
    case 'days_since_change':
      text = `price unchanged for ${days(value)}`;
      break;
    case 'days_since_drop_start':
      text = value >= NEVER_DAYS ? 'no discount seen yet' : `last discount began ${days(value)} ago`;
      break;
    case 'typical_gap_days':
      text = value < 0 ? 'no discount cycle yet' : `discounts recur about every ${days(value)}`;
      break;
    case 'days_to_expected_drop':
      text = value >= NEVER_DAYS ? 'no discount cycle yet' : value >= 0 ? `next discount expected in about ${days(value)}` : `a discount is ${days(-value)} overdue`;
      break;
    case 'drops_365d':
    case 'drops_180d':
    case 'drops_90d':
      text = `${value} discount${value === 1 ? '' : 's'} in the last ${feature.slice(6, -1)} days`;
      break;
    case 'past_drop_rate':
      text = value < 0 ? 'no past drops to go by' : `dropped within the horizon on ${(value * 100).toFixed(0)}% of past days`;
      break;
    case 'source_on_drop_share':
    case 'category_on_drop_share':
      text = `${(value * 100).toFixed(0)}% of its ${feature.startsWith('source') ? 'store' : 'category'} is on a discount today`;
      break;
    case 'source_start_share_7d':
    case 'category_start_share_7d':
      text = `${(value * 100).toFixed(0)}% of its ${feature.startsWith('source') ? 'store' : 'category'} went on a discount this week`;
      break;
    case 'category_drop_rate_90d':
    case 'source_drop_rate_90d':
      text = `${(value * 100).toFixed(0)}% of its ${feature.startsWith('source') ? 'store' : 'category'}'s recent days saw a drop of the size that counts`;
      break;
    case 'day_of_year_sin':
    case 'day_of_year_cos':
      text = 'the time of year';
      break;
    case 'dropped_year_ago':
      text = value < 0 ? 'no data from a year ago' : value > 0 ? 'it dropped around this date a year ago' : 'no drop around this date a year ago';
      break;
    case 'category_code':
      text = 'its category';
      break;
    case 'history_days':
      text = `price history of ${days(value)}`;
      break;
    default:
      text = `${feature.replace(/_/g, ' ')} is ${round(value, 2)}`;
  }
  return text + tail;
}
