import { describe, expect, it } from 'vitest';
import { forecastQuality } from './forecast-quality';
import { seededSequence } from '../../pipeline/base/seeded-sequence';

/** 20,000 probabilities drawn uniformly, and outcomes drawn with probability `truth(p)`. */
function sample(truth: (p: number) => number): { p: Float64Array; y: Float64Array } {
  const random = seededSequence(7);
  const p = new Float64Array(20_000);
  const y = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    p[i] = random();
    y[i] = random() < truth(p[i]!) ? 1 : 0;
  }
  return { p, y };
}

describe('forecast quality', () => {
  it('computes every figure on a case worked by hand', () => {
    const quality = forecastQuality(Float64Array.from([0.8, 0.4]), Float64Array.from([1, 0]), 0.5);
    expect(quality).toMatchObject({ auc: 1, brier: 0.1, brier_skill: 0.6, ece: 0.3, rows: 2, positives_rate: 0.5 });
    expect(quality.log_loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 4);
    expect(quality.reliability).toEqual([
      { from: 0.4, to: 0.5, count: 1, mean_p: 0.4, observed_rate: 0 },
      { from: 0.8, to: 0.9, count: 1, mean_p: 0.8, observed_rate: 1 },
    ]);
  });

  it('clips certain and wrong probabilities so the log loss stays finite', () => {
    expect(forecastQuality(Float64Array.from([0, 1]), Float64Array.from([1, 0]), 0.5).log_loss).toBeCloseTo(-Math.log(1e-6), 3);
  });

  it('finds calibrated probabilities calibrated and shifted ones not', () => {
    const calibrated = sample((p) => p);
    const good = forecastQuality(calibrated.p, calibrated.y, 0.5);
    expect(good.ece).toBeLessThan(0.02);
    expect(good.brier_skill).toBeGreaterThan(0.2);
    expect(good.reliability).toHaveLength(10);

    // Drops 30 points more common than predicted (a shift like the one between training and test periods).
    const shifted = sample((p) => Math.min(1, p + 0.3));
    const bad = forecastQuality(shifted.p, shifted.y, 0.5);
    expect(bad.ece).toBeGreaterThan(0.2);
    expect(bad.auc).toBeGreaterThan(0.7);
  });
});
