import { countDropsBefore, RULE_BASELINE_WINDOW_DAYS, rulePolicy, ruleText } from './baseline-policies';
import { bootstrapCi, productTotals } from './bootstrap-ci';
import { alwaysBuyNow, clairvoyantAverageSavingsPct, decisionsOf, measureReplay, replayPolicy, roundResult, type DecisionSet, type GridProduct, type Replay, type WaitPolicy } from './buyer-backtest';
import { quantile, round } from './metrics';
import { type BacktestReport, type ForecastQuality, type PolicyInUse, type SegmentRow } from './report-types';
import { isoDay } from '../../pipeline/base/time';

type BaselineName = 'always_buy_now' | 'rule_baseline' | 'rule_tuned' | 'frequency_baseline';
const BASELINES: readonly BaselineName[] = ['always_buy_now', 'rule_baseline', 'rule_tuned', 'frequency_baseline'];

export interface BacktestReportInput {
  products: readonly GridProduct[];
  horizonDays: number;
  /** X: the drop the model forecasts, and the rule baseline's threshold. */
  minDropPct: number;
  /** The test period's decision days (epoch days, inclusive). */
  fromDay: number;
  toDay: number;
  /** The advice in use, as chosen on validation (see policy-choice.ts), and that choice's reason. */
  policy: PolicyInUse;
  policyReason: string;
  /** The model's own policy. */
  model: WaitPolicy;
  /** The tuned baselines (from tuneRule and tuneFrequency). */
  ruleTuned: { policy: WaitPolicy; rule: string };
  frequency: { policy: WaitPolicy; rule: string };
  /** Forecast quality on the test period (forecastQuality). */
  forecast: ForecastQuality;
  bootstrap?: { samples?: number; seed?: number };
}

/**
 * The whole report over the test period: the advice in use (its figures at the top level), the
 * model and every baseline over the same decisions, bootstrap CIs over products, and segments.
 * The rule baseline is always today's fixed yardstick: wait while more than X % above the 90-day low.
 */
export function buildBacktestReport(input: BacktestReportInput): BacktestReport {
  const { products, horizonDays: H, minDropPct: X, fromDay, toDay } = input;
  const set = decisionsOf(products, H, fromDay, toDay);
  const replays: Record<'model' | BaselineName, Replay> = {
    model: replayPolicy(products, set, input.model),
    always_buy_now: replayPolicy(products, set, alwaysBuyNow),
    rule_baseline: replayPolicy(products, set, rulePolicy(products, X, RULE_BASELINE_WINDOW_DAYS)),
    rule_tuned: replayPolicy(products, set, input.ruleTuned.policy),
    frequency_baseline: replayPolicy(products, set, input.frequency.policy),
  };
  const advice = replays[input.policy];
  const raw = (replay: Replay) => measureReplay(set, replay);

  // The best baseline by its point estimate; the CI of advice − best comes from the same resamples.
  const pointEstimates = BASELINES.map((name) => raw(replays[name]).savings_captured_pct);
  const bestIndex = pointEstimates.indexOf(Math.max(...pointEstimates));
  const ci = bootstrapCi(productTotals(set, [advice, ...BASELINES.map((name) => replays[name])]), { ...input.bootstrap, differences: [[0, bestIndex + 1]] });

  const segmentReplays = { advice, ...replays };
  return {
    ...roundResult(raw(advice)),
    period: { from: isoDay(fromDay), to: isoDay(toDay) },
    horizon_days: H,
    min_drop_pct: X,
    currencies: set.currencies,
    policy: input.policy,
    policy_reason: input.policyReason,
    model: roundResult(raw(replays.model)),
    always_buy_now: roundResult(raw(replays.always_buy_now)),
    rule_baseline: { ...roundResult(raw(replays.rule_baseline)), rule: ruleText(X, RULE_BASELINE_WINDOW_DAYS) },
    rule_tuned: { ...roundResult(raw(replays.rule_tuned)), rule: input.ruleTuned.rule },
    frequency_baseline: { ...roundResult(raw(replays.frequency_baseline)), rule: input.frequency.rule },
    clairvoyant_avg_savings_pct: round(clairvoyantAverageSavingsPct(set), 1),
    ci95: {
      savings_captured_pct: ci.policies[0]!,
      model_minus_best_baseline: ci.differences[0]!,
      best_baseline: BASELINES[bestIndex]!,
      baselines: Object.fromEntries(BASELINES.map((name, b) => [name, ci.policies[b + 1]!])) as Record<BaselineName, [number, number]>,
    },
    segments: {
      history_length: segmentRows(set, segmentReplays, historyLengthKeys(products, set), ['tracked < 90 days', 'tracked 90–365 days', 'tracked > 365 days']),
      past_drop_frequency: segmentRows(set, segmentReplays, pastDropKeys(products, set, H, X, fromDay), ['0 past drops', '1 past drop', '2 past drops', '3+ past drops']),
      price_band: segmentRows(set, segmentReplays, priceBandKeys(set), ['low price (bottom third)', 'mid price (middle third)', 'high price (top third)']),
    },
    forecast: input.forecast,
  };
}

/** One row per non-empty segment (keys[i] = the segment of decision i, an index into labels). */
function segmentRows(set: DecisionSet, replays: Record<'advice' | BaselineName, Replay>, keys: Uint8Array, labels: readonly string[]): SegmentRow[] {
  const members = labels.map((): number[] => []);
  keys.forEach((key, i) => members[key]!.push(i));
  return members.flatMap((indices, k) => {
    if (indices.length === 0) return [];
    const captured = (replay: Replay) => round(measureReplay(set, replay, indices).savings_captured_pct, 1);
    const advice = measureReplay(set, replays.advice, indices);
    return [{
      segment: labels[k]!,
      decisions: advice.decisions,
      products: advice.products,
      advice: round(advice.savings_captured_pct, 1),
      always_buy_now: captured(replays.always_buy_now),
      rule_baseline: captured(replays.rule_baseline),
      rule_tuned: captured(replays.rule_tuned),
      frequency_baseline: captured(replays.frequency_baseline),
    }];
  });
}

/** Days the product had been tracked (since its first known price) on the decision day: < 90, 90–365, > 365. */
function historyLengthKeys(products: readonly GridProduct[], set: DecisionSet): Uint8Array {
  const firstKnown = products.map((p) => p.firstDay + p.prices.findIndex((price) => !Number.isNaN(price)));
  return Uint8Array.from(set.day, (day, i) => {
    const tracked = day - firstKnown[set.product[i]!]!;
    return tracked < 90 ? 0 : tracked <= 365 ? 1 : 2;
  });
}

/** ≥ X % drops that began in the product's history before the test period: 0, 1, 2, 3+. */
function pastDropKeys(products: readonly GridProduct[], set: DecisionSet, horizonDays: number, minDropPct: number, fromDay: number): Uint8Array {
  const buckets = new Map<number, number>();
  const keys = new Uint8Array(set.day.length);
  set.product.forEach((index, i) => {
    let bucket = buckets.get(index);
    if (bucket === undefined) {
      const p = products[index]!;
      bucket = Math.min(3, countDropsBefore(p.prices, horizonDays, minDropPct, fromDay - p.firstDay));
      buckets.set(index, bucket);
    }
    keys[i] = bucket;
  });
  return keys;
}

/** The start price's tertile among the period's decisions in its currency. */
function priceBandKeys(set: DecisionSet): Uint8Array {
  const cuts = set.currencies.map((_, c) => {
    const starts = Float64Array.from(set.start.filter((_, i) => set.currency[i] === c)).sort();
    return [quantile(starts, 1 / 3), quantile(starts, 2 / 3)] as const;
  });
  return Uint8Array.from(set.start, (start, i) => {
    const [low, high] = cuts[set.currency[i]!]!;
    return start <= low ? 0 : start <= high ? 1 : 2;
  });
}
