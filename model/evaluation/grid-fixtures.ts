import { outcomesOf } from '../timeline';
import { type GridProduct } from './buyer-backtest';
import { seededSequence } from '../../pipeline/base/seeded-sequence';

/**
 * Random daily price grids for the evaluation's tests and measurements: each product drifts,
 * runs sales (5–20 % off for a few days) at random, and misses some days (NaN), as a snapshot
 * source does.
 */
export interface GridFixtureOptions {
  products?: number;
  days?: number;
  firstDay?: number;
  seed?: number;
  /** Chance per day that a sale starts (default 0.04) and that the day is unknown (default 0.05). */
  saleChance?: number;
  missingChance?: number;
  currency?: (product: number) => string;
}

export function gridFixture(options: GridFixtureOptions = {}): GridProduct[] {
  const random = seededSequence(options.seed ?? 1);
  const days = options.days ?? 400;
  const saleChance = options.saleChance ?? 0.04;
  const missingChance = options.missingChance ?? 0.05;
  return Array.from({ length: options.products ?? 40 }, (_, index) => {
    let regular = 5 + random() * 95;
    let saleDaysLeft = 0;
    let discount = 0;
    const prices = new Float64Array(days);
    for (let t = 0; t < days; t++) {
      if (random() < 0.01) regular *= 1 + (random() - 0.4) * 0.2;
      if (saleDaysLeft === 0 && random() < saleChance) {
        saleDaysLeft = 2 + Math.floor(random() * 8);
        discount = 0.05 + random() * 0.15;
      }
      const price = saleDaysLeft > 0 ? regular * (1 - discount) : regular;
      if (saleDaysLeft > 0) saleDaysLeft--;
      prices[t] = random() < missingChance ? Number.NaN : Math.round(price * 100) / 100;
    }
    return { currency: options.currency?.(index) ?? 'EUR', firstDay: options.firstDay ?? 20_000, prices };
  });
}

/** The forecaster's labels (timeline.ts `outcomesOf`: drop ≥ X % within H days, NaN unknown) of grid products. */
export function dropLabelsOf(products: readonly GridProduct[], horizonDays: number, minDropPct: number): Float32Array[] {
  return products.map((p) => outcomesOf({ source: 's', productId: 'p', title: 't', category: 'c', currency: p.currency, kind: 'snapshots', firstDay: p.firstDay, price: p.prices, list: new Float64Array(p.prices.length).fill(Number.NaN) }, horizonDays, minDropPct).label);
}
