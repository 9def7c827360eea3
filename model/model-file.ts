import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FEATURE_NAMES, FEATURE_SCHEMA_VERSION, categoryCoder } from './features';
import { deserializeForest, type Forest, type SerializedForest } from './forest/random-forest';
import { type IsotonicCalibration } from './evaluation/calibration';
import { type CalibrationBin, type ThresholdReport } from './evaluation/metrics';

/**
 * The model file: one JSON document (`<workspace>/models/current.json` by default). JSON rather
 * than a binary pair because the desktop, the CLI and the server all read it with nothing but
 * JSON.parse, and the forests inside are compact anyway (typed arrays as base64: about 2–8 MB
 * for 100 trees of depth 12). It carries everything needed to predict and to judge the model:
 * version, feature schema, options, training window and metrics.
 */
export const MODEL_FORMAT = 'pricedrop-model';
export const MODEL_FORMAT_VERSION = 1;

/** Where `train` writes and `predict`/`backtest` read by default. */
export function defaultModelPath(workspace: string): string {
  return join(workspace, 'models', 'current.json');
}

export interface ModelOptions {
  horizon_days: number;
  min_drop_pct: number;
  /** will_drop when the calibrated drop probability p is at least this (0.5: a drop is more likely than not). */
  threshold: number;
  /**
   * recommendation is Wait when p is at least this. Tuned at training time on the calibration
   * slice of the training period (the threshold that saved the most there), unless given.
   */
  wait_threshold: number;
  /** How wait_threshold was set: 'tuned' or 'fixed'. */
  wait_threshold_source: 'tuned' | 'fixed';
  /** risk_level bands on p: Low below `medium` (= wait_threshold), High from `high` on. */
  risk_bands: { medium: number; high: number };
  trees: number;
  max_depth: number;
  min_samples_leaf: number;
  max_features: 'sqrt' | number;
  seed: number;
  test_fraction: number;
}

export interface TrainingWindow {
  /** ISO times: rows used for training have train_from ≤ t < train_to. */
  train_from: string;
  train_to: string;
  /** Rows of the test period: test_from ≤ t ≤ test_to (labels look H days further). */
  test_from: string;
  test_to: string;
  gap_days: number;
  /** The last observation in the cache when the model was trained. */
  data_end: string;
}

export interface ModelMetrics {
  rows: { total: number; labelled: number; train: number; test: number };
  positives_rate: { train: number; test: number };
  /** On the test period, with calibrated probabilities. */
  auc: number;
  pr_auc: number;
  brier: number;
  /** Brier of the raw (uncalibrated) forest vote share, for comparison. */
  brier_uncalibrated: number;
  /** Brier of always predicting the training positives rate (a skill reference). */
  brier_base_rate: number;
  calibration: CalibrationBin[];
  /** Precision/recall of will_drop (p ≥ threshold) on the test period. */
  at_threshold: ThresholdReport;
  /** Precision/recall of the Wait advice (p ≥ wait_threshold), "positive" meaning a drop came. */
  at_wait_threshold: ThresholdReport;
  /** Mean absolute error (percentage points) of the drop-size estimate on test rows that did drop. */
  drop_size_mae_pct: number;
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  format_version: number;
  /** Unique per training run: creation time plus a short hash of the trees. */
  model_version: string;
  created_at: string;
  feature_schema: { version: number; names: string[] };
  options: ModelOptions;
  training_window: TrainingWindow;
  /** The category code table (feature `category_code` is the index here, −1 if unknown). */
  categories: string[];
  metrics: ModelMetrics;
  /** Raw forest vote share → probability. */
  calibration: IsotonicCalibration;
  /** Mean drop size (%) of positive training rows: used only when no regressor could be trained. */
  drop_size_fallback_pct: number;
  /** Features ranked by importance in the classifier. */
  importance: { feature: string; importance: number }[];
  classifier: SerializedForest;
  /** Drop size in % given a drop, trained on the positive training rows. */
  regressor: SerializedForest | null;
}

/** A model ready to predict. `meta` is the file without its forests (small, safe to send to a UI). */
export interface LoadedModel {
  meta: Omit<ModelFile, 'classifier' | 'regressor'>;
  classifier: Forest;
  regressor: Forest | undefined;
  /** `meta.categories` as the feature `category_code` (built once per model, not per prediction). */
  categoryCode: (category: string) => number;
}

/** Writes the model atomically (temp file + rename: a reader never sees half a model). */
export function saveModel(file: string, model: ModelFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(model));
  renameSync(temp, file);
}

/** Reads and validates a model file. Throws a clear message for a missing or foreign file. */
export function loadModel(file: string): LoadedModel {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no model at ${file}: train one first (pricedrop train)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not a model file (not JSON)`);
  }
  return parseModel(json);
}

/** Validates a parsed model document (also what a bundle reader calls) and builds the forests. */
export function parseModel(json: unknown): LoadedModel {
  const model = json as Partial<ModelFile> | null;
  if (!model || typeof model !== 'object' || model.format !== MODEL_FORMAT) throw new Error('not a PriceDrop model file');
  if (model.format_version !== MODEL_FORMAT_VERSION) throw new Error(`model format version ${String(model.format_version)} is not supported (expected ${MODEL_FORMAT_VERSION})`);
  const schema = model.feature_schema;
  if (!schema || schema.version !== FEATURE_SCHEMA_VERSION || schema.names.join(',') !== FEATURE_NAMES.join(',')) {
    throw new Error(`the model was trained on feature schema ${String(schema?.version)}, this build computes ${FEATURE_SCHEMA_VERSION}: retrain it`);
  }
  if (!model.classifier || !model.options || !model.calibration || !Array.isArray(model.categories)) throw new Error('model file is incomplete');
  const classifier = deserializeForest(model.classifier);
  if (classifier.features !== FEATURE_NAMES.length) throw new Error('model forest does not match the feature schema');
  const regressor = model.regressor ? deserializeForest(model.regressor) : undefined;
  const { classifier: _classifier, regressor: _regressor, ...meta } = model as ModelFile;
  const options = meta.options;
  if (typeof options.threshold !== 'number' || !(options.threshold > 0 && options.threshold < 1)) throw new Error('model options: threshold must be in (0, 1)');
  // Files written before the wait threshold existed advised Wait from `threshold` on.
  if (typeof options.wait_threshold !== 'number') {
    meta.options = { ...options, wait_threshold: options.threshold, wait_threshold_source: 'fixed', risk_bands: options.risk_bands ?? { medium: options.threshold, high: options.threshold } };
  }
  return { meta, classifier, regressor, categoryCode: categoryCoder(meta.categories) };
}
