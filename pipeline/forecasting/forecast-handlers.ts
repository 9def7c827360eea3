import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { AppContext } from '../api/app-context';
import { optionalNumber, optionalString, record, requiredString, ValidationError } from '../api/validate';
import { ConflictError } from '../api/api-errors';
import { setAlertForecaster } from '../alerts/alert-handlers';
import { taskRunnerOf, type TaskRun } from '../tasks/task-runner';
import { defaultModelPath, loadModel, type LoadedModel } from '../../model/predictor';
import { predictProduct, type ProductPrediction } from '../../model/cache-predictions';
import { type TrainReport } from '../../model/training';
import { trainModelInWorker } from '../../model/train-model-runner';
import { publishBundle, type PublishReport } from '../../model/bundle/publish-bundle';
import { createS3Client, parseBundleLocation } from '../../model/bundle/bundle-source';
import { readSettings } from '../settings/settings-store';
import { awaitTerminableTask, startWorker } from '../runtime/worker-threads';
import type { BacktestReport } from '../../model/evaluation/report-types';
import type { BacktestProgress } from './backtest.worker';

/**
 * The model domain of the app: the model in use, training as a task, and predictions for the
 * Products screen and for `predicted_drop` alert rules. The forecaster itself lives in model/;
 * this file loads its model file (reloaded when the file changes) and starts its training.
 */
interface Loaded {
  model: LoadedModel;
  mtimeMs: number;
}

const loadedModels = new WeakMap<AppContext, Loaded>();

/** The current model of the workspace, or undefined when none was trained; reloaded when the file changes. */
export function currentModel(ctx: AppContext): LoadedModel | undefined {
  const file = defaultModelPath(ctx.workspace);
  if (!existsSync(file)) return undefined;
  const mtimeMs = statSync(file).mtimeMs;
  const cached = loadedModels.get(ctx);
  if (cached && cached.mtimeMs === mtimeMs) return cached.model;
  const model = loadModel(file);
  loadedModels.set(ctx, { model, mtimeMs });
  return model;
}

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

export function forecastHandlers(ctx: AppContext) {
  // Alert rules on predicted drops ask after every ETL pass (every few seconds while a producer
  // runs); a prediction costs about 2.5 ms (60 products × 60 days, measured with predictProduct),
  // so a category of a few hundred products would hold the backend for a second each time.
  // Forecasts are kept per model and product for the hour: features move on a scale of days.
  const forecasts = new Map<string, ReturnType<typeof predictProduct> | null>();
  setAlertForecaster(ctx, (source, productId) => {
    const model = currentModel(ctx);
    if (!model) return undefined;
    const key = `${model.meta.model_version}\u0000${new Date().toISOString().slice(0, 13)}\u0000${source}\u0000${productId}`;
    if (!forecasts.has(key)) {
      if (forecasts.size > 50_000) forecasts.clear();
      try {
        forecasts.set(key, predictProduct(ctx.cache, model, productId, { source }));
      } catch {
        forecasts.set(key, null); // too little history for features: no forecast for this one
      }
    }
    return forecasts.get(key) ?? undefined;
  });
  return {
    /** The model in use (its metadata: version, window, options, metrics, calibration, importance), or null. */
    'model/status': async () => {
      const model = currentModel(ctx);
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
      return taskRunnerOf(ctx).start('train', `Train the forecaster${options.trees ? ` (${options.trees} trees)` : ''}`, async (task): Promise<TrainReport> => {
        // The whole training runs on a worker thread: the backend (Electron's main process) stays responsive.
        const report = await trainModelInWorker(
          { workspace: ctx.workspace, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) },
          { signal: task.signal, onProgress: (p) => task.progress(p.done, p.total, `${p.phase}: ${p.done} / ${p.total}`) },
        );
        task.progress(1, 1, `Model ${report.model_version}: advice from ${report.policy} captures ${report.backtest.savings_captured_pct} % on the test period (rule ${report.backtest.rule_baseline.savings_captured_pct} %)`);
        return report;
      });
    },
    /** Replays Buy now / Wait on the model's test period (savings captured vs a clairvoyant buyer), as a task on a worker thread. */
    'model/backtest': async (): Promise<TaskRun> => {
      if (!currentModel(ctx)) throw new ConflictError('No model to backtest yet: train one first.');
      return taskRunnerOf(ctx).start('backtest', 'Backtest Buy now / Wait on the test period', async (task) => {
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
      if (!currentModel(ctx)) throw new ConflictError('No model to publish yet: train one first.');
      if (out.kind === 'file') mkdirSync(dirname(out.path), { recursive: true });
      return taskRunnerOf(ctx).start('publish', `Publish the predictor bundle to ${outText}`, async (task): Promise<PublishReport> => {
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
    /** The advice for one product; `prediction` null (with the reason) when there is no model or too little history. */
    'products/prediction': async (params: { source: string; productId: string }): Promise<{ prediction: ProductPrediction | null; reason: string; model_version: string | null }> => {
      const input = record(params);
      const source = requiredString(input, 'source', 200);
      const productId = requiredString(input, 'productId', 200);
      const model = currentModel(ctx);
      if (!model) return { prediction: null, reason: 'No model has been trained in this workspace yet.', model_version: null };
      try {
        return { prediction: predictProduct(ctx.cache, model, productId, { source }), reason: '', model_version: model.meta.model_version };
      } catch (error) {
        return { prediction: null, reason: `No forecast for this product: ${(error as Error).message}.`, model_version: model.meta.model_version };
      }
    },
  };
}
