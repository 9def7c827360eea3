import { describe, expect, it } from 'vitest';
import { choosePolicy, tuneFrequency, tuneRule } from './policy-choice';
import { dropLabelsOf } from './grid-fixtures';
import { evaluatePolicy, type GridProduct, type WaitPolicy } from './buyer-backtest';

const DAY0 = 20_000;
const LAST = DAY0 + 19; // validation: days 0–9 and 10–19

function product(prices: number[]): GridProduct {
  return { currency: 'EUR', firstDay: DAY0, prices: Float64Array.from(prices) };
}

/**
 * H = 1, so waiting on day d pays the price of d + 1. Product 0 rises by 1 a day through the
 * first half of validation, then holds; products 1–9 fall by 1 a day throughout.
 */
const GRID = [product(Array.from({ length: 21 }, (_, t) => 100 + Math.min(t, 10))), ...Array.from({ length: 9 }, () => product(Array.from({ length: 21 }, (_, t) => 100 - t)))];
/** Waits everywhere: 94.4 % captured, worse in 10 of 200 decisions (5 %), all of them in the first half (10 %). */
const waitAlways: WaitPolicy = () => true;
/** Waits on products 2–9 only: 88.9 % captured, never worse. */
const waitOnEight: WaitPolicy = (p) => p >= 2;

describe('choosing a policy on validation', () => {
  it('holds the worse-than-buy-now cap in each half, not only overall', () => {
    const candidates = [
      { name: 'waiter', policy: waitAlways },
      { name: 'careful', policy: waitOnEight },
    ];
    expect(evaluatePolicy(GRID, waitAlways, 1, DAY0, LAST)).toMatchObject({ savings_captured_pct: 94.4, worse_than_buy_now_pct: 5 });
    const capped = choosePolicy(candidates, GRID, 1, DAY0, LAST, 6);
    expect(capped.winner.name).toBe('careful');
    expect(capped.results.map((r) => [r.eligible, r.halves[0].worse_than_buy_now_pct, r.halves[1].worse_than_buy_now_pct])).toEqual([
      [false, 10, 0],
      [true, 0, 0],
    ]);
    expect(capped.reason).toBe('careful captured 88.9 % on validation, with 0 % worse than buying at once; no other candidate stayed within 6 % worse in both halves');

    const loose = choosePolicy(candidates, GRID, 1, DAY0, LAST, 11);
    expect(loose.winner.name).toBe('waiter');
    expect(loose.reason).toBe("waiter captured 94.4 % on validation against careful's 88.9 %, with 5 % worse than buying at once");

    const none = choosePolicy(candidates.slice(0, 1), GRID, 1, DAY0, LAST, 1);
    expect(none.winner.name).toBe('waiter');
    expect(none.reason).toMatch(/^no candidate kept worse-than-buy-now within 1 % in both halves of validation; waiter came closest \(10 % in its worse half\)/);
  });

  it('tunes the rule to buy at once when no threshold and window captures anything', () => {
    // Prices that only rise: waiting never pays.
    const rising = [product(Array.from({ length: 400 }, (_, t) => 100 + t))];
    const tuned = tuneRule(rising, 3, DAY0 + 300, DAY0 + 390);
    expect(tuned.params).toBeNull();
    expect(tuned.rule).toMatch(/^buy at once: no threshold and window captured savings/);
    expect(tuned.validation.waited_pct).toBe(0);
  });

  it('tunes the rule and the frequency level where waiting pays, within the cap', () => {
    // Every 10 days a 3-day spike of +30 %, then back: waiting on a spike saves it.
    const spiky = Array.from({ length: 5 }, () => product(Array.from({ length: 400 }, (_, t) => (t % 10 < 3 ? 130 : 100))));
    const rule = tuneRule(spiky, 4, DAY0 + 300, DAY0 + 390);
    expect(rule.params).not.toBeNull();
    expect(rule.validation.savings_captured_pct).toBe(100);
    expect(rule.validation.worse_than_buy_now_pct).toBeLessThanOrEqual(3);
    expect(rule.rule).toBe(`wait while the price is more than ${rule.params!.thresholdPct} % above its ${rule.params!.windowDays}-day low, otherwise buy`);
    expect(evaluatePolicy(spiky, rule.policy, 4, DAY0 + 300, DAY0 + 390).savings_captured_pct).toBe(100);

    const frequency = tuneFrequency(spiky, dropLabelsOf(spiky, 4, 5), 4, 5, DAY0 + 300, DAY0 + 390);
    // Waiting whenever a drop is likely also waits on the low days, before the next spike: worse there.
    expect(frequency.validation.worse_than_buy_now_pct).toBeLessThanOrEqual(3);
    expect(frequency.params === null || frequency.validation.savings_captured_pct > 0).toBe(true);
  });
});
