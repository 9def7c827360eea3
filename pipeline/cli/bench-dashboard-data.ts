/**
 * The synthetic cache of `pricedrop bench dashboard`: a catalogue of products over categories of
 * uneven size and a year of daily observations, shared by the command and its encoder thread.
 */
import type { CleanRow } from '../cache/observation-encoding';
import { seededSequence } from '../runtime/seeded-sequence';
import { computeDrop } from '../etl/price-rules';

export const YEAR_START = Date.UTC(2025, 0, 1);
export const DAYS = 365;

export function dayString(day: number): string {
  return new Date(YEAR_START + day * 86_400_000).toISOString().slice(0, 10);
}

export interface Catalogue {
  products: { source: string; id: string; title: string; category: string; base: number }[];
  categories: string[];
}

/** Many products over many categories of uneven size (a few big aisles, a long tail). */
export function catalogue(random: () => number, productCount: number, categoryCount: number): Catalogue {
  const categories = Array.from({ length: categoryCount }, (_, i) => `category-${String(i).padStart(3, '0')}`);
  const products = Array.from({ length: productCount }, (_, i) => {
    const category = categories[Math.min(categoryCount - 1, Math.floor(categoryCount * random() ** 2))] as string;
    // Whole cents from 1.00 to 51.00, as sources give prices (a parsed decimal, not a sum of doubles).
    return { source: i % 4 === 0 ? 'pnp' : 'mercadona', id: `sku-${i}`, title: `Product ${i}`, category, base: Math.round(100 + random() * 5000) / 100 };
  });
  return { products, categories };
}

/**
 * One day's observations: each sits at a random time of that day; about one in five is a drop.
 * The drop columns are what the cleaning rules make of price and old price (computeDrop), as in
 * every row the ETL or the sync writes.
 */
export function dayRows(random: () => number, cat: Catalogue, day: number, count: number): CleanRow[] {
  const dt = dayString(day);
  const rows: CleanRow[] = [];
  for (let i = 0; i < count; i++) {
    const p = cat.products[Math.floor(random() * cat.products.length)] as Catalogue['products'][number];
    const observedMs = YEAR_START + day * 86_400_000 + Math.floor(random() * 86_400_000);
    const observedAt = new Date(observedMs).toISOString();
    const roll = random();
    const cut = roll < 0.2 ? Math.round((1 + random() * 49) * 100) / 100 : roll < 0.9 ? 0 : roll < 0.95 ? -Math.round(random() * 1000) / 100 : null;
    const oldPrice = cut === null ? null : p.base;
    const price = cut === null ? p.base : Math.round(p.base * (1 - cut / 100) * 100) / 100;
    rows.push({
      source: p.source,
      product_id: p.id,
      observed_at: observedAt,
      observed_ms: observedMs,
      dt,
      title: p.title,
      category: p.category,
      price,
      currency: 'EUR',
      ...computeDrop(price, oldPrice),
    });
  }
  return rows;
}

export interface BenchDataOptions {
  rows: number;
  products: number;
  categories: number;
  seed: number;
  /** Rows per ingest transaction, in whole days. */
  batchRows: number;
}

/**
 * The bench's rows as transactions of whole days (as the ETL commits whole files) of at least
 * `batchRows` rows; `next()` gives the following one (with the row count of each of its days),
 * undefined after the last.
 */
export function benchBatches(options: BenchDataOptions): { next(): { rows: CleanRow[]; dayRows: number[] } | undefined } {
  const random = seededSequence(options.seed);
  const cat = catalogue(random, options.products, options.categories);
  let day = 0;
  return {
    next() {
      if (day >= DAYS) return undefined;
      const rows: CleanRow[] = [];
      const counts: number[] = [];
      for (; day < DAYS && rows.length < options.batchRows; day++) {
        const count = Math.floor(((day + 1) * options.rows) / DAYS) - Math.floor((day * options.rows) / DAYS);
        for (const row of dayRows(random, cat, day, count)) rows.push(row);
        counts.push(count);
      }
      return { rows, dayRows: counts };
    },
  };
}
