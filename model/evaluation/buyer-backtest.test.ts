import { describe, expect, it } from 'vitest';
import { rulePolicy, frequencyPolicy } from './baseline-policies';
import { dropLabelsOf, gridFixture } from './grid-fixtures';
import { alwaysBuyNow, decisionsOf, evaluatePolicy, measureReplay, replayPolicy, type GridProduct, type WaitPolicy } from './buyer-backtest';

const DAY0 = 20_000;

function product(prices: number[], currency = 'EUR', firstDay = DAY0): GridProduct {
  return { currency, firstDay, prices: Float64Array.from(prices) };
}

/** 100 for five days, then 80 from day 5 on: a 20 % drop. */
const DROPS = product([100, 100, 100, 100, 100, 80, 80, 80, 80, 80]);
/** 100 for three days, then 120: waiting only costs. */
const RISES = product([100, 100, 100, 120, 120, 120, 120, 120, 120, 120]);

const alwaysWait: WaitPolicy = () => true;
/** Knows the drop is on day 5 (a perfect policy for DROPS). */
const waitForDay5: WaitPolicy = (_p, day) => day < DAY0 + 5;

describe('the buyer backtest on a daily grid', () => {
  it('measures a 20 % drop against the clairvoyant: buying at once captures 0 %, a perfect policy 100 %', () => {
    const set = decisionsOf([DROPS], 7, DAY0, DAY0);
    expect(Array.from(set.best)).toEqual([80]);
    expect(evaluatePolicy([DROPS], alwaysBuyNow, 7, DAY0, DAY0)).toMatchObject({ savings_captured_pct: 0, worse_than_buy_now_pct: 0, waited_pct: 0, decisions: 1, products: 1 });
    expect(evaluatePolicy([DROPS], waitForDay5, 7, DAY0, DAY0)).toMatchObject({ savings_captured_pct: 100, savings_captured_pct_by_decision: 100, waited_pct: 100 });
  });

  it('starts one buyer per known day whose deadline is inside the grid, and pays the deadline price after waiting throughout', () => {
    const set = decisionsOf([DROPS], 7, DAY0 - 5, DAY0 + 100);
    expect(Array.from(set.day)).toEqual([DAY0, DAY0 + 1, DAY0 + 2]);
    const replay = replayPolicy([DROPS], set, alwaysWait);
    expect(Array.from(replay.paid)).toEqual([80, 80, 80]);
    expect(Array.from(replay.waited)).toEqual([1, 1, 1]);
  });

  it('counts waiting through a rise as worse than buying at once, with the loss in % of the start price', () => {
    const result = evaluatePolicy([DROPS, RISES], alwaysWait, 5, DAY0, DAY0 + 2);
    // DROPS: buyers on days 0–2 pay 80 (the clairvoyant too); RISES: they pay 120 where the clairvoyant paid 100.
    expect(result).toMatchObject({ decisions: 6, products: 2, worse_than_buy_now_pct: 50, loss_when_worse_mean_pct: 20, loss_when_worse_p95_pct: 20, waited_pct: 100 });
    // Money: saved 3 × 20 − 3 × 20 = 0 of the clairvoyant's 60.
    expect(result.savings_captured_pct).toBe(0);
    const buyNow = evaluatePolicy([DROPS, RISES], alwaysBuyNow, 5, DAY0, DAY0 + 2);
    expect(buyNow.worse_than_buy_now_pct).toBe(0);
    expect(buyNow.loss_when_worse_p95_pct).toBe(0);
  });

  it('weighs currencies by their share of decisions, not by their amounts', () => {
    const euro = product([100, 100, 80, 80, 80], 'EUR');
    const yen = product([10_000, 10_000, 10_000, 10_000, 5_000, 5_000, 5_000, 5_000], 'JPY');
    // H = 4: one euro decision (day 0), four yen decisions (days 0–3). Wait on the euro product only.
    const policy: WaitPolicy = (p) => p === 0;
    const result = evaluatePolicy([euro, yen], policy, 4, DAY0, DAY0 + 10);
    expect(result.decisions).toBe(5);
    // EUR captures 100 % (1 decision), JPY 0 % (4 decisions): (1 × 100 + 4 × 0) / 5. Pooled money would give 20 / 20,020.
    expect(result.savings_captured_pct).toBe(20);
    // By decision: 20 % saved of 20 % + 4 × 50 % possible.
    expect(result.savings_captured_pct_by_decision).toBe(9.1);
  });

  it('skips buyers whose start or deadline price is unknown, and never acts on an unknown day', () => {
    const gaps = product([100, Number.NaN, 100, 100, Number.NaN, 70, 90, 90, Number.NaN, 90]);
    const set = decisionsOf([gaps], 3, DAY0, DAY0 + 10);
    // Day 0 → deadline 3 (known); 1 unknown start; 2 → 5; 3 → 6; 5 → 8 unknown deadline; 6 → 9.
    expect(Array.from(set.day, (d) => d - DAY0)).toEqual([0, 2, 3, 6]);
    // The clairvoyant of day 2 sees 70 on day 5 (the deadline); of day 0 nothing lower than 100 (day 1 unknown).
    expect(Array.from(set.best)).toEqual([100, 70, 70, 90]);
    const calls: string[] = [];
    // Buy on the second day of every horizon: the buyers of days 0 and 3 find it unknown (days 1 and 4) and buy a day later.
    const policy: WaitPolicy = (p, day, daysLeft) => {
      calls.push(`${day - DAY0}:${daysLeft}`);
      return daysLeft === 3;
    };
    const replay = replayPolicy([gaps], set, policy);
    expect(calls.some((call) => ['1', '4', '8'].includes(call.split(':')[0]!))).toBe(false);
    expect(calls.some((call) => call.endsWith(':0'))).toBe(false);
    expect(Array.from(replay.paid)).toEqual([100, 100, 70, 90]);
  });

  it('asks the policy at most once per (product, day, days left) and stops at the first Buy now', () => {
    const set = decisionsOf([DROPS, RISES], 4, DAY0, DAY0 + 5);
    const seen = new Set<string>();
    let calls = 0;
    replayPolicy([DROPS, RISES], set, (p, day, daysLeft) => {
      calls++;
      seen.add(`${p}:${day}:${daysLeft}`);
      return true;
    });
    expect(calls).toBe(seen.size);
    expect(calls).toBe(set.day.length * 4);
    let buyNowCalls = 0;
    replayPolicy([DROPS, RISES], set, () => {
      buyNowCalls++;
      return false;
    });
    expect(buyNowCalls).toBe(set.day.length);
  });

  it('measures a subset of decisions when given their indices', () => {
    const set = decisionsOf([DROPS, RISES], 5, DAY0, DAY0 + 2);
    const replay = replayPolicy([DROPS, RISES], set, alwaysWait);
    const risesOnly = Array.from(set.product.keys()).filter((i) => set.product[i] === 1);
    expect(measureReplay(set, replay, risesOnly)).toMatchObject({ decisions: 3, products: 1, worse_than_buy_now_pct: 100, savings_captured_pct: 0 });
  });

  it('replays a daily policy from its tables exactly as call by call', () => {
    const grid = gridFixture({ products: 20, days: 300, seed: 2, missingChance: 0.15 });
    const set = decisionsOf(grid, 14, DAY0 + 150, DAY0 + 280);
    for (const policy of [rulePolicy(grid, 5, 90), rulePolicy(grid, 2, 30), frequencyPolicy(grid, dropLabelsOf(grid, 14, 5), 14, 0.8)]) {
      expect(policy.daily).toBeDefined();
      const perCall: WaitPolicy = (p, day, daysLeft) => policy(p, day, daysLeft);
      const fromTables = replayPolicy(grid, set, policy);
      expect(fromTables).toEqual(replayPolicy(grid, set, perCall));
      expect(fromTables.waited.some((w) => w === 1)).toBe(true);
      expect(fromTables.waited.some((w) => w === 0)).toBe(true);
    }
  });
});
