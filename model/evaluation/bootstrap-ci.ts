import { moneyWeightedCapture, type DecisionSet, type Replay } from './buyer-backtest';
import { quantile, round } from './metrics';
import { seededSequence } from '../../pipeline/base/seeded-sequence';

/**
 * 95 % confidence intervals for savings_captured_pct by resampling products (a product's
 * decisions overlap and move together, so they are not independent draws): percentile bootstrap,
 * every policy measured on the same resamples, so differences between policies are paired.
 */

/** Per product with decisions, what each policy saved and what the clairvoyant saved, in money. */
export interface ProductTotals {
  currencyCount: number;
  currency: Uint16Array;
  decisions: Float64Array;
  clairvoyant: Float64Array;
  /** saved[policy][product], policies in the order given to productTotals. */
  saved: Float64Array[];
}

export function productTotals(set: DecisionSet, replays: readonly Replay[]): ProductTotals {
  const compact = new Int32Array(set.productCount).fill(-1);
  let count = 0;
  for (const product of set.product) if (compact[product] === -1) compact[product] = count++;
  const totals: ProductTotals = {
    currencyCount: set.currencies.length,
    currency: new Uint16Array(count),
    decisions: new Float64Array(count),
    clairvoyant: new Float64Array(count),
    saved: replays.map(() => new Float64Array(count)),
  };
  for (let i = 0; i < set.day.length; i++) {
    const k = compact[set.product[i]!]!;
    totals.currency[k] = set.currency[i]!;
    totals.decisions[k]!++;
    totals.clairvoyant[k]! += set.start[i]! - set.best[i]!;
    replays.forEach((replay, r) => (totals.saved[r]![k]! += set.start[i]! - replay.paid[i]!));
  }
  return totals;
}

export interface BootstrapOptions {
  /** Resamples (default 1000). */
  samples?: number;
  /** Seed of the resampling (default 1): the same seed gives the same intervals. */
  seed?: number;
  /** Pairs [a, b] of policy indices whose difference a − b gets an interval too. */
  differences?: readonly (readonly [number, number])[];
}

export interface BootstrapCi {
  /** Per policy, [2.5 %, 97.5 %] of savings_captured_pct over the resamples (to 0.1). */
  policies: [number, number][];
  /** Per requested difference, likewise. */
  differences: [number, number][];
}

export function bootstrapCi(totals: ProductTotals, options: BootstrapOptions = {}): BootstrapCi {
  const samples = options.samples ?? 1000;
  const differences = options.differences ?? [];
  const random = seededSequence(options.seed ?? 1);
  const products = totals.decisions.length;
  const policies = totals.saved.length;
  const currencies = totals.currencyCount;
  const values = totals.saved.map(() => new Float64Array(samples));
  const saved = new Float64Array(currencies);
  const clairvoyant = new Float64Array(currencies);
  const decisions = new Float64Array(currencies);
  const draws = new Uint32Array(products);

  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < products; j++) draws[j] = Math.floor(random() * products);
    clairvoyant.fill(0);
    decisions.fill(0);
    for (const k of draws) {
      clairvoyant[totals.currency[k]!]! += totals.clairvoyant[k]!;
      decisions[totals.currency[k]!]! += totals.decisions[k]!;
    }
    for (let r = 0; r < policies; r++) {
      saved.fill(0);
      const savedBy = totals.saved[r]!;
      for (const k of draws) saved[totals.currency[k]!]! += savedBy[k]!;
      values[r]![s] = moneyWeightedCapture(saved, clairvoyant, decisions);
    }
  }
  return {
    policies: values.map(interval),
    differences: differences.map(([a, b]) => interval(values[a]!.map((value, s) => value - values[b]![s]!))),
  };
}

function interval(values: Float64Array): [number, number] {
  const sorted = Float64Array.from(values).sort();
  return [round(quantile(sorted, 0.025), 1), round(quantile(sorted, 0.975), 1)];
}
