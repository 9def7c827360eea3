import { forEachFeatureRow } from './features';
import { inputsOf, type ForecastData } from './decision-data';
import { predictRow, type Forest } from './forest/random-forest';
import { applyCalibration, type IsotonicCalibration } from './evaluation/calibration';
import { modelAdvice, type ModelScores, type PolicyParams } from './policy';
import type { LoadedModel } from './model-file';

/**
 * The model's scores for every known day of a range, per product: what the policy reads when a
 * buyer looks on that day. Kept as small typed arrays (four numbers a product-day), so the
 * policy grid on validation and the test-period walk call no forest.
 */
export interface ScoringForests {
  classifier: Forest;
  calibration: IsotonicCalibration;
  dropSize: Forest;
  deadlineChange: Forest;
  worse: Forest;
}

/** A loaded model's forests and calibration, as the scoring reads them. */
export function scoringForestsOf(model: LoadedModel): ScoringForests {
  return { classifier: model.classifier, calibration: model.meta.calibration, dropSize: model.dropSize, deadlineChange: model.deadlineChange, worse: model.worse };
}

export interface ProductScores {
  /** Epoch day of index 0. */
  firstDay: number;
  /** Calibrated p (NaN: no score that day). */
  p: Float32Array;
  dropPct: Float32Array;
  changePct: Float32Array;
  worse: Float32Array;
}

/** Scores of `products` (indexes into data.products) on their known days in [from, to]. */
export function scoreRange(data: ForecastData, forests: ScoringForests, products: readonly number[], range: { from: number; to: number }, categoryCode: (category: string) => number, onProduct?: (done: number) => void): Map<number, ProductScores> {
  const scored = new Map<number, ProductScores>();
  products.forEach((index, done) => {
    const product = data.products[index]!;
    const { firstDay } = product.timeline;
    const from = Math.max(range.from, firstDay);
    const to = Math.min(range.to, firstDay + product.timeline.price.length - 1);
    if (to < from) return;
    const days = to - from + 1;
    const scores: ProductScores = { firstDay: from, p: new Float32Array(days).fill(Number.NaN), dropPct: new Float32Array(days), changePct: new Float32Array(days), worse: new Float32Array(days) };
    forEachFeatureRow(inputsOf(data, product, categoryCode), (d) => firstDay + d >= from && firstDay + d <= to, (d, row) => {
      const i = firstDay + d - from;
      const s = scoreRow(forests, row);
      scores.p[i] = s.p;
      scores.dropPct[i] = s.dropPct;
      scores.changePct[i] = s.changePct;
      scores.worse[i] = s.worse;
    });
    scored.set(index, scores);
    onProduct?.(done + 1);
  });
  return scored;
}

/** The four scores of one feature vector. */
export function scoreRow(forests: ScoringForests, row: ArrayLike<number>): ModelScores {
  return {
    p: applyCalibration(forests.calibration, predictRow(forests.classifier, row)),
    dropPct: Math.max(0, predictRow(forests.dropSize, row)),
    changePct: predictRow(forests.deadlineChange, row),
    worse: predictRow(forests.worse, row),
  };
}

/** The model's policy over scored days (product = index into data.products, day = epoch day). */
export function modelWaitPolicy(scored: Map<number, ProductScores>, params: PolicyParams, horizonDays: number): (product: number, day: number, daysLeft: number) => boolean {
  return (product, day, daysLeft) => {
    const scores = scored.get(product);
    if (!scores) return false;
    const i = day - scores.firstDay;
    const p = scores.p[i];
    if (p === undefined || Number.isNaN(p)) return false;
    return modelAdvice({ p, dropPct: scores.dropPct[i]!, changePct: scores.changePct[i]!, worse: scores.worse[i]! }, daysLeft, horizonDays, params).wait;
  };
}
