import { type CacheDb } from '../pipeline/cache/cache-db';
import { DAY_MS, FEATURE_COUNT, categoryCoder, computeFeatures, decisionPoints, labelAt, type FeatureContext, type ProductHistory } from './features';
import { countObservations, iterateHistories, readCategoryDropRates, readDataEnds } from './history-reader';

/**
 * The training/evaluation table: one row per decision point of every product (see
 * `decisionPoints`), with its features, its label (NaN while the horizon is not yet observed)
 * and the size of the deepest fall in the horizon. Rows of a product are contiguous and in
 * time order, which the backtest relies on.
 */
export interface Dataset {
  histories: ProductHistory[];
  /** The source's last observation time, per history (labels and the backtest stop there). */
  dataEnd: Float64Array;
  rows: number;
  /** Row-major features: row i is `x.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT)`. */
  x: Float64Array;
  t: Float64Array;
  product: Int32Array;
  price: Float64Array;
  /** 1 / 0, or NaN when unknown (t + H after the data's end). */
  label: Float64Array;
  /** Deepest fall within (t, t + H] in % of the price at t (0 if none). */
  maxDropPct: Float64Array;
  categories: string[];
  horizonDays: number;
  minDropPct: number;
}

export interface DatasetOptions {
  horizonDays: number;
  minDropPct: number;
  /** The category code table; default: every category in the cache, sorted (training). */
  categories?: string[];
  /** Decision points inside gaps: one every this many days (default 7). */
  fillDays?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Reads the whole cache into a Dataset (streaming over the observations, product by product). */
export function buildDataset(db: CacheDb, options: DatasetOptions): Dataset {
  const rates = readCategoryDropRates(db);
  const categories = options.categories ?? rates.categories();
  const coder = categoryCoder(categories);
  const context: FeatureContext = { categoryCode: coder, categoryDropRate: (category, t) => rates.rate(category, t) };
  const dataEnds = readDataEnds(db);
  const total = countObservations(db);
  const table = new GrowingTable();
  const histories: ProductHistory[] = [];
  const ends: number[] = [];
  let seen = 0;
  for (const history of iterateHistories(db)) {
    if (histories.length % 256 === 0) options.signal?.throwIfAborted();
    const end = dataEnds.get(history.source) ?? history.lastSeen;
    const index = histories.length;
    histories.push(history);
    ends.push(end);
    addHistoryRows(table, history, index, end, context, options);
    seen += history.checkpoints.length;
    options.onProgress?.(Math.min(seen, total), total);
  }
  options.onProgress?.(total, total);
  return { ...table.finish(), histories, dataEnd: Float64Array.from(ends), categories, horizonDays: options.horizonDays, minDropPct: options.minDropPct };
}

/** Builds a Dataset from histories already in memory (tests, the simulator's own checks). */
export function datasetFromHistories(histories: ProductHistory[], dataEnd: number, context: FeatureContext, options: DatasetOptions & { categories: string[] }): Dataset {
  const table = new GrowingTable();
  histories.forEach((history, index) => addHistoryRows(table, history, index, dataEnd, context, options));
  return { ...table.finish(), histories, dataEnd: new Float64Array(histories.length).fill(dataEnd), categories: options.categories, horizonDays: options.horizonDays, minDropPct: options.minDropPct };
}

function addHistoryRows(table: GrowingTable, history: ProductHistory, index: number, dataEnd: number, context: FeatureContext, options: DatasetOptions): void {
  const row = new Float64Array(FEATURE_COUNT);
  for (const t of decisionPoints(history, options.fillDays ?? 7)) {
    if (t > dataEnd) break;
    if (!computeFeatures(history, t, context, row)) continue;
    const { label, maxDropPct } = labelAt(history, t, options.horizonDays, options.minDropPct, dataEnd);
    table.push(row, t, index, row[0]!, label === undefined ? Number.NaN : label, maxDropPct);
  }
}

/** Row storage that doubles as it grows (typed arrays, not millions of small JS arrays). */
class GrowingTable {
  private capacity = 1024;
  private count = 0;
  private x = new Float64Array(this.capacity * FEATURE_COUNT);
  private t = new Float64Array(this.capacity);
  private product = new Int32Array(this.capacity);
  private price = new Float64Array(this.capacity);
  private label = new Float64Array(this.capacity);
  private maxDropPct = new Float64Array(this.capacity);

  push(features: Float64Array, t: number, product: number, price: number, label: number, maxDropPct: number): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.x.set(features, i * FEATURE_COUNT);
    this.t[i] = t;
    this.product[i] = product;
    this.price[i] = price;
    this.label[i] = label;
    this.maxDropPct[i] = maxDropPct;
  }

  private grow(): void {
    this.capacity *= 2;
    const resize = <T extends Float64Array | Int32Array>(array: T, size: number): T => {
      const next = new (array.constructor as new (n: number) => T)(size);
      next.set(array);
      return next;
    };
    this.x = resize(this.x, this.capacity * FEATURE_COUNT);
    this.t = resize(this.t, this.capacity);
    this.product = resize(this.product, this.capacity);
    this.price = resize(this.price, this.capacity);
    this.label = resize(this.label, this.capacity);
    this.maxDropPct = resize(this.maxDropPct, this.capacity);
  }

  finish() {
    const n = this.count;
    return {
      rows: n,
      x: this.x.slice(0, n * FEATURE_COUNT),
      t: this.t.slice(0, n),
      product: this.product.slice(0, n),
      price: this.price.slice(0, n),
      label: this.label.slice(0, n),
      maxDropPct: this.maxDropPct.slice(0, n),
    };
  }
}

/** The time split: train on the past, test on the most recent period, a gap of H days between. */
export interface TimeSplit {
  train: Int32Array;
  test: Int32Array;
  /** Epoch ms: train rows have t < trainEnd; test rows have testStart ≤ t ≤ testEnd. */
  trainStart: number;
  trainEnd: number;
  testStart: number;
  testEnd: number;
  gapDays: number;
}

/**
 * Splits labelled rows by time. The test period is the last `testFraction` of the labelled span
 * (at least H days). A training row's label looks H days ahead, so training rows must end H days
 * before the test period starts: otherwise a training label would have seen test-period prices.
 */
export function timeSplit(dataset: Dataset, testFraction = 0.25): TimeSplit {
  const horizon = dataset.horizonDays * DAY_MS;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < dataset.rows; i++) {
    if (Number.isNaN(dataset.label[i]!)) continue;
    first = Math.min(first, dataset.t[i]!);
    last = Math.max(last, dataset.t[i]!);
  }
  if (!Number.isFinite(first)) throw new Error(`no labelled rows: the data must span more than the ${dataset.horizonDays}-day horizon`);
  const testLength = Math.max(horizon, (last - first) * testFraction);
  // Test starts at a UTC day boundary, so a day's decisions fall on one side.
  const testStart = Math.floor((last - testLength) / DAY_MS) * DAY_MS;
  const trainEnd = testStart - horizon;
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < dataset.rows; i++) {
    if (Number.isNaN(dataset.label[i]!)) continue;
    const t = dataset.t[i]!;
    if (t < trainEnd) train.push(i);
    else if (t >= testStart) test.push(i);
  }
  return { train: Int32Array.from(train), test: Int32Array.from(test), trainStart: first, trainEnd, testStart, testEnd: last, gapDays: dataset.horizonDays };
}

/** Feature columns (column-major copies) of the chosen rows, as the forest trainer takes them. */
export function columnsOf(dataset: Dataset, rows: Int32Array): Float64Array[] {
  const columns = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const offset = rows[r]! * FEATURE_COUNT;
    for (let f = 0; f < FEATURE_COUNT; f++) columns[f]![r] = dataset.x[offset + f]!;
  }
  return columns;
}

/** Feature row i of the dataset (a view, not a copy). */
export function rowOf(dataset: Dataset, i: number): Float64Array {
  return dataset.x.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
}
