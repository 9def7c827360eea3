import { describe, expect, it } from 'vitest';
import { DAY_MS, historyOf, type FeatureContext, type Observation } from '../features';
import { datasetFromHistories } from '../dataset';
import { replayPolicies, type Policy } from './backtest';

const T0 = Date.parse('2025-05-01T09:00:00Z');
const day = (d: number) => T0 + d * DAY_MS;

function snapshots(productId: string, priceOnDay: (d: number) => number, days = 40): Observation[] {
  return Array.from({ length: days }, (_, d) => ({ source: 's', productId, observedAt: day(d), title: productId, category: 'c', price: priceOnDay(d), oldPrice: null, currency: 'EUR' }));
}

const context: FeatureContext = { categoryCode: () => 0, categoryDropRate: () => 0 };

describe('backtest arithmetic (hand-made case)', () => {
  // A: 10 until day 10, 8 on days 10–13, 12 from day 14.   B: 20, 19 on day 7 only, then 20.
  const a = historyOf(snapshots('A', (d) => (d < 10 ? 10 : d < 14 ? 8 : 12)))!;
  const b = historyOf(snapshots('B', (d) => (d === 7 ? 19 : 20)))!;
  const dataset = datasetFromHistories([a, b], day(39), context, { horizonDays: 14, minDropPct: 5, categories: ['c'] });
  const limits = [9, 19.5];
  /** Waits until the price falls under a per-product limit. */
  const patient: Policy = (row) => dataset.price[row]! >= limits[dataset.product[row]!]!;
  const alwaysWait: Policy = () => true;
  const buyNow: Policy = () => false;
  const replay = replayPolicies(dataset, [patient, alwaysWait, buyNow], day(0), day(0));

  it('counts one decision per product started in the window', () => {
    expect(replay.decisions).toBe(2);
    expect(replay.products).toBe(2);
    expect(replay.currencies).toEqual(['EUR']);
  });

  it('gives the clairvoyant the lowest price in the horizon', () => {
    // A saves 2 of 10 (20 %), B saves 1 of 20 (5 %).
    expect(replay.clairvoyant.avg_savings_pct_per_decision).toBeCloseTo(12.5);
    expect(replay.clairvoyant.avg_savings_per_decision).toBeCloseTo(1.5);
    expect(replay.clairvoyant.decisions_with_savings_pct).toBe(100);
  });

  it('captures 100 % when the policy buys at the lows, and 0 % when it buys at once', () => {
    expect(replay.results[0]!.savings_captured_pct).toBe(100);
    expect(replay.results[0]!.worse_than_buy_now_pct).toBe(0);
    expect(replay.results[0]!.waited_pct).toBe(100);
    expect(replay.results[2]!).toEqual({ savings_captured_pct: 0, avg_savings_pct_per_decision: 0, avg_savings_per_decision: 0, worse_than_buy_now_pct: 0, waited_pct: 0 });
  });

  it('buys at the deadline when the policy never says Buy now, and counts the loss', () => {
    // A pays 12 on day 14 (−20 %), B pays 20 (0 %): (−20 + 0) / (20 + 5) = −80 %.
    const wait = replay.results[1]!;
    expect(wait.savings_captured_pct).toBe(-80);
    expect(wait.avg_savings_pct_per_decision).toBe(-10);
    expect(wait.avg_savings_per_decision).toBe(-1);
    expect(wait.worse_than_buy_now_pct).toBe(50);
  });

  it('leaves out decisions whose horizon passes the end of the data', () => {
    expect(replayPolicies(dataset, [buyNow], day(30), day(39)).decisions).toBe(0);
  });
});
