import { describe, expect, it } from 'vitest';
import { countDropsBefore, frequencyPolicy, rulePolicy, ruleText, trailingLow } from './baseline-policies';
import { type GridProduct, type WaitPolicy } from './buyer-backtest';
import { dropLabelsOf, gridFixture } from './grid-fixtures';

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

  it('waits when the product\'s past drop rate, from horizons ended before today, is above the level', () => {
    const p = [product([100, 100, 80, 100, 100, 100, 100, 100])];
    // H = 2, labels 1, 1, 0, 0, 0, 0, –, –; day t knows the labels of s ≤ t − 2: rates –, –, 1, 1, 2/3, 1/2, 2/5, 1/3.
    const labels = dropLabelsOf(p, 2, 10);
    expect(Array.from(labels[0]!)).toEqual([1, 1, 0, 0, 0, 0, Number.NaN, Number.NaN]);
    expect(decisions(frequencyPolicy(p, labels, 2, 0.5), 8)).toEqual([false, false, true, true, true, false, false, false]);
    expect(decisions(frequencyPolicy(p, labels, 2, 0.9), 8)).toEqual([false, false, true, true, false, false, false, false]);
  });

  it('counts drops that began before a day, a lasting sale once', () => {
    const prices = Float64Array.from([100, 100, 100, 80, 80, 80, 80, 80, 100, 100, 100, 85, 85, 100]);
    expect(countDropsBefore(prices, 3, 10, prices.length)).toBe(2);
    expect(countDropsBefore(prices, 3, 10, 11)).toBe(1);
    expect(countDropsBefore(prices, 3, 20, prices.length)).toBe(1);
  });

  it('decide from the past only: changing later prices changes no earlier decision', () => {
    const factories: ((p: GridProduct[]) => WaitPolicy)[] = [(p) => rulePolicy(p, 5, 90), (p) => rulePolicy(p, 2, 30), (p) => frequencyPolicy(p, dropLabelsOf(p, 14, 5), 14, 0.5)];
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
