import type { MarketContext } from './market-context';
import type { DayOutcomes, Episodes, Timeline } from './timeline';
import { DAY_MS } from '../pipeline/base/time';

/**
 * The forecaster's features: ONE module, used for training, by the desktop predictor and by the
 * headless server (through the bundle's feature vectors), so a feature means the same everywhere.
 *
 * Features are computed on a product's daily timeline (timeline.ts) in one forward pass, from days
 * ≤ d only; labels of earlier days enter only once their horizon has passed (day ≤ d − H). The
 * test "changing future prices does not change past features" holds this in place for every
 * feature. They carry how prices really move: where the price sits against its own past, how
 * often and how deep this product's discounts recur and where it is in that cycle, the calendar,
 * and what the rest of its source and category is doing.
 */

/** Bumped whenever a feature's definition or order changes; stored in model files. */
export const FEATURE_SCHEMA_VERSION = 2;

/** Windows of the rolling min / max / mean features (days, today included). */
export const WINDOWS = [7, 30, 60, 90, 180, 365] as const;

type WindowFeature = `rel_${'min' | 'max' | 'mean'}_${(typeof WINDOWS)[number]}d`;
const WINDOW_FEATURES = WINDOWS.flatMap((w) => [`rel_min_${w}d`, `rel_max_${w}d`, `rel_mean_${w}d`] as WindowFeature[]);

/** Feature names, in vector order. Percentages are 0–100; `rel_x` = 100 × (price / x − 1). */
export const FEATURE_NAMES = [
  'price',
  'list_discount_pct',
  ...WINDOW_FEATURES,
  'rel_all_time_low',
  'rel_regular',
  'on_drop',
  'current_discount_pct',
  'discount_vs_usual_pct',
  'days_since_change',
  'days_since_rise',
  'days_since_fall',
  'last_change_pct',
  'changes_30d',
  'drops_90d',
  'drops_180d',
  'drops_365d',
  'typical_gap_days',
  'days_since_drop_start',
  'days_since_drop_end',
  'cycle_position',
  'days_to_expected_drop',
  'last_depth_pct',
  'typical_depth_pct',
  'deepest_depth_pct',
  'past_drop_rate',
  'past_drop_rate_180d',
  'past_labels',
  'day_of_year_sin',
  'day_of_year_cos',
  'day_of_week',
  'dropped_year_ago',
  'source_on_drop_share',
  'source_start_share_7d',
  'category_on_drop_share',
  'category_start_share_7d',
  'category_drop_rate_90d',
  'source_drop_rate_90d',
  'history_days',
  'observed_share_30d',
  'category_code',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;
export const F = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, i])) as Record<FeatureName, number>;

/** "Never" for day counts (no drop yet, no change yet). */
export const NEVER_DAYS = 9999;

/** What one product's feature pass reads. */
export interface FeatureInputs {
  timeline: Timeline;
  episodes: Episodes;
  outcomes: DayOutcomes;
  market: MarketContext;
  /** The category's code in the model's table (−1 for a category it never saw). */
  categoryCode: number;
  horizonDays: number;
  /** 1 on the days (index as the timeline's) the product's source observed anything. */
  activeDays: Uint8Array;
}

/**
 * Walks a product's days in order and calls `emit(d, row)` on every day with a known price for
 * which `wanted(d)` holds (d = index into the timeline). `row` is reused: copy what you keep.
 */
export function forEachFeatureRow(inputs: FeatureInputs, wanted: (d: number) => boolean, emit: (d: number, row: Float64Array) => void): void {
  const { timeline, episodes, outcomes, horizonDays } = inputs;
  const market = inputs.market.view(timeline.source, timeline.category);
  const { price, list } = timeline;
  const n = price.length;
  const row = new Float64Array(FEATURE_COUNT);
  const windows = WINDOWS.map((w) => new RollingWindow(w));
  const episodeLog = new EpisodeLog();
  const labelPrefix = new Float64Array(n + 1);
  const labelKnownPrefix = new Float64Array(n + 1);
  const knownPrefix = new Float64Array(n + 1);
  const activePrefix = new Float64Array(n + 1);
  for (let d = 0; d < n; d++) {
    activePrefix[d + 1] = activePrefix[d]! + (inputs.activeDays[d] ?? 0);
    const label = outcomes.label[d]!;
    labelPrefix[d + 1] = labelPrefix[d]! + (Number.isNaN(label) ? 0 : label);
    labelKnownPrefix[d + 1] = labelKnownPrefix[d]! + (Number.isNaN(label) ? 0 : 1);
    knownPrefix[d + 1] = knownPrefix[d]! + (Number.isNaN(price[d]!) ? 0 : 1);
  }
  const changeDays: number[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  let previous = Number.NaN;
  let lastChange = -1;
  let lastRise = -1;
  let lastFall = -1;
  let lastChangePct = 0;

  for (let d = 0; d < n; d++) {
    const today = price[d]!;
    if (Number.isNaN(today)) continue;
    for (const window of windows) window.push(d, today);
    lowest = Math.min(lowest, today);
    if (!Number.isNaN(previous) && today !== previous) {
      lastChange = d;
      lastChangePct = relative(today, previous);
      if (today > previous) lastRise = d;
      else lastFall = d;
      changeDays.push(d);
    }
    previous = today;
    const regular = episodes.regular[d]!;
    episodeLog.observe(d, episodes.starts[d] === 1, episodes.onDrop[d] === 1, regular > 0 ? (100 * (regular - today)) / regular : 0);
    if (!wanted(d)) continue;

    row[F.price] = today;
    const shownList = list[d]!;
    row[F.list_discount_pct] = shownList > today ? (100 * (shownList - today)) / shownList : 0;
    windows.forEach((window, w) => {
      row[F.rel_min_7d + 3 * w] = relative(today, window.min());
      row[F.rel_max_7d + 3 * w] = relative(today, window.max());
      row[F.rel_mean_7d + 3 * w] = relative(today, window.mean());
    });
    row[F.rel_all_time_low] = relative(today, lowest);
    row[F.rel_regular] = relative(today, regular);
    row[F.on_drop] = episodes.onDrop[d]!;
    const discount = regular > 0 ? Math.max(0, (100 * (regular - today)) / regular) : 0;
    row[F.current_discount_pct] = discount;
    row[F.days_since_change] = lastChange >= 0 ? d - lastChange : d;
    row[F.days_since_rise] = lastRise >= 0 ? d - lastRise : NEVER_DAYS;
    row[F.days_since_fall] = lastFall >= 0 ? d - lastFall : NEVER_DAYS;
    row[F.last_change_pct] = lastChangePct;
    let recentChanges = 0;
    for (let i = changeDays.length - 1; i >= 0 && changeDays[i]! > d - 30; i--) recentChanges++;
    row[F.changes_30d] = recentChanges;
    episodeLog.describe(d, row);
    row[F.discount_vs_usual_pct] = row[F.typical_depth_pct]! > 0 ? discount - row[F.typical_depth_pct]! : 0;

    // Labels of days ≤ d − H are known on day d.
    const knownTo = d - horizonDays + 1; // prefix index: days < knownTo
    const allKnown = knownTo > 0 ? labelKnownPrefix[knownTo]! : 0;
    row[F.past_labels] = allKnown;
    row[F.past_drop_rate] = allKnown > 0 ? labelPrefix[knownTo]! / allKnown : -1;
    const from180 = Math.max(0, knownTo - 180);
    const known180 = knownTo > 0 ? labelKnownPrefix[knownTo]! - labelKnownPrefix[from180]! : 0;
    row[F.past_drop_rate_180d] = known180 > 0 ? (labelPrefix[knownTo]! - labelPrefix[from180]!) / known180 : -1;

    const day = timeline.firstDay + d;
    const date = new Date(day * DAY_MS);
    const dayOfYear = (Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS;
    row[F.day_of_year_sin] = Math.sin((2 * Math.PI * dayOfYear) / 365.25);
    row[F.day_of_year_cos] = Math.cos((2 * Math.PI * dayOfYear) / 365.25);
    row[F.day_of_week] = date.getUTCDay();
    row[F.dropped_year_ago] = d - 372 >= 0 ? (episodeLog.startsBetween(d - 372, d - 358) > 0 ? 1 : 0) : -1;

    row[F.source_on_drop_share] = market.onDropShare('source', day);
    row[F.source_start_share_7d] = market.startShare('source', day);
    row[F.category_on_drop_share] = market.onDropShare('category', day);
    row[F.category_start_share_7d] = market.startShare('category', day);
    row[F.category_drop_rate_90d] = market.labelRate('category', day);
    row[F.source_drop_rate_90d] = market.labelRate('source', day);
    row[F.history_days] = d;
    const from30 = Math.max(0, d - 29);
    row[F.observed_share_30d] = (knownPrefix[d + 1]! - knownPrefix[from30]!) / Math.max(1, activePrefix[d + 1]! - activePrefix[from30]!);
    row[F.category_code] = inputs.categoryCode;
    emit(d, row);
  }
}

/** The feature vector of the last known day of a product (what a prediction uses), or undefined. */
export function latestFeatures(inputs: FeatureInputs): { day: number; features: Float64Array } | undefined {
  let last = -1;
  for (let d = inputs.timeline.price.length - 1; d >= 0; d--) {
    if (!Number.isNaN(inputs.timeline.price[d]!)) {
      last = d;
      break;
    }
  }
  if (last < 0) return undefined;
  let features: Float64Array | undefined;
  forEachFeatureRow(inputs, (d) => d === last, (_d, row) => (features = Float64Array.from(row)));
  return features ? { day: inputs.timeline.firstDay + last, features } : undefined;
}

function relative(price: number, reference: number): number {
  return reference > 0 ? 100 * (price / reference - 1) : 0;
}

/** Min, max and mean of the known prices in the last `days` days (today included): monotonic deques. */
class RollingWindow {
  private readonly minDays: number[] = [];
  private readonly minValues: number[] = [];
  private readonly maxDays: number[] = [];
  private readonly maxValues: number[] = [];
  private readonly days: number[] = [];
  private readonly values: number[] = [];
  private head = 0;
  private sum = 0;

  constructor(private readonly length: number) {}

  push(day: number, value: number): void {
    while (this.minValues.length > 0 && this.minValues[this.minValues.length - 1]! >= value) {
      this.minValues.pop();
      this.minDays.pop();
    }
    this.minValues.push(value);
    this.minDays.push(day);
    while (this.maxValues.length > 0 && this.maxValues[this.maxValues.length - 1]! <= value) {
      this.maxValues.pop();
      this.maxDays.pop();
    }
    this.maxValues.push(value);
    this.maxDays.push(day);
    this.days.push(day);
    this.values.push(value);
    this.sum += value;
    const oldest = day - this.length + 1;
    while (this.minDays[0]! < oldest) {
      this.minDays.shift();
      this.minValues.shift();
    }
    while (this.maxDays[0]! < oldest) {
      this.maxDays.shift();
      this.maxValues.shift();
    }
    while (this.days[this.head]! < oldest) this.sum -= this.values[this.head++]!;
    if (this.head > 1024) {
      this.days.splice(0, this.head);
      this.values.splice(0, this.head);
      this.head = 0;
    }
  }

  min(): number {
    return this.minValues[0]!;
  }

  max(): number {
    return this.maxValues[0]!;
  }

  mean(): number {
    return this.sum / (this.days.length - this.head);
  }
}

/** The product's discount episodes so far: when they started and ended, how deep they went. */
class EpisodeLog {
  private readonly startDays: number[] = [];
  private readonly gaps: number[] = [];
  private readonly depths: number[] = [];
  private lastEnd = -1;
  private lastDepth = 0;
  private onDrop = false;
  private currentDepth = 0;

  observe(d: number, starts: boolean, onDrop: boolean, discountPct: number): void {
    if (starts) {
      if (this.startDays.length > 0) insertSorted(this.gaps, d - this.startDays[this.startDays.length - 1]!);
      this.startDays.push(d);
      this.currentDepth = 0;
    }
    if (onDrop) this.currentDepth = Math.max(this.currentDepth, discountPct);
    if (this.onDrop && !onDrop) {
      this.lastEnd = d;
      this.lastDepth = this.currentDepth;
      insertSorted(this.depths, this.currentDepth);
    }
    this.onDrop = onDrop;
  }

  startsBetween(fromDay: number, toDay: number): number {
    let count = 0;
    for (let i = this.startDays.length - 1; i >= 0 && this.startDays[i]! >= fromDay; i--) if (this.startDays[i]! <= toDay) count++;
    return count;
  }

  describe(d: number, row: Float64Array): void {
    row[F.drops_90d] = this.startsBetween(d - 89, d);
    row[F.drops_180d] = this.startsBetween(d - 179, d);
    row[F.drops_365d] = this.startsBetween(d - 364, d);
    const gap = median(this.gaps);
    row[F.typical_gap_days] = Number.isNaN(gap) ? -1 : gap;
    const lastStart = this.startDays.length > 0 ? this.startDays[this.startDays.length - 1]! : -1;
    const sinceStart = lastStart >= 0 ? d - lastStart : NEVER_DAYS;
    row[F.days_since_drop_start] = sinceStart;
    row[F.days_since_drop_end] = this.onDrop ? 0 : this.lastEnd >= 0 ? d - this.lastEnd : NEVER_DAYS;
    // A discount cycle can skip a turn: the position counts whole periods off, so the next
    // expected start stays right after a skipped one.
    const period = Math.round(gap);
    const cycled = !Number.isNaN(gap) && period > 0 && lastStart >= 0;
    row[F.cycle_position] = cycled ? (sinceStart % period) / period : -1;
    row[F.days_to_expected_drop] = cycled ? period - (sinceStart % period) : NEVER_DAYS;
    row[F.last_depth_pct] = this.onDrop ? this.currentDepth : this.lastDepth;
    const typical = median(this.depths);
    row[F.typical_depth_pct] = Number.isNaN(typical) ? 0 : typical;
    row[F.deepest_depth_pct] = Math.max(this.depths.length > 0 ? this.depths[this.depths.length - 1]! : 0, this.onDrop ? this.currentDepth : 0);
  }

}

function insertSorted(values: number[], value: number): void {
  let i = values.length;
  values.push(value);
  while (i > 0 && values[i - 1]! > value) {
    values[i] = values[i - 1]!;
    i--;
  }
  values[i] = value;
}

function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
