import type { DropFields, ValidRow } from '../pipeline/base/price-rules';
import { createRandom } from './forest/random-forest';
import { DAY_MS, HOUR_MS } from '../pipeline/base/time';

/**
 * Small, learnable price histories for the forecaster's tests (pipeline/forecasting/fixture-cache.ts
 * writes them into a cache for anyone who needs a trained model without the ETL): each product
 * runs promotions on its own cycle (every 3–5 weeks, 10–30 % off for a week), so "a drop is
 * coming" is predictable from the time since the last promotion, which is what the forest should find.
 */
export interface FixtureOptions {
  products?: number;
  days?: number;
  seed?: number;
  /** 'snapshots': a row per product per day; 'changes': a row only when the price changes. */
  mode?: 'snapshots' | 'changes';
  start?: string;
  source?: string;
  currency?: string | ((product: number) => string);
  /** Leave out observations between these days (a gap in the scraping). */
  gap?: { fromDay: number; toDay: number };
}

/**
 * A fixture row is a cleaned observation, as the cleaning rules make it and the ETL's writer
 * stores it (its `CleanRow`, with the instant left to be parsed from observed_at).
 */
export type FixtureRow = Omit<ValidRow, 'observed_ms'> & DropFields;

/** Generates the rows (sorted by product, then time). */
export function fixtureRows(options: FixtureOptions = {}): FixtureRow[] {
  const products = options.products ?? 40;
  const days = options.days ?? 240;
  const random = createRandom(options.seed ?? 1);
  const start = Date.parse(options.start ?? '2025-01-01T08:00:00Z');
  const source = options.source ?? 'fixture';
  const rows: FixtureRow[] = [];
  for (let p = 0; p < products; p++) {
    const category = ['dairy', 'bakery', 'snacks', 'drinks'][p % 4]!;
    const currency = typeof options.currency === 'function' ? options.currency(p) : (options.currency ?? 'EUR');
    const regular = Math.round((2 + random() * 30) * 100) / 100;
    const cycle = 21 + Math.floor(random() * 15);
    const offset = Math.floor(random() * cycle);
    const promoLength = 5 + Math.floor(random() * 5);
    const discount = 0.1 + random() * 0.2;
    let lastPrice = Number.NaN;
    for (let d = 0; d < days; d++) {
      if (options.gap && d >= options.gap.fromDay && d < options.gap.toDay) continue;
      const inPromo = (d + offset) % cycle < promoLength;
      const price = inPromo ? Math.round(regular * (1 - discount) * 100) / 100 : regular;
      if (options.mode === 'changes' && price === lastPrice) continue;
      const previous = lastPrice;
      lastPrice = price;
      const observedAt = new Date(start + d * DAY_MS + Math.floor(random() * HOUR_MS));
      const oldPrice = inPromo ? regular : options.mode === 'changes' && !Number.isNaN(previous) ? previous : null;
      const dropAmount = oldPrice === null ? null : Math.round((oldPrice - price) * 100) / 100;
      const dropPct = oldPrice === null || dropAmount === null ? null : Math.round((10000 * dropAmount) / oldPrice) / 100;
      const isDrop = dropPct !== null && dropPct >= 5;
      rows.push({
        source,
        product_id: `P${String(p).padStart(4, '0')}`,
        observed_at: observedAt.toISOString(),
        dt: observedAt.toISOString().slice(0, 10),
        title: `Product ${p} (${category})`,
        category,
        price,
        old_price: oldPrice,
        currency,
        drop_amount: dropAmount,
        drop_pct: dropPct,
        is_drop: isDrop,
        drop_label: isDrop ? 'drop' : 'no drop',
      });
    }
  }
  return rows;
}
