import { brierScore, calibrationTable, rocAuc, round } from './metrics';
import { type ForecastQuality } from './report-types';

const EPSILON = 1e-6;
const BINS = 10;

/**
 * How good the drop probabilities `p` are against the 0/1 outcomes `y` of the test period:
 * ranking (AUC; NaN with one class only), accuracy (Brier, and its skill against always
 * predicting the training base rate), log loss (p clipped to [1e-6, 1 − 1e-6]) and calibration
 * (ECE over 10 equal-width bins, count-weighted |mean p − observed rate|, and the non-empty bins).
 */
export function forecastQuality(p: Float64Array, y: Float64Array, trainBaseRate: number): ForecastQuality {
  const n = p.length;
  let positives = 0;
  let logLoss = 0;
  let referenceBrier = 0;
  for (let i = 0; i < n; i++) {
    const outcome = y[i]! > 0.5 ? 1 : 0;
    const clipped = Math.min(1 - EPSILON, Math.max(EPSILON, p[i]!));
    positives += outcome;
    logLoss -= outcome === 1 ? Math.log(clipped) : Math.log(1 - clipped);
    referenceBrier += (trainBaseRate - outcome) ** 2;
  }
  const brier = brierScore(y, p);
  referenceBrier /= n;
  const bins = calibrationTable(y, p, BINS);
  const ece = n > 0 ? bins.reduce((total, bin) => total + bin.count * Math.abs(bin.predicted - bin.observed), 0) / n : Number.NaN;
  return {
    auc: round(rocAuc(y, p), 4),
    brier: round(brier, 4),
    brier_skill: round(referenceBrier > 0 ? 1 - brier / referenceBrier : 0, 4),
    log_loss: round(n > 0 ? logLoss / n : Number.NaN, 4),
    ece: round(ece, 4),
    reliability: bins.map((bin) => ({ from: bin.from, to: bin.to, count: bin.count, mean_p: bin.predicted, observed_rate: bin.observed })),
    rows: n,
    positives_rate: round(n > 0 ? positives / n : Number.NaN, 4),
  };
}
