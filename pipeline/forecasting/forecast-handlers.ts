import { existsSync, statSync } from 'node:fs';
import type { AppContext } from '../api/app-context';
import { optionalNumber, record, requiredString } from '../api/validate';
import { setAlertForecaster } from '../alerts/alert-handlers';
import { taskRunnerOf, type TaskRun } from '../tasks/task-runner';
import { defaultModelPath, loadModel, predictProduct, type LoadedModel, type ProductPrediction } from '../../model/predictor';
import { trainModel, type TrainReport } from '../../model/training';

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

export function forecastHandlers(ctx: AppContext) {
  setAlertForecaster(ctx, (source, productId) => {
    const model = currentModel(ctx);
    if (!model) return undefined;
    try {
      return predictProduct(ctx.cache, model, productId, { source });
    } catch {
      return undefined; // too little history for features: no forecast for this one
    }
  });
  return {
    /** The model in use (its metadata: version, window, options, metrics, calibration, importance), or null. */
    'model/status': async () => {
      const model = currentModel(ctx);
      return { model: model ? model.meta : null, file: defaultModelPath(ctx.workspace) };
    },
    /** Trains a new model from the cache as a task (progress per phase, cancellable); it replaces the current one when done. */
    'model/train': async (params: { trees?: number; horizonDays?: number; minDropPct?: number; maxDepth?: number; threshold?: number }): Promise<TaskRun> => {
      const input = record(params);
      const options = {
        trees: optionalNumber(input, 'trees', { min: 1, max: 1000, integer: true }),
        horizonDays: optionalNumber(input, 'horizonDays', { min: 1, max: 365, integer: true }),
        minDropPct: optionalNumber(input, 'minDropPct', { min: 0.1, max: 90 }),
        maxDepth: optionalNumber(input, 'maxDepth', { min: 1, max: 40, integer: true }),
        threshold: optionalNumber(input, 'threshold', { min: 0.01, max: 0.99 }),
      };
      return taskRunnerOf(ctx).start('train', `Train the forecaster${options.trees ? ` (${options.trees} trees)` : ''}`, async (task): Promise<TrainReport> => {
        const report = await trainModel(
          { workspace: ctx.workspace, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) },
          {
            signal: task.signal,
            useThisThread: false,
            onProgress: (p) => task.progress(p.done, p.total, `${p.phase}: ${p.done} / ${p.total}`),
          },
        );
        task.progress(1, 1, `Model ${report.model_version}: AUC ${report.auc.toFixed(3)}, Brier ${report.brier.toFixed(3)}`);
        return report;
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
