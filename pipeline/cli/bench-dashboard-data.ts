/**
 * The synthetic cache of `pricedrop bench dashboard`: a catalogue of products over categories of
 * uneven size and a year of daily observations.
 */
import type { CleanRow } from '../cache/observation-writer';
import { seededSequence } from '../base/seeded-sequence';
import { computeDrop } from '../base/price-rules';
import { DAY_MS } from '../base/time';

export const YEAR_START = Date.UTC(2025, 0, 1);
export const DAYS = 365;

export function dayString(day: number): string {
  return new Date(YEAR_START + day * DAY_MS).toISOString().slice(0, 10);
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
 * A generated observation. observed_at is made from observed_ms when read (once, by the writer):
 * rows are generated before each transaction's clock starts, and a million ISO strings held
 * until then would only feed the garbage collector.
 */
class BenchRow implements CleanRow {
  source = '';
  product_id = '';
  observed_ms = 0;
  dt = '';
  title = '';
  category = '';
  price = 0;
  old_price: number | null = null;
  currency = 'EUR';
  drop_amount: number | null = null;
  drop_pct: number | null = null;
  is_drop = false;
  drop_label: 'drop' | 'no drop' = 'no drop';
  get observed_at(): string {
    return new Date(this.observed_ms).toISOString();
  }
}

/**
 * One day's observations into rows[at, at + count): each at a random time of that day; about one
 * in five is a drop. The drop columns are what the cleaning rules make of price and old price
 * (computeDrop), as in every row the ETL or the sync writes.
 */
function fillDay(random: () => number, cat: Catalogue, day: number, rows: BenchRow[], at: number, count: number): void {
  const dt = dayString(day);
  for (let i = at; i < at + count; i++) {
    const p = cat.products[Math.floor(random() * cat.products.length)] as Catalogue['products'][number];
    const row = (rows[i] ??= new BenchRow());
    row.source = p.source;
    row.product_id = p.id;
    row.observed_ms = YEAR_START + day * DAY_MS + Math.floor(random() * DAY_MS);
    row.dt = dt;
    row.title = p.title;
    row.category = p.category;
    const roll = random();
    const cut = roll < 0.2 ? Math.round((1 + random() * 49) * 100) / 100 : roll < 0.9 ? 0 : roll < 0.95 ? -Math.round(random() * 1000) / 100 : null;
    const oldPrice = cut === null ? null : p.base;
    row.price = cut === null ? p.base : Math.round(p.base * (1 - cut / 100) * 100) / 100;
    const drop = computeDrop(row.price, oldPrice);
    row.old_price = drop.old_price;
    row.drop_amount = drop.drop_amount;
    row.drop_pct = drop.drop_pct;
    row.is_drop = drop.is_drop;
    row.drop_label = drop.drop_label;
  }
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
 * undefined after the last. The row objects are reused by the next call (a transaction's rows
 * are garbage once written; a million new objects each time made the collector the ingest's
 * biggest cost).
 */
export function benchBatches(options: BenchDataOptions): { next(): { rows: CleanRow[]; dayRows: number[] } | undefined } {
  const random = seededSequence(options.seed);
  const cat = catalogue(random, options.products, options.categories);
  const pool: BenchRow[] = [];
  let day = 0;
  return {
    next() {
      if (day >= DAYS) return undefined;
      let n = 0;
      const counts: number[] = [];
      for (; day < DAYS && n < options.batchRows; day++) {
        const count = Math.floor(((day + 1) * options.rows) / DAYS) - Math.floor((day * options.rows) / DAYS);
        fillDay(random, cat, day, pool, n, count);
        n += count;
        counts.push(count);
      }
      return { rows: pool.slice(0, n), dayRows: counts };
    },
  };
}
