import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cachePath, openCache, type CacheDb } from '../pipeline/cache/cache-db';
import { DAY_MS, FEATURE_NAMES, FEATURE_SCHEMA_VERSION } from './features';
import { buildDataset, columnsOf, rowOf, timeSplit, type Dataset, type TimeSplit } from './dataset';
import { featureImportance, predictRow, serializeForest, type ForestOptions } from './forest/random-forest';
import { fitForest } from './forest/train-forest';
import { applyCalibration, fitIsotonic, type IsotonicCalibration } from './evaluation/calibration';
import { replayPolicies } from './evaluation/backtest';
import { averagePrecision, brierScore, calibrationTable, precisionRecallAt, rocAuc, round } from './evaluation/metrics';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, defaultModelPath, parseModel, saveModel, type LoadedModel, type ModelFile, type ModelMetrics, type ModelOptions } from './model-file';

/**
 * Training: cache → decision-point table → time split with a gap → classifier forest (drop or
 * not) with isotonic calibration on blocked, out-of-time cross-fitted scores → regressor
 * forest (drop size, on the rows that dropped) → metrics on the test period → model file.
 */
export interface TrainModelOptions {
  /** The workspace: the cache is `<workspace>/cache.db`, the model goes to `<workspace>/models/current.json`. */
  workspace: string;
  /** Where to write the model (default: `defaultModelPath(workspace)`). */
  out?: string;
  /** H: the horizon in days (default 14). */
  horizonDays?: number;
  /** X: the minimum fall in % of today's price that counts as a drop (default 5). */
  minDropPct?: number;
  /** will_drop from this calibrated probability on (default 0.5). */
  threshold?: number;
  /** Wait from this calibrated probability on; default: tuned on the calibration slice. */
  waitThreshold?: number;
  trees?: number;
  maxDepth?: number;
  minSamplesLeaf?: number;
  maxFeatures?: 'sqrt' | number;
  seed?: number;
  /** Share of the labelled time span held out as the test period (default 0.25). */
  testFraction?: number;
  /** Threads for the forests (default: all cores). */
  threads?: number;
}

export type TrainPhase = 'reading' | 'calibration' | 'classifier' | 'drop size' | 'evaluating' | 'saving';

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
  rows: ModelMetrics['rows'];
  positives_rate: ModelMetrics['positives_rate'];
  auc: number;
  pr_auc: number;
  brier: number;
  brier_uncalibrated: number;
  brier_base_rate: number;
  calibration: ModelMetrics['calibration'];
  at_threshold: ModelMetrics['at_threshold'];
  at_wait_threshold: ModelMetrics['at_wait_threshold'];
  drop_size_mae_pct: number;
  top_features: ModelFile['importance'];
  train_ms: number;
}

export const DEFAULT_TRAIN = {
  horizonDays: 14,
  minDropPct: 5,
  threshold: 0.5,
  trees: 100,
  // Shallow, well-populated leaves: on the Pick n Pay history depth 8 / leaf 50 gave test AUC
  // 0.730 against 0.714 for depth 12 / leaf 5, and on the simulator the same AUC with more
  // savings captured (69.8 % vs 62.2 %), in half the time (docs/forecaster.md).
  maxDepth: 8,
  minSamplesLeaf: 50,
  maxFeatures: 'sqrt' as const,
  seed: 1,
  testFraction: 0.25,
};

/** Opens the workspace's cache read-only, with a clear message when there is none. */
export function openWorkspaceCache(workspace: string): CacheDb {
  const file = cachePath(workspace);
  if (!existsSync(file)) throw new Error(`no cache at ${file}: fill it first (pricedrop etl, or pricedrop import)`);
  return openCache(file, { readonly: true });
}

/**
 * Trains a model from the workspace's cache and writes the model file. Progress comes through
 * `control.onProgress` (phase, done, total); `control.signal` aborts (the promise rejects).
 * Runs the heavy loops on worker threads; for a caller that must never block at all (Electron's
 * main process) use `trainModelInWorker` from './train-model-runner'.
 */
export async function trainModel(options: TrainModelOptions, control: TrainControl = {}): Promise<TrainReport> {
  const started = performance.now();
  const settings = { ...DEFAULT_TRAIN, ...definedOnly(options) };
  const out = options.out ?? defaultModelPath(options.workspace);
  const progress = (phase: TrainPhase, done: number, total: number) => control.onProgress?.({ phase, done, total });

  const db = openWorkspaceCache(options.workspace);
  let dataset: Dataset;
  try {
    dataset = buildDataset(db, {
      horizonDays: settings.horizonDays,
      minDropPct: settings.minDropPct,
      onProgress: (done, total) => progress('reading', done, total),
      signal: control.signal,
    });
  } finally {
    db.close();
  }
  const split = timeSplit(dataset, settings.testFraction);
  if (split.train.length < 50) throw new Error(`only ${split.train.length} training rows before the test period: the data is too short for a ${settings.horizonDays}-day horizon`);
  if (split.test.length === 0) throw new Error('no rows in the test period');

  const trainLabels = Float64Array.from(split.train, (i) => dataset.label[i]!);
  const forestOptions: ForestOptions = { trees: settings.trees, maxDepth: settings.maxDepth, maxFeatures: settings.maxFeatures, minSamplesLeaf: settings.minSamplesLeaf, bootstrap: true, seed: settings.seed };
  const trainColumns = columnsOf(dataset, split.train);
  const calibrated = await fitCalibration(dataset, split, forestOptions, settings, control, progress);
  const calibration = calibrated.calibration;
  const waitThreshold = options.waitThreshold ?? calibrated.waitThreshold ?? settings.threshold;
  const classifierFit = await fitForest({ columns: trainColumns, y: trainLabels }, forestOptions, {
    threads: settings.threads,
    signal: control.signal,
    useThisThread: control.useThisThread,
    onProgress: (done, total) => progress('classifier', done, total),
  });

  // Drop size given a drop: a regression forest on the training rows that dropped.
  const positives = Int32Array.from(split.train.filter((i) => dataset.label[i] === 1));
  const positiveSizes = Float64Array.from(positives, (i) => dataset.maxDropPct[i]!);
  const fallbackPct = positiveSizes.length > 0 ? positiveSizes.reduce((a, b) => a + b, 0) / positiveSizes.length : settings.minDropPct;
  let regressor = undefined;
  if (positives.length >= 30) {
    const regressorOptions: ForestOptions = { trees: Math.max(10, Math.round(settings.trees / 2)), maxDepth: 10, maxFeatures: 1 / 3, minSamplesLeaf: 5, bootstrap: true, seed: settings.seed + 1 };
    regressor = (
      await fitForest({ columns: columnsOf(dataset, positives), y: positiveSizes }, regressorOptions, {
        threads: settings.threads,
        signal: control.signal,
        useThisThread: control.useThisThread,
        onProgress: (done, total) => progress('drop size', done, total),
      })
    ).forest;
  }

  const modelOptions: ModelOptions = {
    horizon_days: settings.horizonDays,
    min_drop_pct: settings.minDropPct,
    threshold: settings.threshold,
    wait_threshold: waitThreshold,
    wait_threshold_source: options.waitThreshold === undefined && calibrated.waitThreshold !== undefined ? 'tuned' : 'fixed',
    risk_bands: { medium: waitThreshold, high: Math.max(settings.threshold, waitThreshold) },
    trees: settings.trees,
    max_depth: settings.maxDepth,
    min_samples_leaf: settings.minSamplesLeaf,
    max_features: settings.maxFeatures,
    seed: settings.seed,
    test_fraction: settings.testFraction,
  };
  const classifier = serializeForest(classifierFit.forest);
  const regressorSerialized = regressor ? serializeForest(regressor) : null;
  const version = `${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}-${createHash('sha256').update(JSON.stringify(classifier.trees[0] ?? '')).update(String(split.train.length)).digest('hex').slice(0, 8)}`;
  const importance = featureImportance(classifierFit.forest);
  const draft: ModelFile = {
    format: MODEL_FORMAT,
    format_version: MODEL_FORMAT_VERSION,
    model_version: version,
    created_at: new Date().toISOString(),
    feature_schema: { version: FEATURE_SCHEMA_VERSION, names: [...FEATURE_NAMES] },
    options: modelOptions,
    training_window: windowOf(split, dataset),
    categories: dataset.categories,
    metrics: undefined as unknown as ModelMetrics, // filled below, once the model can predict
    calibration,
    drop_size_fallback_pct: round(fallbackPct, 4),
    importance: Array.from(importance.keys())
      .sort((a, b) => importance[b]! - importance[a]!)
      .map((f) => ({ feature: FEATURE_NAMES[f]!, importance: round(importance[f]!, 4) })),
    classifier,
    regressor: regressorSerialized,
  };
  const loaded = parseModel({ ...draft, metrics: {} });
  progress('evaluating', 0, split.test.length);
  draft.metrics = evaluateModel(loaded, dataset, split, trainLabels);
  progress('evaluating', split.test.length, split.test.length);
  control.signal?.throwIfAborted();
  progress('saving', 0, 1);
  saveModel(out, draft);
  progress('saving', 1, 1);
  const { metrics } = draft;
  return {
    model_file: out,
    model_version: version,
    options: modelOptions,
    training_window: draft.training_window,
    rows: metrics.rows,
    positives_rate: metrics.positives_rate,
    auc: metrics.auc,
    pr_auc: metrics.pr_auc,
    brier: metrics.brier,
    brier_uncalibrated: metrics.brier_uncalibrated,
    brier_base_rate: metrics.brier_base_rate,
    calibration: metrics.calibration,
    at_threshold: metrics.at_threshold,
    at_wait_threshold: metrics.at_wait_threshold,
    drop_size_mae_pct: metrics.drop_size_mae_pct,
    top_features: draft.importance.slice(0, 8),
    train_ms: Math.round(performance.now() - started),
  };
}

/**
 * Calibration on out-of-time predictions covering the whole training period (blocked
 * cross-fitting), not on out-of-bag votes and not on one late slice:
 * - out-of-bag votes are over-confident here: the rows of one product a week apart are near
 *   duplicates, so a row's out-of-bag trees have seen its twin (on the Pick n Pay history,
 *   OOB-calibrated probabilities of 0.9 came true 1 % of the time, Brier 0.042 vs 0.036 for the
 *   base rate);
 * - a single late slice imports that slice's season (on the simulator, a slice holding the
 *   summer sales inflated every probability: Brier 0.270 vs 0.222 uncalibrated).
 * The training span is cut into CALIBRATION_FOLDS time blocks; each block is scored by a smaller
 * forest trained on the other blocks minus H days on each side of it (no label window reaches
 * into the scored block). The isotonic map is fitted on all those scores, and the Wait threshold
 * is the one that saved the most when replaying the training period with them.
 */
const CALIBRATION_FOLDS = 3;

async function fitCalibration(
  dataset: Dataset,
  split: TimeSplit,
  forestOptions: ForestOptions,
  settings: { horizonDays: number; threads?: number },
  control: TrainControl,
  progress: (phase: TrainPhase, done: number, total: number) => void,
): Promise<{ calibration: IsotonicCalibration; waitThreshold: number | undefined }> {
  const horizon = settings.horizonDays * DAY_MS;
  const span = split.trainEnd - split.trainStart;
  const foldOptions: ForestOptions = { ...forestOptions, trees: Math.max(20, Math.round(forestOptions.trees / CALIBRATION_FOLDS)) };
  // Score of every dataset row up to the test period (training rows and the gap rows the replay
  // consults), by the fold model that did not see its block; NaN where no fold applies.
  const score = new Float64Array(dataset.rows).fill(Number.NaN);
  const totalTrees = foldOptions.trees * CALIBRATION_FOLDS;
  for (let fold = 0; fold < CALIBRATION_FOLDS; fold++) {
    const blockStart = split.trainStart + (span * fold) / CALIBRATION_FOLDS;
    const blockEnd = split.trainStart + (span * (fold + 1)) / CALIBRATION_FOLDS;
    const fitRows = Int32Array.from(split.train.filter((i) => {
      const t = dataset.t[i]!;
      return t + horizon < blockStart || t >= blockEnd + horizon;
    }));
    const fitLabels = Float64Array.from(fitRows, (i) => dataset.label[i]!);
    if (fitRows.length < 100 || fitLabels.every((v) => v === fitLabels[0])) continue;
    const fit = await fitForest({ columns: columnsOf(dataset, fitRows), y: fitLabels }, foldOptions, {
      threads: settings.threads,
      signal: control.signal,
      useThisThread: control.useThisThread,
      onProgress: (done) => progress('calibration', fold * foldOptions.trees + done, totalTrees),
    });
    for (let i = 0; i < dataset.rows; i++) {
      const t = dataset.t[i]!;
      const inBlock = fold === CALIBRATION_FOLDS - 1 ? t >= blockStart && t < split.testStart : t >= blockStart && t < blockEnd;
      if (inBlock && t >= split.trainStart) score[i] = predictRow(fit.forest, rowOf(dataset, i));
    }
  }
  const scored = split.train.filter((i) => !Number.isNaN(score[i]!));
  const labels = Float64Array.from(scored, (i) => dataset.label[i]!);
  const positives = labels.reduce((a, b) => a + b, 0);
  if (scored.length < 100 || positives === 0 || positives === labels.length) return { calibration: { x: [0, 1], y: [0, 1] }, waitThreshold: undefined };
  const calibration = fitIsotonic(Float64Array.from(scored, (i) => score[i]!), labels);
  const grid = [0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01];
  // A row without a fold score (too early) is never waited on.
  const probability = (row: number) => (Number.isNaN(score[row]!) ? 0 : applyCalibration(calibration, score[row]!));
  const replay = replayPolicies(dataset, grid.map((threshold) => (row: number) => probability(row) >= threshold), split.trainStart, split.trainEnd - 1);
  let best = grid.indexOf(0.5);
  replay.results.forEach((result, k) => {
    if (result.avg_savings_pct_per_decision > replay.results[best]!.avg_savings_pct_per_decision + 1e-9) best = k;
  });
  return { calibration, waitThreshold: Math.min(1, grid[best]!) };
}

/** Test-period metrics of a model on a dataset split (probabilities calibrated). */
export function evaluateModel(model: LoadedModel, dataset: Dataset, split: TimeSplit, trainLabels: Float64Array): ModelMetrics {
  const n = split.test.length;
  const labels = new Float64Array(n);
  const raw = new Float64Array(n);
  const calibrated = new Float64Array(n);
  let sizeError = 0;
  let sizeRows = 0;
  for (let r = 0; r < n; r++) {
    const i = split.test[r]!;
    const row = rowOf(dataset, i);
    labels[r] = dataset.label[i]!;
    raw[r] = predictRow(model.classifier, row);
    calibrated[r] = applyCalibration(model.meta.calibration, raw[r]!);
    if (labels[r] === 1) {
      const expected = model.regressor ? predictRow(model.regressor, row) : model.meta.drop_size_fallback_pct;
      sizeError += Math.abs(expected - dataset.maxDropPct[i]!);
      sizeRows++;
    }
  }
  const trainRate = mean(trainLabels);
  const testRate = mean(labels);
  let labelled = 0;
  for (let i = 0; i < dataset.rows; i++) if (!Number.isNaN(dataset.label[i]!)) labelled++;
  return {
    rows: { total: dataset.rows, labelled, train: split.train.length, test: n },
    positives_rate: { train: round(trainRate, 4), test: round(testRate, 4) },
    auc: round(rocAuc(labels, calibrated), 4),
    pr_auc: round(averagePrecision(labels, calibrated), 4),
    brier: round(brierScore(labels, calibrated), 4),
    brier_uncalibrated: round(brierScore(labels, raw), 4),
    brier_base_rate: round(brierScore(labels, new Float64Array(n).fill(trainRate)), 4),
    calibration: calibrationTable(labels, calibrated, 10),
    at_threshold: roundReport(precisionRecallAt(labels, calibrated, model.meta.options.threshold)),
    at_wait_threshold: roundReport(precisionRecallAt(labels, calibrated, model.meta.options.wait_threshold)),
    drop_size_mae_pct: round(sizeRows > 0 ? sizeError / sizeRows : Number.NaN, 3),
  };
}

function roundReport(report: ReturnType<typeof precisionRecallAt>) {
  return { ...report, precision: round(report.precision, 4), recall: round(report.recall, 4) };
}

function windowOf(split: TimeSplit, dataset: Dataset): ModelFile['training_window'] {
  let dataEnd = 0;
  for (const end of dataset.dataEnd) dataEnd = Math.max(dataEnd, end);
  const iso = (t: number) => new Date(t).toISOString();
  return { train_from: iso(split.trainStart), train_to: iso(split.trainEnd), test_from: iso(split.testStart), test_to: iso(split.testEnd), gap_days: split.gapDays, data_end: iso(dataEnd) };
}

function mean(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i] as number;
  return values.length > 0 ? total / values.length : Number.NaN;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
