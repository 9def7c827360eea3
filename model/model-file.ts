import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FEATURE_NAMES, FEATURE_SCHEMA_VERSION } from './features';
import { deserializeForest, type Forest, type SerializedForest } from './forest/random-forest';
import { type IsotonicCalibration } from './evaluation/calibration';
import type { BacktestReport, PolicyInUse, SliceInfo } from './evaluation/report-types';
import type { PolicyParams } from './policy';
import type { SourceKind } from './timeline';

/**
 * The model file: one JSON document (`<workspace>/models/current.json` by default). JSON rather
 * than a binary pair because the desktop, the CLI and the server all read it with nothing but
 * JSON.parse, and the forests inside are compact anyway (typed arrays as base64: about 2–8 MB
 * for 100 trees of depth 12). It carries everything needed to predict and to judge the model:
 * version, feature schema, options, slices, the policy chosen on validation and the test-period
 * backtest.
 */
export const MODEL_FORMAT = 'pricedrop-model';
export const MODEL_FORMAT_VERSION = 2;

/** Where `train` writes and `predict`/`backtest` read by default. */
export function defaultModelPath(workspace: string): string {
  return join(workspace, 'models', 'current.json');
}

export interface ModelOptions {
  /** H: the buyer's horizon in days. */
  horizon_days: number;
  /** X: the smallest fall (% of today's price) that counts as a drop. */
  min_drop_pct: number;
  trees: number;
  max_depth: number;
  min_samples_leaf: number;
  max_features: 'sqrt' | number;
  seed: number;
  /** Training rows are an even sample beyond this many product-days. */
  max_training_rows: number;
}

/** The policy chosen on validation (evaluation/policy-choice.ts) and its parameters. */
export interface PolicyChoice {
  in_use: PolicyInUse;
  reason: string;
  /** The model's own policy (policy.ts), whether or not it is in use. */
  model: PolicyParams;
  /** rule_tuned: Wait while the price is more than threshold_pct above its window_days low. */
  rule: { threshold_pct: number; window_days: number };
  /** frequency_baseline: Wait while the product's own past drop rate is above level. */
  frequency: { level: number };
  /** Each candidate's validation figures, best first. */
  validation: { name: string; savings_captured_pct: number; worse_than_buy_now_pct: number; worse_by_half_pct: [number, number]; kept: boolean }[];
}

export interface TrainingWindow {
  /** ISO dates (inclusive) of each slice's decision days. */
  train_from: string;
  train_to: string;
  validation_from: string;
  validation_to: string;
  test_from: string;
  test_to: string;
  gap_days: number;
  /** The last observation in the cache when the model was trained. */
  data_end: string;
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
  /** How much each slice had (products, days, decisions). */
  slices: { train: SliceInfo; validation: SliceInfo; test: SliceInfo };
  /** Each source's kind as training read it. */
  source_kinds: Record<string, SourceKind>;
  /** The category code table (feature `category_code` is the index here, −1 if unknown). */
  categories: string[];
  /** The classifier's raw vote share → probability, fitted on the validation slice. */
  calibration: IsotonicCalibration;
  policy: PolicyChoice;
  /** The test-period report (read once, at training). */
  backtest: BacktestReport;
  /** Features ranked by importance in the classifier. */
  importance: { feature: string; importance: number }[];
  forests: {
    /** Drop of at least X % within H days (vote share, calibrated above). */
    classifier: SerializedForest;
    /** Deepest fall in % given a drop. */
    drop_size: SerializedForest;
    /** Deadline change in % given no drop. */
    deadline_change: SerializedForest;
    /** Waiting ends worse: no drop, and the deadline price above today's (vote share). */
    worse: SerializedForest;
  };
}

/** A model ready to predict. `meta` is the file without its forests (small, safe to send to a UI). */
export interface LoadedModel {
  meta: Omit<ModelFile, 'forests'>;
  classifier: Forest;
  dropSize: Forest;
  deadlineChange: Forest;
  worse: Forest;
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
  if (model.format_version !== MODEL_FORMAT_VERSION) throw new Error(`model format version ${String(model.format_version)} is not supported (expected ${MODEL_FORMAT_VERSION}): retrain (pricedrop train)`);
  const schema = model.feature_schema;
  if (!schema || schema.version !== FEATURE_SCHEMA_VERSION || schema.names.join(',') !== FEATURE_NAMES.join(',')) {
    throw new Error(`the model was trained on feature schema ${String(schema?.version)}, this build computes ${FEATURE_SCHEMA_VERSION}: retrain it`);
  }
  const forests = model.forests;
  if (!forests?.classifier || !forests.drop_size || !forests.deadline_change || !forests.worse || !model.options || !model.calibration || !model.policy || !Array.isArray(model.categories)) throw new Error('model file is incomplete');
  const [classifier, dropSize, deadlineChange, worse] = [forests.classifier, forests.drop_size, forests.deadline_change, forests.worse].map(deserializeForest) as [Forest, Forest, Forest, Forest];
  if ([classifier, dropSize, deadlineChange, worse].some((forest) => forest.features !== FEATURE_NAMES.length)) throw new Error('model forest does not match the feature schema');
  const { forests: _forests, ...meta } = model as ModelFile;
  return { meta, classifier, dropSize, deadlineChange, worse, categoryCode: categoryCoder(meta.categories) };
}

/** A code table over sorted category names (stored in the model file). */
export function categoryCoder(categories: readonly string[]): (category: string) => number {
  const codes = new Map(categories.map((category, i) => [category, i]));
  return (category) => codes.get(category) ?? -1;
}
