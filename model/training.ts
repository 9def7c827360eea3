import { createHash } from 'node:crypto';
import { FEATURE_NAMES, FEATURE_SCHEMA_VERSION } from './features';
import { columnsOf, planSlices, prepareData, trainingTable, type ForecastData, type HistorySource, type Slices } from './decision-data';
import { featureImportance, serializeForest, type Forest, type ForestOptions } from './forest/random-forest';
import { fitForest } from './forest/train-forest';
import { applyCalibration, fitIsotonic, type IsotonicCalibration } from './evaluation/calibration';
import { round } from './evaluation/metrics';
import type { BacktestReport, PolicyInUse, SliceInfo } from './evaluation/report-types';
import { choosePolicies, evaluatePeriod, labelRate, scoredLabels, sliceInfo } from './evaluation/period-evaluation';
import { categoryCoder, MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModel, type ModelFile, type ModelOptions } from './model-file';
import { scoreRange, type ScoringForests } from './scoring';
import { isoDay } from '../pipeline/base/time';

export { minimumHistoryDays } from './decision-data';

/**
 * Training, in time order: product histories → daily timelines → slices
 * train | gap H | validation | gap H | test →
 * - four forests on the training slice: drop ≥ X % within H (classifier), the drop's depth given a
 *   drop, the deadline change given none, and whether waiting ends worse (no drop, and the
 *   deadline price above today's);
 * - on validation: the classifier's own scores calibrated (isotonic), then the decision policy
 *   chosen among the model's (a grid of waiting costs and risk guards) and two tuned baselines,
 *   keeping only candidates that end worse than buying at once in at most 3 % of decisions in
 *   each half of validation (so the choice holds when the share of drops shifts);
 * - the test period, read once, for the report;
 * → one model file.
 */
export interface TrainOptions {
  /** H: the buyer's horizon in days (default 14). */
  horizonDays?: number;
  /** X: the minimum fall in % of today's price that counts as a drop (default 5). */
  minDropPct?: number;
  trees?: number;
  maxDepth?: number;
  minSamplesLeaf?: number;
  maxFeatures?: 'sqrt' | number;
  seed?: number;
  /** Training rows beyond this are an even sample (default 250,000). */
  maxTrainingRows?: number;
  /** Threads for the forests (default: all cores). */
  threads?: number;
}

export type TrainPhase = 'reading' | 'features' | 'classifier' | 'drop size' | 'deadline change' | 'worse' | 'validation' | 'test' | 'saving';

export interface TrainProgress {
  phase: TrainPhase;
  done: number;
  total: number;
}

export interface TrainControl {
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /** See ForestFitControl.useThisThread: false keeps the calling thread free (trees grow on workers). */
  useThisThread?: boolean;
}

/** What `pricedrop train --json` prints. */
export interface TrainReport {
  model_file: string;
  model_version: string;
  options: ModelOptions;
  training_window: ModelFile['training_window'];
  slices: { train: SliceInfo; validation: SliceInfo; test: SliceInfo };
  source_kinds: ModelFile['source_kinds'];
  training_rows: number;
  positives_rate: { train: number; validation: number; test: number };
  policy: PolicyInUse;
  policy_reason: string;
  policy_params: ModelFile['policy'];
  /** The test period's report (the same as `pricedrop backtest --json` right after training). */
  backtest: BacktestReport;
  top_features: ModelFile['importance'];
  train_ms: number;
}

export const DEFAULT_TRAIN = {
  horizonDays: 14,
  minDropPct: 5,
  trees: 100,
  // Shallow, well-populated leaves: day-apart rows of one product are near duplicates, and deep
  // trees learn them by heart (docs/forecaster.md).
  maxDepth: 8,
  minSamplesLeaf: 50,
  maxFeatures: 'sqrt' as const,
  seed: 1,
  maxTrainingRows: 250_000,
};

/** Validation decisions scored for the policy grid: a product sample beyond this many. */
const MAX_VALIDATION_DECISIONS = 400_000;

/** The histories training reads: every product's, with each source's kind and data end. */
export type TrainingHistories = HistorySource & { products: number; kinds: ModelFile['source_kinds'] };

/**
 * Trains a model from product histories and writes the model file to `options.out`. Progress
 * comes through `control.onProgress`; `control.signal` aborts (the promise rejects).
 */
export async function trainOnHistories(source: TrainingHistories, options: TrainOptions & { out: string }, control: TrainControl = {}): Promise<TrainReport> {
  const settings = { ...DEFAULT_TRAIN, ...definedOnly(options) };
  const data = prepareData(source, {
    horizonDays: settings.horizonDays,
    minDropPct: settings.minDropPct,
    signal: control.signal,
    onProgress: (done) => control.onProgress?.({ phase: 'reading', done, total: source.products }),
  });
  return trainOnData(data, source.kinds, { ...settings, out: options.out }, control);
}

type Settings = Omit<typeof DEFAULT_TRAIN, 'maxFeatures'> & { maxFeatures: 'sqrt' | number; threads?: number; out: string };

/** Trains on prepared data (the CLI, the app and tests all come through here). */
export async function trainOnData(data: ForecastData, kinds: ModelFile['source_kinds'], settings: Settings, control: TrainControl = {}): Promise<TrainReport> {
  const started = performance.now();
  const progress = (phase: TrainPhase, done: number, total: number) => control.onProgress?.({ phase, done, total });
  const h = settings.horizonDays;
  const slices = planSlices(data);
  const categoryCode = categoryCoder(data.categories);

  progress('features', 0, 1);
  const table = trainingTable(data, slices, categoryCode, settings.maxTrainingRows, settings.seed);
  progress('features', 1, 1);
  if (table.rows < 200) throw new Error(`only ${table.rows} training decisions before the validation period: the history is too short or too sparse for a ${h}-day horizon`);
  const all = Int32Array.from({ length: table.rows }, (_, i) => i);
  const positives = all.filter((i) => table.label[i] === 1);
  const negatives = all.filter((i) => table.label[i] === 0 && !Number.isNaN(table.deadlineChangePct[i]!));
  // Waiting ends worse when no drop comes and the deadline price is above today's.
  const waitKnown = all.filter((i) => table.label[i] === 1 || !Number.isNaN(table.deadlineChangePct[i]!));
  if (positives.length < 20 || negatives.length < 20) throw new Error(`the training period has ${positives.length} drops and ${negatives.length} decisions without one: too few of one kind to learn from`);

  const base: ForestOptions = { trees: settings.trees, maxDepth: settings.maxDepth, maxFeatures: settings.maxFeatures, minSamplesLeaf: settings.minSamplesLeaf, bootstrap: true, seed: settings.seed };
  // The three helpers forests inform the size of the gain and the risk, not the ranking: fewer
  // trees, smaller leaves (they see fewer rows).
  const helper: ForestOptions = { ...base, trees: Math.max(10, Math.round(settings.trees / 2)), minSamplesLeaf: 20 };
  const fit = async (phase: TrainPhase, rows: Int32Array, y: Float64Array, options: ForestOptions): Promise<Forest> =>
    (
      await fitForest({ columns: columnsOf(table, rows), y }, options, {
        threads: settings.threads,
        signal: control.signal,
        useThisThread: control.useThisThread,
        onProgress: (done, total) => progress(phase, done, total),
      })
    ).forest;
  const classifier = await fit('classifier', all, Float64Array.from(table.label), base);
  const dropSize = await fit('drop size', positives, Float64Array.from(positives, (i) => table.maxDropPct[i]!), { ...helper, seed: base.seed + 1 });
  const deadlineChange = await fit('deadline change', negatives, Float64Array.from(negatives, (i) => table.deadlineChangePct[i]!), { ...helper, seed: base.seed + 2 });
  const worse = await fit('worse', waitKnown, Float64Array.from(waitKnown, (i) => (table.label[i] !== 1 && table.deadlineChangePct[i]! > 1e-9 ? 1 : 0)), { ...helper, seed: base.seed + 3 });

  // Validation: the classifier's own scores, calibrated there; then the policy.
  const identity: IsotonicCalibration = { x: [0, 1], y: [0, 1] };
  const forests: ScoringForests = { classifier, calibration: identity, dropSize, deadlineChange, worse };
  const validationProducts = sampleProducts(data, slices.validation, MAX_VALIDATION_DECISIONS);
  const validationRange = { from: slices.validation.from, to: slices.validation.to + h };
  const validationScores = scoreRange(data, forests, validationProducts, validationRange, categoryCode, (done) => progress('validation', done, validationProducts.length));
  const calibration = calibrateOn(data, validationScores, slices.validation);
  for (const scores of validationScores.values()) for (let i = 0; i < scores.p.length; i++) if (!Number.isNaN(scores.p[i]!)) scores.p[i] = applyCalibration(calibration, scores.p[i]!);
  forests.calibration = calibration;
  control.signal?.throwIfAborted();
  const policy = choosePolicies(data, validationProducts, validationScores, slices.validation);

  // The test period, read once.
  const testProducts = data.products.map((_, i) => i);
  const testScores = scoreRange(data, forests, testProducts, { from: slices.test.from, to: slices.test.to + h }, categoryCode, (done) => progress('test', done, testProducts.length));
  const backtest = evaluatePeriod(data, testScores, slices.test, policy, slices.train);
  control.signal?.throwIfAborted();

  progress('saving', 0, 1);
  const serialized = { classifier: serializeForest(classifier), drop_size: serializeForest(dropSize), deadline_change: serializeForest(deadlineChange), worse: serializeForest(worse) };
  const version = `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}-${createHash('sha256').update(JSON.stringify(serialized.classifier.trees[0] ?? '')).update(String(table.rows)).digest('hex').slice(0, 8)}`;
  const importance = featureImportance(classifier);
  const options: ModelOptions = {
    horizon_days: h,
    min_drop_pct: settings.minDropPct,
    trees: settings.trees,
    max_depth: settings.maxDepth,
    min_samples_leaf: settings.minSamplesLeaf,
    max_features: settings.maxFeatures,
    seed: settings.seed,
    max_training_rows: settings.maxTrainingRows,
  };
  const info = { train: sliceInfo(data, slices.train), validation: sliceInfo(data, slices.validation), test: sliceInfo(data, slices.test) };
  const file: ModelFile = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    model_version: version,
    created_at: new Date().toISOString(),
    feature_schema: { version: FEATURE_SCHEMA_VERSION, names: [...FEATURE_NAMES] },
    options,
    training_window: windowOf(data, slices),
    slices: info,
    source_kinds: kinds,
    categories: data.categories,
    calibration,
    policy,
    backtest,
    importance: Array.from(importance.keys())
      .sort((a, b) => importance[b]! - importance[a]!)
      .map((f) => ({ feature: FEATURE_NAMES[f]!, importance: round(importance[f]!, 4) })),
    forests: serialized,
  };
  saveModel(settings.out, file);
  progress('saving', 1, 1);
  return {
    model_file: settings.out,
    model_version: version,
    options,
    training_window: file.training_window,
    slices: info,
    source_kinds: kinds,
    training_rows: table.rows,
    positives_rate: { train: round(positives.length / table.rows, 4), validation: round(labelRate(data, slices.validation), 4), test: round(labelRate(data, slices.test), 4) },
    policy: policy.in_use,
    policy_reason: policy.reason,
    policy_params: policy,
    backtest,
    top_features: file.importance.slice(0, 8),
    train_ms: Math.round(performance.now() - started),
  };
}

/** Products whose validation decisions add up to at most `max` (an even spread over the list). */
function sampleProducts(data: ForecastData, range: { from: number; to: number }, max: number): number[] {
  const counts = data.products.map((product) => {
    const from = Math.max(range.from, product.timeline.firstDay);
    const to = Math.min(range.to, product.timeline.firstDay + product.timeline.price.length - 1);
    let known = 0;
    for (let day = from; day <= to; day++) if (!Number.isNaN(product.timeline.price[day - product.timeline.firstDay]!)) known++;
    return known;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  const all = data.products.map((_, i) => i).filter((i) => counts[i]! > 0);
  if (total <= max) return all;
  const step = total / max;
  return all.filter((_, k) => Math.floor(k / step) !== Math.floor((k - 1) / step) || k === 0);
}

/** Isotonic map from the classifier's validation scores to the drop frequencies seen there. */
function calibrateOn(data: ForecastData, scored: ReturnType<typeof scoreRange>, range: { from: number; to: number }): IsotonicCalibration {
  const { p, y } = scoredLabels(data, scored, range);
  const positives = y.reduce((a, b) => a + b, 0);
  if (p.length < 100 || positives === 0 || positives === y.length) return { x: [0, 1], y: [0, 1] };
  return fitIsotonic(p, y);
}

function windowOf(data: ForecastData, slices: Slices): ModelFile['training_window'] {
  return {
    train_from: isoDay(slices.train.from),
    train_to: isoDay(slices.train.to),
    validation_from: isoDay(slices.validation.from),
    validation_to: isoDay(slices.validation.to),
    test_from: isoDay(slices.test.from),
    test_to: isoDay(slices.test.to),
    gap_days: data.horizonDays,
    data_end: isoDay(data.lastDay),
  };
}

/** `value` without its undefined fields, so a spread of it keeps the defaults it is laid over. */
export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
