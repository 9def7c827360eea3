import { describe, expect, it } from 'vitest';
import { bootstrapCi, productTotals } from './bootstrap-ci';
import { rulePolicy } from './baseline-policies';
import { alwaysBuyNow, decisionsOf, measureReplay, replayPolicy } from './buyer-backtest';
import { gridFixture } from './grid-fixtures';

const products = gridFixture({ products: 60, days: 300, seed: 3, currency: (p) => (p % 3 === 0 ? 'JPY' : 'EUR') });
const set = decisionsOf(products, 14, 20_200, 20_280);
const replays = [replayPolicy(products, set, rulePolicy(products, 5, 90)), replayPolicy(products, set, rulePolicy(products, 10, 30)), replayPolicy(products, set, alwaysBuyNow)];
const totals = productTotals(set, replays);

describe('bootstrap confidence intervals over products', () => {
  it('adds each product\'s decisions up once', () => {
    expect(totals.decisions.reduce((a, b) => a + b, 0)).toBe(set.day.length);
    expect(totals.currencyCount).toBe(2);
  });

  it('contain the point estimate, and repeat exactly for a seed', () => {
    const ci = bootstrapCi(totals, { samples: 500, seed: 11, differences: [[0, 1]] });
    replays.forEach((replay, r) => {
      const estimate = measureReplay(set, replay).savings_captured_pct;
      expect(ci.policies[r]![0]).toBeLessThanOrEqual(estimate);
      expect(ci.policies[r]![1]).toBeGreaterThanOrEqual(estimate);
    });
    // The rule captures something, with real uncertainty; buying at once captures exactly 0.
    expect(ci.policies[0]![1] - ci.policies[0]![0]).toBeGreaterThan(1);
    expect(ci.policies[2]).toEqual([0, 0]);
    expect(bootstrapCi(totals, { samples: 500, seed: 11, differences: [[0, 1]] })).toEqual(ci);
    expect(bootstrapCi(totals, { samples: 500, seed: 12, differences: [[0, 1]] })).not.toEqual(ci);
  });

  it('pairs differences on the same resamples', () => {
    const ci = bootstrapCi(totals, { samples: 300, seed: 5, differences: [[0, 0], [0, 2]] });
    // A policy against itself differs by exactly 0 on every resample; against buying at once by its own capture.
    expect(ci.differences[0]).toEqual([0, 0]);
    expect(ci.differences[1]).toEqual(ci.policies[0]);
  });
});
