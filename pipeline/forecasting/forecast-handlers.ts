import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { optionalNumber, optionalString, record, requiredString } from '../api/validate';
import { ConflictError, ValidationError } from '../base/errors';
import type { TaskContext, TaskRun } from '../tasks/task-runner';
import { defaultModelPath } from '../../model/predictor';
import { predictProduct, type ProductPrediction } from './cache-predictions';
import { publishBundle, type PublishReport } from './publish-bundle';
import { createS3Client, parseBundleLocation } from '../../model/bundle/bundle-source';
import { readSettings } from '../settings/settings-store';
import { awaitTerminableTask, startWorker } from '../base/worker-threads';
import type { BacktestReport } from '../../model/evaluation/report-types';
import type { BacktestProgress } from './backtest.worker';
import type { ForecastService, ForecasterStatus } from './forecast-service';
import type { CacheDb } from '../cache/cache-db';

/**
 * The model domain of the app: the model in use, training as a task, the forecaster's own
 * training state, and predictions for the Products screen and for `predicted_drop` alert rules.
 * The forecaster itself lives in model/; the service (forecast-service.ts) loads its model file
 * and starts its trainings.
 */
/** The backtest of the workspace's current model on a worker thread; aborting terminates the worker. */
export async function backtestInWorker(workspace: string, onProgress: (done: number, total: number) => void, signal: AbortSignal): Promise<BacktestReport & { model_version: string }> {
  signal.throwIfAborted();
  const worker = startWorker(new URL('./backtest.worker.ts', import.meta.url), { workerData: { workspace } });
  return awaitTerminableTask<BacktestReport & { model_version: string }, BacktestProgress>(worker, 'backtest worker', {
    onProgress: (progress) => onProgress(progress.done, progress.total),
    signal,
    abortError: () => new DOMException('backtest cancelled', 'AbortError'),
  });
}

/** What the forecasting handlers need: the task runner and the backend's one forecast service. */
export interface ForecastContext extends TaskContext {
  forecaster: ForecastService;
}

/**
 * Forecasts for `predicted_drop` alert rules, from the forecaster's current model. The rules ask
 * after every ETL pass (every few seconds while a producer runs); a prediction costs about 2.5 ms
 * (60 products × 60 days, measured with predictProduct), so a category of a few hundred products
 * would hold the backend for a second each time. Forecasts are kept per model and product for the
 * hour: features move on a scale of days.
 */
export function alertForecasts(forecaster: ForecastService, cache: CacheDb): (source: string, productId: string) => ProductPrediction | undefined {
  const forecasts = new Map<string, ProductPrediction | null>();
  return (source, productId) => {
    const model = forecaster.model();
    if (!model) return undefined;
    const key = `${model.meta.model_version}\u0000${new Date().toISOString().slice(0, 13)}\u0000${source}\u0000${productId}`;
    if (!forecasts.has(key)) {
      if (forecasts.size > 50_000) forecasts.clear();
      try {
        forecasts.set(key, predictProduct(cache, model, productId, { source }));
      } catch {
        forecasts.set(key, null); // too little history for features: no forecast for this one
      }
    }
    return forecasts.get(key) ?? undefined;
  };
}

export function forecastHandlers(ctx: ForecastContext) {
  const forecaster = ctx.forecaster;
  const currentModel = () => forecaster.model();
  return {
    /** The model in use (its metadata: version, window, options, metrics, calibration, importance), or null. */
    'model/status': async () => {
      const model = currentModel();
      return { model: model ? model.meta : null, file: defaultModelPath(ctx.workspace) };
    },
    /** Trains a new model from the cache as a task (progress per phase, cancellable); it replaces the current one when done. */
    'model/train': async (params: { trees?: number; horizonDays?: number; minDropPct?: number; maxDepth?: number }): Promise<TaskRun> => {
      const input = record(params);
      const options = {
        trees: optionalNumber(input, 'trees', { min: 1, max: 1000, integer: true }),
        horizonDays: optionalNumber(input, 'horizonDays', { min: 1, max: 365, integer: true }),
        minDropPct: optionalNumber(input, 'minDropPct', { min: 0.1, max: 90 }),
        maxDepth: optionalNumber(input, 'maxDepth', { min: 1, max: 40, integer: true }),
      };
      return forecaster.train(options);
    },
    /**
     * The forecaster's state: the model in use (version, when, on what, policy and why, slices,
     * backtest), the cache's history, the next retrain condition, the running training and each
     * source's kind.
     */
    'forecaster/status': async (): Promise<ForecasterStatus> => forecaster.status(),
    /** Replays Buy now / Wait on the model's test period (savings captured vs a clairvoyant buyer), as a task on a worker thread. */
    'model/backtest': async (): Promise<TaskRun> => {
      if (!currentModel()) throw new ConflictError('No model to backtest yet: train one first.');
      return ctx.tasks.start('backtest', 'Backtest Buy now / Wait on the test period', async (task) => {
        const report = await backtestInWorker(ctx.workspace, (done, total) => task.progress(done, total, `reading histories ${done} / ${total}`), task.signal);
        task.progress(1, 1, `${report.decisions} decisions: ${report.savings_captured_pct} % of the clairvoyant's savings (rule ${report.rule_baseline.savings_captured_pct} %)`);
        return report;
      });
    },
    /**
     * Publishes the bundle the headless predictor serves (model + every product's latest state) to
     * a file (absolute path) or `s3://BUCKET/KEY` (the AWS profile's credentials, in the backend);
     * default `<workspace>/bundles/current.pdbundle`. A server watching it swaps it in live.
     */
    'model/publish': async (params: { out?: string }): Promise<TaskRun> => {
      const input = record(params);
      const outText = optionalString(input, 'out', 1024) ?? join(ctx.workspace, 'bundles', 'current.pdbundle');
      if (!outText.startsWith('s3://') && !isAbsolute(outText)) throw new ValidationError('out must be an absolute file path or s3://BUCKET/KEY');
      let out: ReturnType<typeof parseBundleLocation>;
      try {
        out = parseBundleLocation(outText);
      } catch (error) {
        throw new ValidationError((error as Error).message);
      }
      if (!currentModel()) throw new ConflictError('No model to publish yet: train one first.');
      if (out.kind === 'file') mkdirSync(dirname(out.path), { recursive: true });
      return ctx.tasks.start('publish', `Publish the predictor bundle to ${outText}`, async (task): Promise<PublishReport> => {
        // S3: the backend's standard credential chain (AWS_PROFILE, SSO, instance role), in the Settings region.
        const s3 = out.kind === 's3' ? createS3Client(undefined, readSettings(ctx.workspace).aws.region) : undefined;
        try {
          const report = await publishBundle({ workspace: ctx.workspace, out, ...(s3 ? { s3 } : {}), onProgress: (done) => task.progress(done, undefined, `${done} products`) });
          task.progress(report.products, report.products, `${report.products} products, ${(report.bytes / 1024).toFixed(0)} KiB, model ${report.model_version}`);
          return report;
        } finally {
          s3?.destroy();
        }
      });
    },
    /**
     * The advice for one product; `prediction` null (with the reason) when there is no model yet
     * or too little history. Before the first model, `reason` says what the forecaster is doing
     * about it (training now, or how much history it still needs) and `training` is the running
     * training task, so the product page can show its progress.
     */
    'products/prediction': async (params: { source: string; productId: string }): Promise<{ prediction: ProductPrediction | null; reason: string; model_version: string | null; training: TaskRun | null }> => {
      const input = record(params);
      const source = requiredString(input, 'source', 200);
      const productId = requiredString(input, 'productId', 200);
      const model = currentModel();
      const training = forecaster.runningTraining() ?? null;
      if (!model) return { prediction: null, reason: noModelReason(forecaster.status()), model_version: null, training };
      try {
        return { prediction: predictProduct(ctx.cache, model, productId, { source }), reason: '', model_version: model.meta.model_version, training };
      } catch (error) {
        return { prediction: null, reason: `No forecast for this product: ${(error as Error).message}.`, model_version: model.meta.model_version, training };
      }
    },
  };
}

/** Why there is no advice yet, and what happens next. */
function noModelReason(status: ForecasterStatus): string {
  if (status.training) return `The forecaster is training ${status.model_problem ? 'a new' : 'its first'} model on ${status.history.days} days of history; the advice appears here when it is done.`;
  if (status.model_problem) return `The model file cannot be used (${status.model_problem}).`;
  if (status.last_failure) return `The last training failed (${status.last_failure.message}); it is tried again when more data arrives.`;
  return status.next.reason;
}
