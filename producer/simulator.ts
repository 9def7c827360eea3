import type { RawRecord } from '../pipeline/base/raw-format';
import { between, hash32, normal, pick, unit } from './seeded-random';
import type { Source, SourceChunk, SourceContext } from './source';
import { DAY_MS, dayOf } from '../pipeline/base/time';

/**
 * The embedded market simulator: a seeded, deterministic market of N products.
 *
 * Every price is a pure function of (seed, product, time), so the same seed gives the same market
 * whatever range is asked for, and a restarted producer continues the same history. The dynamics
 * are chosen so a forecaster has something to learn (drops are partly predictable from history):
 * - regular price: stable, with occasional permanent rises and markdowns (30-day windows);
 *   a rise is often followed by a markdown one or two windows later (post-rise markdown);
 * - promotions on a product-specific cycle (period, length and depth fixed per product), which
 *   happen on most cycles: "days since last promotion" predicts the next one;
 * - seasonal sale events on the calendar (January sales, summer sale, Prime-Day-style mid July,
 *   back to school, Singles' Day, Black Friday to Cyber Monday, after-Christmas), with a pre-event
 *   price rise for participating products in the two weeks before Black Friday;
 * - competitor-style undercutting (a few percent, a day at a time), frequent in electronics;
 * - category-specific volatility (daily noise in electronics, none on groceries' shelf prices).
 * `old_price` is the regular price while the product sells below it, else null (a "was" price).
 */

export interface SimulatorOptions {
  products: number;
  seed: number;
  /** Seconds between live observations of each product (fractions allowed). */
  intervalSeconds: number;
  /** Days of history emitted first, one observation per product per day, ending before now. */
  backfillDays: number;
  /** The clock (tests pin it). */
  now?: () => number;
}

export interface CategoryProfile {
  name: string;
  /** Median and log-sd of the base price. */
  priceMedian: number;
  priceSpread: number;
  /** Daily price noise (fraction); 0 keeps shelf prices sticky. */
  volatility: number;
  promoPeriodDays: readonly [number, number];
  promoLengthDays: readonly [number, number];
  promoDepth: readonly [number, number];
  /** Chance a product of this category joins a given seasonal event. */
  eventParticipation: number;
  /** Chance per day of a competitor-style undercut. */
  undercutRate: number;
  brands: readonly string[];
  nouns: readonly string[];
  variants: readonly string[];
}

export const CATEGORIES: readonly CategoryProfile[] = [
  {
    name: 'electronics', priceMedian: 180, priceSpread: 0.9, volatility: 0.01,
    promoPeriodDays: [28, 56], promoLengthDays: [3, 7], promoDepth: [0.1, 0.25], eventParticipation: 0.8, undercutRate: 0.08,
    brands: ['Sonex', 'Voltra', 'Kairo', 'Lumio', 'Nexa', 'Orbit'],
    nouns: ['Wireless Earbuds', 'Bluetooth Speaker', '4K Monitor', 'Smartwatch', 'Tablet', 'Gaming Mouse', 'Mechanical Keyboard', 'Action Camera', 'Power Bank', 'Noise-Cancelling Headphones'],
    variants: ['Black', 'White', '64 GB', '128 GB', 'Pro', 'Lite'],
  },
  {
    name: 'groceries', priceMedian: 4.5, priceSpread: 0.6, volatility: 0,
    promoPeriodDays: [14, 28], promoLengthDays: [5, 7], promoDepth: [0.1, 0.33], eventParticipation: 0.2, undercutRate: 0.01,
    brands: ['Green Valley', 'Daily Harvest', 'Casa Rica', 'Nordic Farm', 'Sunfield'],
    nouns: ['Olive Oil', 'Coffee Beans', 'Pasta', 'Greek Yoghurt', 'Basmati Rice', 'Dark Chocolate', 'Orange Juice', 'Granola', 'Tomato Sauce', 'Almond Milk'],
    variants: ['500 g', '1 kg', '1 l', '250 g', '6 pack'],
  },
  {
    name: 'home', priceMedian: 45, priceSpread: 0.8, volatility: 0.002,
    promoPeriodDays: [30, 60], promoLengthDays: [4, 10], promoDepth: [0.15, 0.3], eventParticipation: 0.6, undercutRate: 0.02,
    brands: ['Hearth', 'Nordhem', 'CasaBella', 'Tidy', 'Loft & Co'],
    nouns: ['Cotton Bedsheet Set', 'Non-Stick Frying Pan', 'Desk Lamp', 'Storage Baskets', 'Bath Towels', 'Cordless Vacuum', 'Throw Pillow', 'Knife Set'],
    variants: ['Queen', 'King', 'Grey', 'Oak', 'Set of 3'],
  },
  {
    name: 'fashion', priceMedian: 40, priceSpread: 0.7, volatility: 0,
    promoPeriodDays: [35, 70], promoLengthDays: [5, 14], promoDepth: [0.2, 0.5], eventParticipation: 0.7, undercutRate: 0.01,
    brands: ['Urbane', 'Kith & Kin', 'Maritime', 'Fjord', 'Atelier Nine'],
    nouns: ['Denim Jacket', 'Running Sneakers', 'Wool Scarf', 'Linen Shirt', 'Leather Belt', 'Hoodie', 'Chino Trousers', 'Rain Coat'],
    variants: ['S', 'M', 'L', 'XL', 'Navy', 'Olive'],
  },
  {
    name: 'beauty', priceMedian: 22, priceSpread: 0.6, volatility: 0,
    promoPeriodDays: [21, 42], promoLengthDays: [4, 8], promoDepth: [0.1, 0.3], eventParticipation: 0.6, undercutRate: 0.02,
    brands: ['Lumière', 'Botanica', 'Glow Lab', 'Pure Skin', 'Velvet'],
    nouns: ['Face Serum', 'Moisturiser', 'Shampoo', 'Lipstick', 'Sunscreen SPF 50', 'Eau de Parfum', 'Hair Dryer'],
    variants: ['30 ml', '50 ml', '200 ml', 'Rose', 'Nude'],
  },
  {
    name: 'toys', priceMedian: 30, priceSpread: 0.7, volatility: 0,
    promoPeriodDays: [30, 60], promoLengthDays: [5, 10], promoDepth: [0.15, 0.35], eventParticipation: 0.75, undercutRate: 0.03,
    brands: ['Brickworks', 'TinyTots', 'PlayFox', 'Wonder Co'],
    nouns: ['Building Blocks Set', 'Plush Bear', 'Remote Control Car', 'Puzzle 1000 pieces', 'Board Game', 'Doll House'],
    variants: ['Classic', 'Deluxe', 'Junior', 'Family Edition'],
  },
  {
    name: 'sports', priceMedian: 55, priceSpread: 0.8, volatility: 0.002,
    promoPeriodDays: [30, 60], promoLengthDays: [4, 10], promoDepth: [0.15, 0.35], eventParticipation: 0.6, undercutRate: 0.03,
    brands: ['Stride', 'Peakline', 'AquaPro', 'Ironclad', 'Trailhead'],
    nouns: ['Yoga Mat', 'Dumbbell Pair', 'Trail Running Shoes', 'Cycling Helmet', 'Tennis Racket', 'Water Bottle', 'Fitness Tracker'],
    variants: ['5 kg', '10 kg', 'Blue', 'Red', 'Size 42'],
  },
  {
    name: 'books', priceMedian: 14, priceSpread: 0.4, volatility: 0,
    promoPeriodDays: [42, 90], promoLengthDays: [3, 7], promoDepth: [0.1, 0.3], eventParticipation: 0.4, undercutRate: 0.04,
    brands: ['Penguin Press', 'Harbor Books', 'Lighthouse', 'Quill'],
    nouns: ['Cookbook', 'Thriller Novel', 'Travel Guide', 'Children\u2019s Picture Book', 'Science Fiction Saga', 'Biography'],
    variants: ['Paperback', 'Hardcover', 'Box Set'],
  },
  {
    name: 'pet supplies', priceMedian: 18, priceSpread: 0.7, volatility: 0,
    promoPeriodDays: [21, 45], promoLengthDays: [5, 7], promoDepth: [0.1, 0.25], eventParticipation: 0.3, undercutRate: 0.02,
    brands: ['Happy Paws', 'Whisker', 'Wild Trail'],
    nouns: ['Dry Dog Food', 'Cat Litter', 'Chew Toy', 'Pet Bed', 'Fish Food'],
    variants: ['2 kg', '7 kg', 'Medium', 'Large'],
  },
];

const CURRENCIES: readonly [string, number][] = [['USD', 0.5], ['EUR', 0.3], ['GBP', 0.12], ['CAD', 0.08]];

/** The seasonal sale calendar. Days are [month (1-12), day] inclusive ranges in UTC. */
interface SaleEvent {
  name: string;
  /** Returns the event's first and last day (days since epoch) for a given year. */
  span(year: number): [number, number];
  depth: readonly [number, number];
  categories: readonly string[] | 'all';
}

function calendarDay(year: number, month: number, day: number): number {
  return dayOf(Date.UTC(year, month - 1, day));
}

function thanksgiving(year: number): number {
  const first = new Date(Date.UTC(year, 10, 1)).getUTCDay();
  return 1 + ((4 - first + 7) % 7) + 21;
}

const EVENTS: readonly SaleEvent[] = [
  { name: 'january-sales', span: (y) => [calendarDay(y, 1, 2), calendarDay(y, 1, 12)], depth: [0.2, 0.4], categories: ['fashion', 'home', 'beauty', 'sports'] },
  { name: 'summer-sale', span: (y) => [calendarDay(y, 6, 20), calendarDay(y, 6, 30)], depth: [0.15, 0.35], categories: ['fashion', 'sports', 'home'] },
  { name: 'prime-days', span: (y) => [calendarDay(y, 7, 9), calendarDay(y, 7, 12)], depth: [0.15, 0.35], categories: 'all' },
  { name: 'back-to-school', span: (y) => [calendarDay(y, 8, 10), calendarDay(y, 8, 24)], depth: [0.1, 0.25], categories: ['books', 'electronics', 'fashion'] },
  { name: 'singles-day', span: (y) => [calendarDay(y, 11, 11), calendarDay(y, 11, 11)], depth: [0.15, 0.3], categories: ['electronics', 'fashion', 'beauty'] },
  { name: 'black-friday', span: (y) => [calendarDay(y, 11, thanksgiving(y) + 1), calendarDay(y, 11, thanksgiving(y) + 4)], depth: [0.2, 0.45], categories: 'all' },
  { name: 'after-christmas', span: (y) => [calendarDay(y, 12, 26), calendarDay(y, 12, 31)], depth: [0.2, 0.4], categories: 'all' },
];
const BLACK_FRIDAY = EVENTS.findIndex((event) => event.name === 'black-friday');

/** One simulated product: its fixed traits, drawn once from the seed. */
export interface SimulatedProduct {
  index: number;
  id: string;
  title: string;
  category: CategoryProfile;
  currency: string;
  basePrice: number;
  promoPeriod: number;
  promoPhase: number;
  promoLength: number;
  promoDepth: number;
  windowPhase: number;
}

/** The catalogue of a seed: `count` products with their traits. */
export function simulatedCatalogue(count: number, seed: number): SimulatedProduct[] {
  const products: SimulatedProduct[] = [];
  for (let index = 0; index < count; index++) {
    const category = pick(CATEGORIES, seed, index, 1);
    const brand = pick(category.brands, seed, index, 2);
    const noun = pick(category.nouns, seed, index, 3);
    const variant = pick(category.variants, seed, index, 4);
    let roll = unit(seed, index, 5);
    let currency = 'USD';
    for (const [code, share] of CURRENCIES) {
      if (roll < share) {
        currency = code;
        break;
      }
      roll -= share;
    }
    const basePrice = category.priceMedian * Math.exp(category.priceSpread * normal(seed, index, 6));
    const [pMin, pMax] = category.promoPeriodDays;
    const promoPeriod = Math.round(between(seed, pMin, pMax + 1, index, 7) - 0.5);
    const [lMin, lMax] = category.promoLengthDays;
    products.push({
      index,
      id: `sim-${String(index + 1).padStart(5, '0')}`,
      title: `${brand} ${noun}, ${variant}`,
      category,
      currency,
      basePrice,
      promoPeriod,
      promoPhase: hash32(seed, index, 8) % promoPeriod,
      promoLength: Math.min(promoPeriod - 1, Math.round(between(seed, lMin, lMax + 1, index, 9) - 0.5)),
      promoDepth: between(seed, category.promoDepth[0], category.promoDepth[1], index, 10),
      windowPhase: hash32(seed, index, 11) % 30,
    });
  }
  return products;
}

const WINDOW_DAYS = 30;
/** A regular-price change stays in effect for this many windows (about a year), which keeps prices bounded. */
const WINDOW_MEMORY = 12;

/** The calendar facts of one day, shared by every product (computed once per day). */
interface DayFacts {
  day: number;
  year: number;
  /** Per event: whether the day falls inside it. */
  inEvent: boolean[];
  /** Days until this year's Black Friday (negative after it). */
  untilBlackFriday: number;
}

/** The deterministic price model behind the simulator (exported for tests and the bench). */
export class MarketModel {
  /** Per product: the regular-price window last computed (backfill and live both move forward in time). */
  private readonly windowCache = new Map<number, { window: number; logBefore: number; logFactor: number; offset: number }>();
  private facts: DayFacts | undefined;

  constructor(readonly seed: number, readonly products: readonly SimulatedProduct[]) {}

  private dayFacts(day: number): DayFacts {
    if (this.facts?.day === day) return this.facts;
    const year = new Date(day * DAY_MS).getUTCFullYear();
    const inEvent = EVENTS.map((event) => {
      const [start, end] = event.span(year);
      return day >= start && day <= end;
    });
    this.facts = { day, year, inEvent, untilBlackFriday: EVENTS[BLACK_FRIDAY]!.span(year)[0] - day };
    return this.facts;
  }

  /** The log change a window brings to a product's regular price, and the day within the window it happens. */
  private windowChange(product: SimulatedProduct, window: number): { logFactor: number; offset: number } {
    const seed = this.seed;
    const roll = unit(seed, product.index, window, 21);
    const offset = hash32(seed, product.index, window, 22) % WINDOW_DAYS;
    let logFactor = 0;
    if (roll < 0.12) logFactor = Math.log(1 + between(seed, 0.04, 0.15, product.index, window, 23));
    else if (roll < 0.2) logFactor = Math.log(1 - between(seed, 0.05, 0.2, product.index, window, 24));
    // Post-rise markdown: a rise in one of the two previous windows is often taken back.
    for (const back of [1, 2]) {
      const previous = unit(seed, product.index, window - back, 21);
      if (previous < 0.12 && unit(seed, product.index, window, 25 + back) < 0.35) {
        logFactor += Math.log(1 - between(seed, 0.05, 0.15, product.index, window, 27 + back));
      }
    }
    return { logFactor, offset };
  }

  /** The regular (list) price on a day, before promotions and events. */
  regularPrice(product: SimulatedProduct, day: number): number {
    const shifted = day + product.windowPhase;
    const current = Math.floor(shifted / WINDOW_DAYS);
    let cached = this.windowCache.get(product.index);
    if (!cached || cached.window !== current) {
      let logBefore = 0;
      for (let window = current - WINDOW_MEMORY + 1; window < current; window++) logBefore += this.windowChange(product, window).logFactor;
      cached = { window: current, logBefore, ...this.windowChange(product, current) };
      this.windowCache.set(product.index, cached);
    }
    const logSum = cached.logBefore + (shifted - current * WINDOW_DAYS >= cached.offset ? cached.logFactor : 0);
    let price = product.basePrice * Math.exp(logSum);
    // Pre-event rise: participants of Black Friday climb ~5% in the two weeks before it.
    const facts = this.dayFacts(day);
    if (facts.untilBlackFriday > 0 && facts.untilBlackFriday <= 14 && this.joinsEvent(product, BLACK_FRIDAY, facts.year)) price *= 1.05;
    return price;
  }

  private joinsEvent(product: SimulatedProduct, eventIndex: number, year: number): boolean {
    const event = EVENTS[eventIndex]!;
    if (event.categories !== 'all' && !event.categories.includes(product.category.name)) return false;
    return unit(this.seed, product.index, year, 40 + eventIndex) < product.category.eventParticipation;
  }

  /** The discount (fraction) in force on a day: the deepest of promotion and seasonal event, then undercut. */
  discount(product: SimulatedProduct, day: number): number {
    const seed = this.seed;
    let best = 0;
    const cyclePosition = day + product.promoPhase;
    const cycle = Math.floor(cyclePosition / product.promoPeriod);
    if (cyclePosition - cycle * product.promoPeriod < product.promoLength && unit(seed, product.index, cycle, 31) < 0.8) {
      best = product.promoDepth * between(seed, 0.85, 1.15, product.index, cycle, 32);
    }
    const facts = this.dayFacts(day);
    for (let e = 0; e < EVENTS.length; e++) {
      if (!facts.inEvent[e] || !this.joinsEvent(product, e, facts.year)) continue;
      const event = EVENTS[e]!;
      best = Math.max(best, between(seed, event.depth[0], event.depth[1], product.index, facts.year, 50 + e));
    }
    if (unit(seed, product.index, day, 33) < product.category.undercutRate) {
      best = 1 - (1 - best) * (1 - between(seed, 0.01, 0.05, product.index, day, 34));
    }
    return best;
  }

  /** The observed shelf price and "was" price at a time. */
  observe(product: SimulatedProduct, timeMs: number): { price: number; oldPrice: number | null } {
    const day = dayOf(timeMs);
    const regular = shelfPrice(this.regularPrice(product, day));
    const noise = product.category.volatility > 0 ? 1 + product.category.volatility * normal(this.seed, product.index, day, 35) : 1;
    const price = shelfPrice(regular * (1 - this.discount(product, day)) * noise);
    return { price, oldPrice: price < regular ? regular : null };
  }
}

/** Psychological pricing: x.99 above 10, two decimals below. */
export function shelfPrice(value: number): number {
  if (value >= 10) return Math.max(0.99, Math.round(value) - 0.01);
  return Math.max(0.05, Math.round(value * 100) / 100);
}

/** The simulator source: backfill first (day-aligned timestamps at 12:00 UTC), then live on an interval grid. */
export function createSimulatorSource(options: SimulatorOptions): Source {
  const now = options.now ?? Date.now;
  const catalogue = simulatedCatalogue(options.products, options.seed);
  const model = new MarketModel(options.seed, catalogue);
  const intervalMs = Math.max(1, Math.round(options.intervalSeconds * 1000));

  function tick(timeMs: number): RawRecord[] {
    const observedAt = new Date(timeMs).toISOString();
    const records: RawRecord[] = new Array(catalogue.length);
    for (let i = 0; i < catalogue.length; i++) {
      const product = catalogue[i]!;
      const { price, oldPrice } = model.observe(product, timeMs);
      records[i] = {
        product_id: product.id,
        title: product.title,
        category: product.category.name,
        price,
        old_price: oldPrice,
        currency: product.currency,
        source: 'simulator',
        observed_at: observedAt,
      };
    }
    return records;
  }

  return {
    name: 'simulator',
    async *read(context: SourceContext): AsyncGenerator<SourceChunk> {
      const startedAt = now();
      const today = dayOf(startedAt);
      // Backfill: timestamps are aligned to 12:00 UTC of each past day, so a restart re-emits
      // identical rows (same dedup keys, same batch contents, same object keys).
      for (let back = options.backfillDays; back >= 1 && !context.signal.aborted; back--) {
        yield { records: tick((today - back) * DAY_MS + DAY_MS / 2), seal: back === 1 };
      }
      // Live: aligned to the interval grid, one observation per product per tick.
      let next = Math.ceil(now() / intervalMs) * intervalMs;
      while (!context.signal.aborted) {
        const wait = next - now();
        if (wait > 0) await context.sleep(wait);
        if (context.signal.aborted) break;
        yield { records: tick(next) };
        next += intervalMs;
        // After a long pause (laptop sleep) skip the missed ticks instead of bursting through them.
        if (now() - next > 10 * intervalMs) next = Math.ceil(now() / intervalMs) * intervalMs;
      }
    },
  };
}
