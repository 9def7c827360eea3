import { FEATURE_COUNT, forEachFeatureRow, type FeatureInputs } from './features';
import { MarketContext } from './market-context';
import type { ProductHistory } from './price-history';
import { episodesOf, outcomesOf, timelineOf, type DayOutcomes, type Episodes, type SourceKind, type Timeline } from './timeline';
import { dayOf } from '../pipeline/base/time';
import { seededSequence } from '../pipeline/base/seeded-sequence';

/**
 * From product histories to what training and the backtest read: each product's daily timeline,
 * discount episodes and outcomes, the market cross-section, and the time-ordered slices
 * train | gap H | validation | gap H | test. Reads no database: the caller streams histories in.
 */
export interface ProductDays {
  timeline: Timeline;
  episodes: Episodes;
  outcomes: DayOutcomes;
}

export interface ForecastData {
  horizonDays: number;
  minDropPct: number;
  products: ProductDays[];
  market: MarketContext;
  /** Sorted category names (the model's code table). */
  categories: string[];
  firstDay: number;
  lastDay: number;
  /** Per source, 1 on each day (index from firstDay) it observed any product: its snapshot days. */
  activeDays: Map<string, Uint8Array>;
}

export interface HistorySource {
  histories: Iterable<ProductHistory>;
  /** The kind of a source (snapshots or change log). */
  kindOf(source: string): SourceKind;
  /** A source's last observation time (epoch ms): a change log's prices hold up to it. */
  dataEndOf(source: string): number;
}

export interface PrepareOptions {
  horizonDays: number;
  minDropPct: number;
  onProgress?: (productsDone: number) => void;
  signal?: AbortSignal;
}

export function prepareData(input: HistorySource, options: PrepareOptions): ForecastData {
  const timelines: Timeline[] = [];
  let firstDay = Number.POSITIVE_INFINITY;
  let lastDay = Number.NEGATIVE_INFINITY;
  for (const history of input.histories) {
    if (timelines.length % 256 === 0) {
      options.signal?.throwIfAborted();
      options.onProgress?.(timelines.length);
    }
    const timeline = timelineOf(history, input.kindOf(history.source), dayOf(input.dataEndOf(history.source)));
    timelines.push(timeline);
    firstDay = Math.min(firstDay, timeline.firstDay);
    lastDay = Math.max(lastDay, timeline.firstDay + timeline.price.length - 1);
  }
  if (timelines.length === 0) throw new Error('no price history to learn from: fill the cache first (pricedrop etl, or pricedrop import)');
  const activeDays = sourceDays(timelines, firstDay, lastDay);
  const sourceEnds = new Map([...activeDays].map(([source, active]) => [source, firstDay + active.lastIndexOf(1)]));
  const products = timelines.map((timeline): ProductDays => {
    const active = activeDays.get(timeline.source)!;
    const outcomes = outcomesOf(timeline, options.horizonDays, options.minDropPct, (day) => active[day - firstDay] === 1, sourceEnds.get(timeline.source)!);
    return { timeline, episodes: episodesOf(timeline, options.minDropPct), outcomes };
  });
  const market = new MarketContext(firstDay, lastDay, options.horizonDays);
  for (const product of products) market.add(product.timeline, product.episodes, product.outcomes);
  market.finish();
  const categories = [...new Set(products.map((p) => p.timeline.category))].sort();
  return { horizonDays: options.horizonDays, minDropPct: options.minDropPct, products, market, categories, firstDay, lastDay, activeDays };
}

/** Per source, 1 on each day (from `firstDay`) on which any of its products has a known price. */
function sourceDays(timelines: readonly Timeline[], firstDay: number, lastDay: number): Map<string, Uint8Array> {
  const days = new Map<string, Uint8Array>();
  for (const timeline of timelines) {
    let active = days.get(timeline.source);
    if (!active) days.set(timeline.source, (active = new Uint8Array(lastDay - firstDay + 1)));
    const offset = timeline.firstDay - firstDay;
    for (let d = 0; d < timeline.price.length; d++) if (!Number.isNaN(timeline.price[d]!)) active[offset + d] = 1;
  }
  return days;
}

/** Inclusive epoch-day ranges of the three slices (decision days). */
export interface Slices {
  train: { from: number; to: number };
  validation: { from: number; to: number };
  test: { from: number; to: number };
}

/** Share of the decision span each of validation and test gets. */
const HELD_OUT_SHARE = 0.2;
/**
 * The least history (days from the first to the last observation) that gives every slice at least
 * H days of decisions, with the gaps: 84 days for H = 14, so a history of a few months trains (a
 * weak model on so little, which the report's slices and CIs make plain).
 */
export function minimumHistoryDays(horizonDays: number): number {
  return horizonDays + Math.ceil((3 * horizonDays) / (1 - 2 * HELD_OUT_SHARE));
}

/**
 * train | gap H | validation | gap H | test over the decision days (a decision on day d needs the
 * prices up to d + H, so the last one is lastDay − H). Validation and test take 20 % of the span
 * each (at least H days). A training label looks H days ahead, so training decisions end H days
 * before validation begins, and validation's H days before the test period.
 */
export function planSlices(data: Pick<ForecastData, 'firstDay' | 'lastDay' | 'horizonDays'>): Slices {
  const { firstDay, lastDay, horizonDays: h } = data;
  const lastDecision = lastDay - h;
  const span = lastDecision - firstDay + 1;
  if (lastDay - firstDay + 1 < minimumHistoryDays(h)) {
    throw new Error(`the history spans ${Math.max(0, lastDay - firstDay + 1)} days; a ${h}-day horizon needs at least ${minimumHistoryDays(h)} (training, validation and test periods with ${h}-day gaps)`);
  }
  const heldOut = Math.max(h, Math.round(span * HELD_OUT_SHARE));
  const test = { from: lastDecision - heldOut + 1, to: lastDecision };
  const validation = { from: test.from - h - heldOut, to: test.from - h - 1 };
  const train = { from: firstDay, to: validation.from - h - 1 };
  return { train, validation, test };
}

/** Rows of features with what they are learnt against, in a growing typed table. */
export interface FeatureTable {
  rows: number;
  /** Row-major: row i is x.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT). */
  x: Float32Array;
  label: Float32Array;
  maxDropPct: Float32Array;
  deadlineChangePct: Float32Array;
}

/**
 * The training rows: every product-day of the training slice with a known label, at most
 * `maxRows` of them (an even, seeded sample beyond that: product-days a day apart are near
 * duplicates, so a sample loses little and keeps training minutes, not hours, on big sources).
 */
export function trainingTable(data: ForecastData, slices: Slices, categoryCode: (category: string) => number, maxRows: number, seed: number): FeatureTable {
  let candidates = 0;
  for (const product of data.products) forEachKnownLabel(product, slices.train, () => candidates++);
  const keep = Math.min(1, maxRows / Math.max(1, candidates));
  const random = seededSequence(seed >>> 0 || 1);
  const capacity = Math.min(candidates, Math.ceil(candidates * keep) + 16);
  const table: FeatureTable = { rows: 0, x: new Float32Array(capacity * FEATURE_COUNT), label: new Float32Array(capacity), maxDropPct: new Float32Array(capacity), deadlineChangePct: new Float32Array(capacity) };
  for (const product of data.products) {
    const chosen = new Set<number>();
    forEachKnownLabel(product, slices.train, (d) => {
      if (keep >= 1 || random() < keep) chosen.add(d);
    });
    if (chosen.size === 0) continue;
    forEachFeatureRow(inputsOf(data, product, categoryCode), (d) => chosen.has(d), (d, row) => {
      if (table.rows === capacity) return;
      const i = table.rows++;
      table.x.set(row, i * FEATURE_COUNT);
      table.label[i] = product.outcomes.label[d]!;
      table.maxDropPct[i] = product.outcomes.maxDropPct[d]!;
      table.deadlineChangePct[i] = product.outcomes.deadlineChangePct[d]!;
    });
  }
  return table;
}

function forEachKnownLabel(product: ProductDays, range: { from: number; to: number }, visit: (d: number) => void): void {
  const { firstDay } = product.timeline;
  const from = Math.max(0, range.from - firstDay);
  const to = Math.min(product.timeline.price.length - 1, range.to - firstDay);
  for (let d = from; d <= to; d++) if (!Number.isNaN(product.outcomes.label[d]!)) visit(d);
}

export function inputsOf(data: ForecastData, product: ProductDays, categoryCode: (category: string) => number): FeatureInputs {
  const active = data.activeDays.get(product.timeline.source)!;
  return { ...product, market: data.market, categoryCode: categoryCode(product.timeline.category), horizonDays: data.horizonDays, activeDays: active.subarray(product.timeline.firstDay - data.firstDay) };
}

/** Column-major copies of some columns of a table's rows, as the forest trainer takes them. */
export function columnsOf(table: FeatureTable, rows: ArrayLike<number>): Float64Array[] {
  const columns = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const offset = (rows[r] as number) * FEATURE_COUNT;
    for (let f = 0; f < FEATURE_COUNT; f++) columns[f]![r] = table.x[offset + f]!;
  }
  return columns;
}
