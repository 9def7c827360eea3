import { segmentAt, type ProductHistory } from './price-history';
import { DAY_MS, dayOf } from '../pipeline/base/time';

/**
 * A product's history on a daily grid: the unit the forecaster decides on (one buyer looks once a
 * day) and the one its labels, episodes and the backtest share.
 *
 * How a day without an observation reads depends on the source's kind:
 * - `changes` (a change log): no row means the price held, so every day from the first row to the
 *   source's last observed day has the price in force at the end of that day;
 * - `snapshots`: a product missing from a snapshot is *unknown* that day (NaN), not unchanged: no
 *   decision point is imputed there, and a label whose horizon has a missing day is unknown unless
 *   the drop was already seen on a known day.
 */
export type SourceKind = 'snapshots' | 'changes';

/**
 * A source's kind from the share of consecutive observations of a product that repeat its price:
 * a change log only records changes, so its repeats are rare (a correction, a re-listing); a
 * snapshot source repeats the price whenever it did not move, which for shop prices is most days.
 */
export function kindFromRepeatShare(share: number): SourceKind {
  return share >= 0.25 ? 'snapshots' : 'changes';
}

export interface Timeline {
  source: string;
  productId: string;
  title: string;
  category: string;
  currency: string;
  kind: SourceKind;
  /** Epoch day of index 0. */
  firstDay: number;
  /** Price per day (NaN: unknown). */
  price: Float64Array;
  /** The list ("was") price shown that day; NaN when none or unknown. */
  list: Float64Array;
}

/**
 * The grid of one history. `endDay` is the source's last observed day: a change log's prices hold
 * up to it; a snapshot product's grid ends on the last day it was seen.
 */
export function timelineOf(history: ProductHistory, kind: SourceKind, endDay: number): Timeline {
  const firstDay = dayOf(history.firstSeen);
  const lastSeenDay = dayOf(history.lastSeen);
  const lastDay = kind === 'changes' && Number.isFinite(endDay) ? Math.max(endDay, lastSeenDay) : lastSeenDay;
  const days = lastDay - firstDay + 1;
  const price = new Float64Array(days).fill(Number.NaN);
  const list = new Float64Array(days).fill(Number.NaN);
  if (kind === 'changes') {
    let k = 0;
    for (let d = 0; d < days; d++) {
      const endOfDay = (firstDay + d + 1) * DAY_MS - 1;
      while (k + 1 < history.start.length && history.start[k + 1]! <= endOfDay) k++;
      price[d] = history.price[k]!;
      list[d] = history.oldPrice[k]!;
    }
  } else {
    for (const checkpoint of history.checkpoints) {
      const k = segmentAt(history, checkpoint);
      const d = dayOf(checkpoint) - firstDay;
      price[d] = history.price[k]!;
      list[d] = history.oldPrice[k]!;
    }
  }
  return { source: history.source, productId: history.productId, title: history.title, category: history.category, currency: history.currency, kind, firstDay, price, list };
}

/** What happened after each day: the labels the forecaster learns and the backtest scores. */
export interface DayOutcomes {
  /** 1 when a known price in (d, d + H] is at least X % below day d's; 0 when not (every day known); NaN when unknown. */
  label: Float32Array;
  /** The deepest fall seen in (d, d + H], in % of day d's price (0 when none). */
  maxDropPct: Float32Array;
  /** 100 × (price on d + H / price on d − 1); NaN when either is unknown. */
  deadlineChangePct: Float32Array;
}

/**
 * @param active whether the source took a snapshot on an epoch day (any of its products seen):
 * only a snapshot day without this product is a missing day; a weekly source has no snapshot on
 * the days between, and those miss nothing.
 * @param lastDay the source's last observed day: a horizon reaching past it is not known yet.
 */
export function outcomesOf(timeline: Timeline, horizonDays: number, minDropPct: number, active: (day: number) => boolean = () => true, lastDay = timeline.firstDay + timeline.price.length - 1): DayOutcomes {
  const { price, firstDay } = timeline;
  const n = price.length;
  const label = new Float32Array(n).fill(Number.NaN);
  const maxDropPct = new Float32Array(n);
  const deadlineChangePct = new Float32Array(n).fill(Number.NaN);
  for (let d = 0; d < n; d++) {
    const today = price[d]!;
    if (Number.isNaN(today)) continue;
    let low = Number.POSITIVE_INFINITY;
    let missing = firstDay + d + horizonDays > lastDay;
    for (let j = d + 1; j <= d + horizonDays; j++) {
      const p = j < n ? price[j]! : Number.NaN;
      if (Number.isNaN(p)) {
        if (active(firstDay + j)) missing = true;
      } else if (p < low) low = p;
    }
    const drop = low < today ? (100 * (today - low)) / today : 0;
    maxDropPct[d] = drop;
    const dropped = drop >= minDropPct - 1e-9;
    if (dropped) label[d] = 1;
    else if (!missing) label[d] = 0;
    const deadline = d + horizonDays < n ? price[d + horizonDays]! : Number.NaN;
    if (!Number.isNaN(deadline)) deadlineChangePct[d] = 100 * (deadline / today - 1);
  }
  return { label, maxDropPct, deadlineChangePct };
}

/**
 * Discount episodes: a product is "on a drop" while its price is at least X % below its regular
 * price; an episode starts on the first such day after one that was not. The regular price is the
 * most common price over the last 60 days (ties to the higher), or today's price once it has held
 * for 21 days in a row: a permanent markdown is the new regular price within three weeks, not a
 * discount that lasts for months. Everything here uses days ≤ d only.
 */
export interface Episodes {
  /** The regular price as of each day (NaN on unknown days). */
  regular: Float64Array;
  onDrop: Uint8Array;
  /** 1 on the day an episode starts. */
  starts: Uint8Array;
}

export const REGULAR_WINDOW_DAYS = 60;
/** A price held this many days in a row is regular whatever came before. */
export const SETTLED_DAYS = 21;

export function episodesOf(timeline: Timeline, minDropPct: number): Episodes {
  const { price } = timeline;
  const n = price.length;
  const regular = new Float64Array(n).fill(Number.NaN);
  const onDrop = new Uint8Array(n);
  const starts = new Uint8Array(n);
  const counts = new Map<number, number>();
  let wasOnDrop = false;
  let heldSince = 0;
  for (let d = 0; d < n; d++) {
    const leaving = d - REGULAR_WINDOW_DAYS;
    if (leaving >= 0 && !Number.isNaN(price[leaving]!)) {
      const left = counts.get(price[leaving]!)! - 1;
      if (left === 0) counts.delete(price[leaving]!);
      else counts.set(price[leaving]!, left);
    }
    const today = price[d]!;
    if (Number.isNaN(today)) continue;
    counts.set(today, (counts.get(today) ?? 0) + 1);
    if (d === 0 || price[d - 1] !== today) heldSince = d;
    let mode = today;
    let best = 0;
    if (d - heldSince + 1 < SETTLED_DAYS) {
      for (const [value, count] of counts) {
        if (count > best || (count === best && value > mode)) {
          mode = value;
          best = count;
        }
      }
    }
    regular[d] = mode;
    const on = today <= mode * (1 - minDropPct / 100) + 1e-9;
    onDrop[d] = on ? 1 : 0;
    if (on && !wasOnDrop) starts[d] = 1;
    wasOnDrop = on;
  }
  return { regular, onDrop, starts };
}
