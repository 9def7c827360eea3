import { describe, expect, it } from 'vitest';
import { countDropsBefore, dropLabels, frequencyPolicy, rulePolicy, ruleText, trailingLow } from './baseline-policies';
import { type GridProduct, type WaitPolicy } from './buyer-backtest';
import { gridFixture } from './grid-fixtures';

const DAY0 = 20_000;

function product(prices: number[]): GridProduct {
  return { currency: 'EUR', firstDay: DAY0, prices: Float64Array.from(prices) };
}

function decisions(policy: WaitPolicy, days: number): boolean[] {
  return Array.from({ length: days }, (_, t) => policy(0, DAY0 + t, 14));
}

describe('baseline policies', () => {
  it('keeps the lowest known price of a trailing window, skipping unknown days', () => {
    expect(Array.from(trailingLow(Float64Array.from([5, Number.NaN, 3, 4, 6, Number.NaN, Number.NaN, Number.NaN]), 3))).toEqual([5, 5, 3, 3, 3, 4, 6, Number.NaN]);
  });

  it('waits while the price is more than the threshold above its window low', () => {
    const p = [product([100, 90, 100, 95])];
    expect(decisions(rulePolicy(p, 5, 3), 4)).toEqual([false, false, true, true]);
    // A 2-day window has forgotten the 90 by day 3 (low 95 → 0 % above).
    expect(decisions(rulePolicy(p, 5, 2), 4)).toEqual([false, false, true, false]);
    expect(ruleText(5, 90)).toBe('wait while the price is more than 5 % above its 90-day low, otherwise buy');
  });

  it('labels each start day by whether a ≥ X % drop follows within H days, unknown where the start or deadline is', () => {
    expect(Array.from(dropLabels(Float64Array.from([100, 100, 80, 100, 100, Number.NaN, 100, 100]), 2, 10))).toEqual([1, 1, 0, 2, 0, 2, 2, 2]);
  });

  it('waits when the product\'s past drop rate, from horizons ended before today, is above the level', () => {
    const p = [product([100, 100, 80, 100, 100, 100, 100, 100])];
    // H = 2, labels 1, 1, 0, 0, …; day t knows the labels of s ≤ t − 3: rates –, –, –, 1, 1, 2/3, 1/2, 2/5.
    expect(decisions(frequencyPolicy(p, 2, 10, 0.5), 8)).toEqual([false, false, false, true, true, true, false, false]);
    expect(decisions(frequencyPolicy(p, 2, 10, 0.9), 8)).toEqual([false, false, false, true, true, false, false, false]);
  });

  it('counts drops that began before a day, a lasting sale once', () => {
    const prices = Float64Array.from([100, 100, 100, 80, 80, 80, 80, 80, 100, 100, 100, 85, 85, 100]);
    expect(countDropsBefore(prices, 3, 10, prices.length)).toBe(2);
    expect(countDropsBefore(prices, 3, 10, 11)).toBe(1);
    expect(countDropsBefore(prices, 3, 20, prices.length)).toBe(1);
  });

  it('decide from the past only: changing later prices changes no earlier decision', () => {
    const factories: ((p: GridProduct[]) => WaitPolicy)[] = [(p) => rulePolicy(p, 5, 90), (p) => rulePolicy(p, 2, 30), (p) => frequencyPolicy(p, 14, 5, 0.5)];
    const laterDiffered = factories.map(() => false);
    for (let seed = 1; seed <= 5; seed++) {
      const original = gridFixture({ products: 1, days: 400, seed })[0]!;
      const cut = 100 + seed * 30;
      // The same past, then a price that never moves again.
      const altered = product(Array.from(original.prices, (price, t) => (t <= cut ? price : 123)));
      factories.forEach((factory, f) => {
        expect(decisions(factory([altered]), cut + 1)).toEqual(decisions(factory([original]), cut + 1));
        if (decisions(factory([altered]), 400).join() !== decisions(factory([original]), 400).join()) laterDiffered[f] = true;
      });
    }
    // The later decisions do differ, so the comparison could have failed.
    expect(laterDiffered).toEqual([true, true, true]);
  });
});
