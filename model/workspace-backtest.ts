import { buildDataset } from './dataset';
import { runBacktest, type BacktestReport } from './evaluation/backtest';
import { defaultModelPath, loadModel, type LoadedModel } from './model-file';
import { openWorkspaceCache } from './training';

export interface WorkspaceBacktestOptions {
  workspace: string;
  /** A model file (default: the workspace's current model) or an already loaded model. */
  model?: string | LoadedModel;
  /** Decision starts from / to (epoch ms); default: the model's test period. */
  from?: number;
  to?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * The backtest as `pricedrop backtest` runs it: reads the workspace's cache with the model's
 * horizon, minimum drop and category table, then replays the decisions (see evaluation/backtest.ts).
 * The desktop's Model screen calls this too.
 */
export function backtestWorkspace(options: WorkspaceBacktestOptions): BacktestReport & { model_version: string } {
  const model = typeof options.model === 'object' ? options.model : loadModel(options.model ?? defaultModelPath(options.workspace));
  const db = openWorkspaceCache(options.workspace);
  let dataset;
  try {
    dataset = buildDataset(db, {
      horizonDays: model.meta.options.horizon_days,
      minDropPct: model.meta.options.min_drop_pct,
      categories: model.meta.categories,
      onProgress: options.onProgress,
      signal: options.signal,
    });
  } finally {
    db.close();
  }
  return { model_version: model.meta.model_version, ...runBacktest(model, dataset, { from: options.from, to: options.to }) };
}
