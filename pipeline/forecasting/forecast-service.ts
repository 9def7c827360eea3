import { existsSync, statSync } from 'node:fs';
import { getMeta, setMeta, type CacheDb } from '../cache/cache-db';
import type { TaskRun, TaskRunner } from '../tasks/task-runner';
import { readSettings, type Settings } from '../settings/settings-store';
import { defaultModelPath, loadModel, type LoadedModel } from '../../model/predictor';
import { DEFAULT_TRAIN, definedOnly, minimumHistoryDays, type TrainReport } from '../../model/training';
import type { TrainModelOptions } from './workspace-training';
import { trainModelInWorker } from './train-model-runner';
import type { BacktestReport, PolicyInUse } from '../../model/evaluation/report-types';
import type { ModelFile } from '../../model/model-file';
import { readSourceKinds, type SourceKindInfo } from './source-kinds';
import { DAY_MS, HOUR_MS } from '../base/time';

/**
 * The forecaster of one backend: the model in use (reloaded when its file changes), training as
 * a task on a worker thread (one at a time: the task runner refuses a second `train`), and, in
 * the embedded default, training by itself: a first model as soon as the cache holds enough
 * history, then a retrain in the background when the data has grown by a quarter (Settings) or
 * the model is a day old. Created once per backend (pipeline/app/app-context.ts) and
 * handed to the handlers in their context (ForecastContext).
 */

/** How much history the cache holds: one product-day per product observed on a calendar day (UTC). */
export interface CacheHistory {
  product_days: number;
  /** Calendar days from the first to the last day with data (0 when empty). */
  days: number;
  from: string | null;
  to: string | null;
  products: number;
}

/**
 * The first automatic model grows fewer trees so that advice shows within a minute of a first
 * start (simulator, 300 products, 2 cores: 15 s on the first 389 days cached, where the default
 * 100 trees took 36 s on all 730 days); the full model is trained right after it, in the
 * background, and replaces it.
 */
export const QUICK_FIRST_MODEL: Partial<TrainModelOptions> = { trees: 30 };

/** What a training by this service was given, stored in the cache's meta table beside the model. */
interface TrainingRecord {
  model_version: string;
  /** A quick first model (QUICK_FIRST_MODEL), to be replaced by a full one at once. */
  quick: boolean;
  product_days: number;
  products: number;
  days: number;
  from: string | null;
  to: string | null;
}

const TRAINING_RECORD_KEY = 'forecaster_training';

export interface NextTraining {
  /** True when a training should start now. */
  due: boolean;
  /** Why it is due, or what it waits for, in words. */
  reason: string;
  /** The product-days at which growth triggers a retrain (null: no model yet, or off). */
  product_days_target: number | null;
  /** From when the age condition holds (null: no model yet, or off). */
  retrain_after: string | null;
  /** Days of history a first model needs. */
  minimum_history_days: number;
}

/**
 * The retrain rule, a pure function of the facts: off ⇒ never; no model ⇒ once the history
 * spans minimumHistoryDays; a model ⇒ when the product-days grew by `retrainGrowthPct` since its
 * training, or when it is `retrainIntervalHours` old and the data grew at all (a retrain on the
 * same data would give the same model).
 */
export function nextTraining(input: {
  settings: Settings['forecaster'];
  history: CacheHistory;
  horizonDays: number;
  now: number;
  model: { created_at: string; trained_product_days: number; quick: boolean } | undefined;
}): NextTraining {
  const { settings, history, model } = input;
  const minimum = minimumHistoryDays(input.horizonDays);
  if (!settings.autoTrain) return { due: false, reason: 'Automatic training is off (Settings).', product_days_target: null, retrain_after: null, minimum_history_days: minimum };
  if (!model) {
    if (history.days < minimum) {
      return {
        due: false,
        reason: `A first model trains once the cache holds ${minimum} days of history (${history.days} so far, ${minimum - history.days} to go).`,
        product_days_target: null,
        retrain_after: null,
        minimum_history_days: minimum,
      };
    }
    return { due: true, reason: `First model: the cache holds ${history.days} days of history.`, product_days_target: null, retrain_after: null, minimum_history_days: minimum };
  }
  const target = Math.ceil(model.trained_product_days * (1 + settings.retrainGrowthPct / 100));
  const after = Date.parse(model.created_at) + settings.retrainIntervalHours * HOUR_MS;
  const next = { product_days_target: target, retrain_after: new Date(after).toISOString(), minimum_history_days: minimum };
  if (model.quick) return { due: true, reason: 'The model in use is the quick first one: training the full model.', ...next };
  const grown = model.trained_product_days > 0 ? Math.round((100 * (history.product_days - model.trained_product_days)) / model.trained_product_days) : 0;
  if (history.product_days >= target) return { due: true, reason: `The data grew by ${grown} % since the model's training.`, ...next };
  if (input.now >= after && history.product_days > model.trained_product_days) return { due: true, reason: `The model is over ${settings.retrainIntervalHours} h old and the data grew by ${grown} %.`, ...next };
  return {
    due: false,
    reason: `Retrains when the cache holds ${target.toLocaleString('en-US')} product-days (${history.product_days.toLocaleString('en-US')} now), or after ${new Date(after).toISOString().slice(0, 16).replace('T', ' ')} UTC once the data has grown.`,
    ...next,
  };
}

/** The cache's history in product-days, from the dashboard rollups (a few thousand rows: cheap after every ETL pass). */
export function readCacheHistory(db: CacheDb): CacheHistory {
  const row = db.prepare('SELECT COALESCE(SUM(products), 0) AS product_days, MIN(dt) AS from_dt, MAX(dt) AS to_dt FROM rollup_presence WHERE kind = 0').get() as { product_days: number; from_dt: string | null; to_dt: string | null };
  const products = db.prepare('SELECT COUNT(*) FROM product_keys').pluck().get() as number;
  const days = row.from_dt && row.to_dt ? Math.round((Date.parse(row.to_dt) - Date.parse(row.from_dt)) / DAY_MS) + 1 : 0;
  return { product_days: row.product_days, days, from: row.from_dt, to: row.to_dt, products };
}

/** What `forecaster/status` answers. */
export interface ForecasterStatus {
  auto_train: boolean;
  retrain_growth_pct: number;
  retrain_interval_hours: number;
  /** The model in use and what it was trained on; null before the first one. */
  model: {
    version: string;
    trained_at: string;
    horizon_days: number;
    min_drop_pct: number;
    /** The period its data covered (training start to test end) and how much it held. */
    trained_on: { from: string; to: string; products: number; decision_days: number; product_days: number | null };
    /** The advice in use and why. */
    policy: PolicyInUse;
    policy_reason: string;
    slices: ModelFile['slices'];
    backtest: BacktestReport;
  } | null;
  history: CacheHistory;
  next: NextTraining;
  /** The running training (automatic or asked for), or null. */
  training: TaskRun | null;
  /** The last automatic training that failed, with its message, until one succeeds. */
  last_failure: { at: string; message: string } | null;
  /** Why the workspace's model file cannot be used (trained by another version): it is replaced like a missing one. */
  model_problem: string | null;
  sources: ({ source: string } & SourceKindInfo)[];
}

export interface ForecastServiceOptions {
  workspace: string;
  cache: CacheDb;
  tasks: TaskRunner;
  /** Train a model (default: on a worker thread). */
  train?: (options: TrainModelOptions, control: { signal?: AbortSignal; onProgress?: (p: { phase: string; done: number; total: number }) => void }) => Promise<TrainReport>;
  /** Options every training of this service gets unless the request says otherwise, the quick first model's too (tests: fewer trees). */
  trainDefaults?: Partial<Omit<TrainModelOptions, 'workspace'>>;
  now?: () => number;
  log?: (message: string) => void;
}

export type TrainRequest = Partial<Pick<TrainModelOptions, 'trees' | 'horizonDays' | 'minDropPct' | 'maxDepth'>>;

export class ForecastService {
  readonly #options: ForecastServiceOptions;
  /** The model file as last read, by modification time: the model, or why it cannot be used. */
  #loaded: { mtimeMs: number; model?: LoadedModel; problem?: string } | undefined;
  #lastFailure: { at: string; message: string; productDays: number } | undefined;

  constructor(options: ForecastServiceOptions) {
    this.#options = options;
  }

  /**
   * The workspace's current model, or undefined when none was trained or its file cannot be used
   * (another feature schema: `status()`'s model_problem says why, and the retrain rule treats it as no
   * model); reloaded when the file changes.
   */
  model(): LoadedModel | undefined {
    const file = defaultModelPath(this.#options.workspace);
    if (!existsSync(file)) {
      this.#loaded = undefined;
      return undefined;
    }
    const mtimeMs = statSync(file).mtimeMs;
    if (this.#loaded?.mtimeMs !== mtimeMs) {
      try {
        this.#loaded = { mtimeMs, model: loadModel(file) };
      } catch (error) {
        this.#loaded = { mtimeMs, problem: (error as Error).message };
      }
    }
    return this.#loaded.model;
  }

  /** The running training task, if any. */
  runningTraining(): TaskRun | undefined {
    const [latest] = this.#options.tasks.list({ kinds: ['train'], limit: 1 });
    return latest?.status === 'running' ? latest : undefined;
  }

  /**
   * Starts a training as a `train` task (progress per phase, cancellable) on a worker thread.
   * Throws ConflictError while another runs. On success the model file is replaced and what it
   * was trained on is recorded for the retrain rule.
   */
  train(request: TrainRequest = {}, label = `Train the forecaster${request.trees ? ` (${request.trees} trees)` : ''}`, quick = false): TaskRun {
    const { cache, tasks, workspace } = this.#options;
    const train = this.#options.train ?? trainModelInWorker;
    const options: TrainModelOptions = { ...(quick ? QUICK_FIRST_MODEL : {}), ...this.#options.trainDefaults, ...definedOnly(request), workspace };
    return tasks.start('train', label, async (task): Promise<TrainReport> => {
      const history = readCacheHistory(cache);
      const report = await train(options, { signal: task.signal, onProgress: (p) => task.progress(p.done, p.total, `${p.phase}: ${p.done} / ${p.total}`) });
      const record: TrainingRecord = { model_version: report.model_version, quick, product_days: history.product_days, products: history.products, days: history.days, from: history.from, to: history.to };
      setMeta(cache, TRAINING_RECORD_KEY, JSON.stringify(record));
      this.#lastFailure = undefined;
      task.progress(1, 1, `Model ${report.model_version}: advice from ${report.policy} captures ${report.backtest.savings_captured_pct} % on the test period (rule ${report.backtest.rule_baseline.savings_captured_pct} %)`);
      return report;
    });
  }

  /**
   * The embedded default's check after each ETL pass and at start: starts a training when the
   * retrain rule says so and none runs. Cheap (one query over the rollups, a stat of the model
   * file). Returns the started run, if any. A failed automatic training is not retried until
   * the data has grown.
   */
  checkAndTrain(): TaskRun | undefined {
    if (this.runningTraining()) return undefined;
    const history = readCacheHistory(this.#options.cache);
    const next = this.#next(history);
    if (!next.due) return undefined;
    if (this.#lastFailure && history.product_days <= this.#lastFailure.productDays) return undefined;
    const first = !this.model();
    this.#options.log?.(`Forecaster: ${next.reason} Training${first ? ' a quick first model' : ''} in the background.`);
    const run = this.train({}, first ? 'Train the forecaster (automatic: quick first model)' : `Retrain the forecaster (automatic: ${next.reason.replace(/\.$/, '').toLowerCase()})`, first);
    void this.#options.tasks.wait(run.id).then((done) => {
      if (done.status === 'failed') this.#lastFailure = { at: done.finished_at ?? new Date().toISOString(), message: done.message ?? 'training failed', productDays: history.product_days };
    });
    return run;
  }

  status(): ForecasterStatus {
    const settings = readSettings(this.#options.workspace).forecaster;
    const history = readCacheHistory(this.#options.cache);
    const model = this.model();
    const meta = model?.meta;
    const record = meta ? this.#trainingRecord(meta.model_version) : undefined;
    return {
      auto_train: settings.autoTrain,
      retrain_growth_pct: settings.retrainGrowthPct,
      retrain_interval_hours: settings.retrainIntervalHours,
      model: meta
        ? {
            version: meta.model_version,
            trained_at: meta.created_at,
            horizon_days: meta.options.horizon_days,
            min_drop_pct: meta.options.min_drop_pct,
            trained_on: {
              from: meta.slices.train.from,
              to: meta.slices.test.to,
              products: meta.slices.train.products,
              decision_days: decisionDays(meta),
              product_days: record?.product_days ?? null,
            },
            policy: meta.policy.in_use,
            policy_reason: meta.policy.reason,
            slices: meta.slices,
            backtest: meta.backtest,
          }
        : null,
      history,
      next: this.#next(history, settings, meta, record),
      training: this.runningTraining() ?? null,
      last_failure: this.#lastFailure ? { at: this.#lastFailure.at, message: this.#lastFailure.message } : null,
      model_problem: this.#loaded?.problem ?? null,
      sources: [...readSourceKinds(this.#options.cache)].map(([source, info]) => ({ source, ...info })),
    };
  }

  #next(history: CacheHistory, settings = readSettings(this.#options.workspace).forecaster, meta = this.model()?.meta, record = meta ? this.#trainingRecord(meta.model_version) : undefined): NextTraining {
    const horizonDays = meta?.options.horizon_days ?? this.#options.trainDefaults?.horizonDays ?? DEFAULT_TRAIN.horizonDays;
    // A model trained elsewhere (`pricedrop train`) has no record: its decision days, one per product-day, stand in.
    const trained = meta ? { created_at: meta.created_at, trained_product_days: record?.product_days ?? decisionDays(meta), quick: record?.quick ?? false } : undefined;
    return nextTraining({ settings, history, horizonDays, now: (this.#options.now ?? Date.now)(), model: trained });
  }

  #trainingRecord(version: string): TrainingRecord | undefined {
    const text = getMeta(this.#options.cache, TRAINING_RECORD_KEY);
    if (!text) return undefined;
    const record = JSON.parse(text) as TrainingRecord;
    return record.model_version === version ? record : undefined;
  }
}

/** Decision days (product × day) over the model's three slices. */
function decisionDays(meta: LoadedModel['meta']): number {
  return meta.slices.train.decisions + meta.slices.validation.decisions + meta.slices.test.decisions;
}
