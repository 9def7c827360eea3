import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../pipeline/base/time';
import { historyOf, type Observation } from './price-history';
import { episodesOf, outcomesOf, timelineOf } from './timeline';

const day0 = Date.parse('2025-03-01T00:00:00Z');
const firstDay = day0 / DAY_MS;

function history(prices: [day: number, price: number][]) {
  return historyOf(prices.map(([day, price]): Observation => ({ source: 's', productId: 'p', observedAt: day0 + day * DAY_MS + 9 * 3_600_000, title: 't', category: 'c', price, oldPrice: null, currency: 'EUR' })))!;
}

describe('timeline', () => {
  it('reads a snapshot source: a day without the product is unknown, not unchanged', () => {
    const t = timelineOf(history([[0, 10], [1, 10], [4, 8]]), 'snapshots', firstDay + 9);
    expect(t.firstDay).toBe(firstDay);
    expect(Array.from(t.price)).toEqual([10, 10, NaN, NaN, 8]); // ends on the last day it was seen
  });

  it('reads a change log: the price holds between rows, up to the source\'s last day', () => {
    const t = timelineOf(history([[0, 10], [4, 8]]), 'changes', firstDay + 6);
    expect(Array.from(t.price)).toEqual([10, 10, 10, 10, 8, 8, 8]);
  });

  it('labels a day 1 when a known price within H days is X % lower; unknown when a day is missing and no drop was seen', () => {
    const t = timelineOf(history([[0, 10], [1, 10], [2, 10], [4, 10], [5, 10], [6, 9], [7, 9], [8, 9], [9, 9], [10, 9]]), 'snapshots', firstDay + 10);
    const o = outcomesOf(t, 3, 5);
    expect(o.label[0]).toBeNaN(); // day 3 missing, no drop within (0, 3]
    expect(o.label[3]).toBeNaN(); // the day itself is unknown
    expect(o.label[4]).toBe(1); // 9 on day 6 is 10 % lower
    expect(o.label[2]).toBeNaN(); // day 3 missing, day 4 and 5 known without a drop
    expect(o.label[6]).toBe(0);
    expect(o.label[8]).toBeNaN(); // the horizon runs past the data
    expect(o.maxDropPct[4]).toBeCloseTo(10, 6);
    expect(o.deadlineChangePct[5]).toBeCloseTo(-10, 6);
  });

  it('reads a weekly source: the days between its snapshots miss nothing, a week without the product does', () => {
    const t = timelineOf(history([[0, 10], [7, 10], [14, 8], [28, 8]]), 'snapshots', firstDay + 28);
    const weekly = (day: number) => (day - firstDay) % 7 === 0;
    const o = outcomesOf(t, 14, 5, weekly);
    expect(o.label[0]).toBe(1); // 8 on day 14
    expect(o.label[14]).toBeNaN(); // day 21 was a snapshot without the product, and no drop was seen
    expect(outcomesOf(t, 7, 5, weekly).label[0]).toBe(0); // days 1–6 had no snapshot; day 7 is known
  });

  it('finds discount episodes against the regular (most common) price', () => {
    const prices: [number, number][] = [];
    for (let d = 0; d < 60; d++) prices.push([d, d % 20 >= 15 ? 8 : 10]);
    const t = timelineOf(history(prices), 'snapshots', firstDay + 59);
    const e = episodesOf(t, 5);
    expect(e.regular[30]).toBe(10);
    expect(Array.from(e.starts).flatMap((s, d) => (s ? [d] : []))).toEqual([15, 35, 55]);
    expect(e.onDrop[16]).toBe(1);
    expect(e.onDrop[20]).toBe(0);
  });
});
