import { dayOf } from '../pipeline/base/time';

/**
 * A product's price history as the cache holds it, before any feature: observations collapse
 * into price *segments* (a price holds from the observation that set it until the next one that
 * changes it), plus the checkpoints (the last observation of each UTC day the product was seen).
 * Whether a day without an observation means "price unchanged" or "unknown" depends on the
 * source's kind (see timeline.ts).
 */

/** One cleaned observation, as the cache holds it (observed_at as epoch ms). */
export interface Observation {
  source: string;
  productId: string;
  observedAt: number;
  title: string;
  category: string;
  price: number;
  oldPrice: number | null;
  currency: string;
}

/** A product's price history as segments (see the module comment). All arrays ascending by start. */
export interface ProductHistory {
  source: string;
  productId: string;
  title: string;
  category: string;
  currency: string;
  /** When each segment's price took effect (epoch ms). */
  start: Float64Array;
  price: Float64Array;
  /** The list ("was") price shown with the segment's price; NaN when none. */
  oldPrice: Float64Array;
  /** Decision points: the last observation of each UTC day the product was observed (epoch ms). */
  checkpoints: Float64Array;
  firstSeen: number;
  lastSeen: number;
}

/**
 * Collects one product's observations (in time order) into a ProductHistory.
 * Observations at the same instant: the last one wins. Title, category and currency follow the
 * latest observation.
 */
export class HistoryBuilder {
  private starts: number[] = [];
  private prices: number[] = [];
  private oldPrices: number[] = [];
  private checkpoints: number[] = [];
  private lastDay = Number.NaN;
  private first = Number.NaN;
  private last = Number.NaN;
  private latest: Observation | undefined;

  add(observation: Observation): void {
    const { observedAt, price } = observation;
    if (!Number.isFinite(observedAt) || !Number.isFinite(price) || price <= 0) return;
    if (this.latest && observedAt < this.last) throw new Error(`observations of ${observation.productId} must come in time order`);
    const oldPrice = observation.oldPrice !== null && Number.isFinite(observation.oldPrice) && observation.oldPrice > 0 ? observation.oldPrice : Number.NaN;
    const n = this.prices.length;
    if (n > 0 && this.starts[n - 1] === observedAt) {
      // Same instant: replace (a later duplicate corrects the earlier one).
      this.prices[n - 1] = price;
      this.oldPrices[n - 1] = oldPrice;
      if (n >= 2 && this.prices[n - 2] === price && sameOld(this.oldPrices[n - 2]!, oldPrice)) this.pop();
    } else if (n === 0 || this.prices[n - 1] !== price || !sameOld(this.oldPrices[n - 1]!, oldPrice)) {
      this.starts.push(observedAt);
      this.prices.push(price);
      this.oldPrices.push(oldPrice);
    }
    const day = dayOf(observedAt);
    if (day === this.lastDay) this.checkpoints[this.checkpoints.length - 1] = observedAt;
    else this.checkpoints.push(observedAt);
    this.lastDay = day;
    if (Number.isNaN(this.first)) this.first = observedAt;
    this.last = observedAt;
    this.latest = observation;
  }

  private pop(): void {
    this.starts.pop();
    this.prices.pop();
    this.oldPrices.pop();
  }

  get size(): number {
    return this.prices.length;
  }

  build(): ProductHistory | undefined {
    const latest = this.latest;
    if (!latest || this.prices.length === 0) return undefined;
    return {
      source: latest.source,
      productId: latest.productId,
      title: latest.title,
      category: latest.category,
      currency: latest.currency,
      start: Float64Array.from(this.starts),
      price: Float64Array.from(this.prices),
      oldPrice: Float64Array.from(this.oldPrices),
      checkpoints: Float64Array.from(this.checkpoints),
      firstSeen: this.first,
      lastSeen: this.last,
    };
  }
}

function sameOld(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

/** Builds a history from observations already in time order (tests, small inputs). */
export function historyOf(observations: readonly Observation[]): ProductHistory | undefined {
  const builder = new HistoryBuilder();
  for (const observation of observations) builder.add(observation);
  return builder.build();
}

/** Index of the segment in force at `t` (the last one starting at or before t), −1 before the first. */
export function segmentAt(history: ProductHistory, t: number): number {
  const start = history.start;
  let lo = 0;
  let hi = start.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
