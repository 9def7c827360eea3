import { describe, expect, it } from 'vitest';
import { averagePrecision, brierScore, calibrationTable, precisionRecallAt, rocAuc } from './metrics';
import { applyCalibration, fitIsotonic } from './calibration';
import { createRandom } from '../forest/random-forest';

describe('metrics', () => {
  it('computes ROC AUC with ties as half credit (scikit-learn values)', () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75);
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBeCloseTo(0.5);
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
  });

  it('computes average precision as scikit-learn does', () => {
    // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.8333, 4);
  });

  it('computes the Brier score, a calibration table and precision/recall at a threshold', () => {
    expect(brierScore([1, 0], [0.8, 0.4])).toBeCloseTo((0.04 + 0.16) / 2);
    const table = calibrationTable([1, 0, 1, 1], [0.05, 0.08, 0.95, 0.91], 10);
    expect(table).toEqual([
      { from: 0, to: 0.1, count: 2, predicted: 0.065, observed: 0.5 },
      { from: 0.9, to: 1, count: 2, predicted: 0.93, observed: 1 },
    ]);
    expect(precisionRecallAt([1, 0, 1, 0], [0.9, 0.6, 0.3, 0.1], 0.5)).toEqual({ threshold: 0.5, precision: 0.5, recall: 0.5, predictedPositive: 2 });
  });
});

describe('isotonic calibration', () => {
  it('is monotone and turns over-confident scores into observed frequencies', () => {
    // True probability of a positive is s², but the scores claim s: calibration must bend them.
    const random = createRandom(5);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const s = random();
      scores.push(s);
      labels.push(random() < s * s ? 1 : 0);
    }
    const calibration = fitIsotonic(scores, labels);
    for (let i = 1; i < calibration.y.length; i++) expect(calibration.y[i]!).toBeGreaterThanOrEqual(calibration.y[i - 1]!);
    for (const s of [0.2, 0.5, 0.8]) expect(applyCalibration(calibration, s)).toBeCloseTo(s * s, 1);
    const calibrated = scores.map((s) => applyCalibration(calibration, s));
    expect(brierScore(labels, calibrated)).toBeLessThan(brierScore(labels, scores));
  });

  it('skips rows without a score and clamps beyond the fitted range', () => {
    const calibration = fitIsotonic([Number.NaN, 0.2, 0.8], [1, 0, 1]);
    expect(applyCalibration(calibration, -1)).toBe(0);
    expect(applyCalibration(calibration, 2)).toBe(1);
  });
});
