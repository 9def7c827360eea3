import type { ForecastData } from '../decision-data';
import type { PolicyChoice } from '../model-file';
import { POLICY_COSTS, POLICY_GUARDS, type PolicyParams } from '../policy';
import { modelWaitPolicy, type ProductScores } from '../scoring';
import { buildBacktestReport } from './backtest-report';
import { frequencyPolicy, frequencyText, rulePolicy } from './baseline-policies';
import { alwaysBuyNow, countDecisions, type GridProduct } from './buyer-backtest';
import { forecastQuality } from './forecast-quality';
import { choosePolicy, tuneFrequency, tuneRule, type CandidateResult, type PolicyCandidate } from './policy-choice';
import type { BacktestReport, PolicyInUse, SliceInfo } from './report-types';
import { isoDay } from '../../pipeline/base/time';

/**
 * The forecaster's data meets the buyer's backtest: the daily grids, the policies over them (the
 * model's, from its scores; the frequency baseline, from the labels the `past_drop_rate` feature
 * reads), the choice on validation and the report of a period.
 */
type DayRange = { from: number; to: number };

/** The forecaster's labels (drop ≥ X % within H days; NaN unknown) of the chosen products. */
function labelsOf(data: ForecastData, products: readonly number[]): Float32Array[] {
  return products.map((i) => data.products[i]!.outcomes.label);
}

/** Each product's timeline as the backtest's grid (the same arrays, not copies). */
export function gridOf(data: ForecastData, products: readonly number[] = data.products.map((_, i) => i)): GridProduct[] {
  return products.map((i) => {
    const { timeline } = data.products[i]!;
    return { currency: timeline.currency, firstDay: timeline.firstDay, prices: timeline.price };
  });
}

/**
 * Chooses the advice on the validation slice: the best of the model's policies (POLICY_COSTS ×
 * POLICY_GUARDS), the tuned rule and the tuned frequency baseline, each kept only when it ends
 * worse than buying at once in at most 3 % of decisions in each half of validation. The
 * baselines come first, so the model is used only when it does better than both.
 */
export function choosePolicies(data: ForecastData, products: readonly number[], scores: Map<number, ProductScores>, range: DayRange): PolicyChoice {
  const h = data.horizonDays;
  const grid = gridOf(data, products);
  const local = new Map(products.map((index, k) => [k, scores.get(index)!]).filter(([, s]) => s !== undefined) as [number, ProductScores][]);
  const modelCandidates: PolicyCandidate<PolicyParams>[] = POLICY_COSTS.flatMap((cost_pct) => POLICY_GUARDS.map((guard) => ({ name: 'model', params: { cost_pct, guard }, policy: modelWaitPolicy(local, { cost_pct, guard }, h) })));
  const bestModel = choosePolicy(modelCandidates, grid, h, range.from, range.to);
  const rule = tuneRule(grid, h, range.from, range.to);
  const frequency = tuneFrequency(grid, labelsOf(data, products), h, data.minDropPct, range.from, range.to);
  const final = choosePolicy<unknown>(
    [
      { name: 'rule_tuned', policy: rule.policy, params: rule.params },
      { name: 'frequency_baseline', policy: frequency.policy, params: frequency.params },
      { name: 'model', policy: bestModel.winner.policy, params: bestModel.winner.params },
    ],
    grid,
    h,
    range.from,
    range.to,
  );
  const summary = (result: CandidateResult<unknown>) => ({
    name: result.name,
    savings_captured_pct: result.validation.savings_captured_pct,
    worse_than_buy_now_pct: result.validation.worse_than_buy_now_pct,
    worse_by_half_pct: [result.halves[0].worse_than_buy_now_pct, result.halves[1].worse_than_buy_now_pct] as [number, number],
    kept: result.eligible,
  });
  const ruleParams = rule.params ?? { thresholdPct: Number.POSITIVE_INFINITY, windowDays: 90 };
  const level = frequency.params?.level ?? 1;
  return {
    in_use: final.winner.name as PolicyInUse,
    reason: final.reason,
    model: bestModel.winner.params!,
    // JSON has no Infinity: a rule that never passed validation waits above 1e9 %, i.e. never.
    rule: { threshold_pct: Number.isFinite(ruleParams.thresholdPct) ? ruleParams.thresholdPct : 1e9, window_days: ruleParams.windowDays },
    frequency: { level },
    validation: [...final.results.map(summary)].sort((a, b) => b.savings_captured_pct - a.savings_captured_pct),
  };
}

/** The report of a period (decision days in `range`) for the advice chosen on validation. */
export function evaluatePeriod(data: ForecastData, scores: Map<number, ProductScores>, range: DayRange, policy: PolicyChoice, trainRange: DayRange): BacktestReport {
  const h = data.horizonDays;
  const all = data.products.map((_, i) => i);
  const grid = gridOf(data, all);
  const ruleTuned = policy.rule.threshold_pct >= 1e9 ? alwaysBuyNow : rulePolicy(grid, policy.rule.threshold_pct, policy.rule.window_days);
  const ruleText = policy.rule.threshold_pct >= 1e9 ? 'buy at once (no threshold and window captured savings on validation within the cap)' : `wait while the price is more than ${policy.rule.threshold_pct} % above its ${policy.rule.window_days}-day low, otherwise buy`;
  const frequency = policy.frequency.level >= 1 ? alwaysBuyNow : frequencyPolicy(grid, labelsOf(data, all), h, policy.frequency.level);
  return buildBacktestReport({
    products: grid,
    horizonDays: h,
    minDropPct: data.minDropPct,
    fromDay: range.from,
    toDay: range.to,
    policy: policy.in_use,
    policyReason: policy.reason,
    model: modelWaitPolicy(scores, policy.model, h),
    ruleTuned: { policy: ruleTuned, rule: ruleText },
    frequency: { policy: frequency, rule: policy.frequency.level >= 1 ? 'buy at once (no level captured savings on validation within the cap)' : frequencyText(h, data.minDropPct, policy.frequency.level) },
    forecast: forecastOn(data, scores, range, labelRate(data, trainRange)),
  });
}

/** Forecast quality of the period's known-label days (the same buyers' first days). */
function forecastOn(data: ForecastData, scores: Map<number, ProductScores>, range: DayRange, trainBaseRate: number) {
  const { p, y } = scoredLabels(data, scores, range);
  return forecastQuality(Float64Array.from(p), Float64Array.from(y), trainBaseRate);
}

/** The scored days of `range` with a known label: the classifier's p and the outcome, side by side. */
export function scoredLabels(data: ForecastData, scores: Map<number, ProductScores>, range: DayRange): { p: number[]; y: number[] } {
  const p: number[] = [];
  const y: number[] = [];
  for (const [index, s] of scores) {
    const product = data.products[index]!;
    for (let day = Math.max(range.from, s.firstDay); day <= Math.min(range.to, s.firstDay + s.p.length - 1); day++) {
      const score = s.p[day - s.firstDay]!;
      const label = product.outcomes.label[day - product.timeline.firstDay]!;
      if (Number.isNaN(score) || Number.isNaN(label)) continue;
      p.push(score);
      y.push(label);
    }
  }
  return { p, y };
}

/** Share of known labels that are drops over the decision days of `range`. */
export function labelRate(data: ForecastData, range: DayRange): number {
  let sum = 0;
  let count = 0;
  for (const { timeline, outcomes } of data.products) {
    const last = timeline.firstDay + timeline.price.length - 1;
    for (let day = Math.max(range.from, timeline.firstDay); day <= Math.min(range.to, last); day++) {
      const label = outcomes.label[day - timeline.firstDay]!;
      if (Number.isNaN(label)) continue;
      sum += label;
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/** How much a slice had: its dates, days, products and decisions (the backtest's buyers). */
export function sliceInfo(data: ForecastData, range: DayRange): SliceInfo {
  return { from: isoDay(range.from), to: isoDay(range.to), days: range.to - range.from + 1, products: data.products.length, decisions: countDecisions(gridOf(data), data.horizonDays, range.from, range.to) };
}
