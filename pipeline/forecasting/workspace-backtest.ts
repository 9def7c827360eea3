import { backtestModel, type ModelBacktestOptions } from '../../model/evaluation/model-backtest';
import type { BacktestReport } from '../../model/evaluation/report-types';
import { defaultModelPath, loadModel, type LoadedModel } from '../../model/model-file';
import { readWorkspaceHistories } from './workspace-cache';

export interface WorkspaceBacktestOptions extends ModelBacktestOptions {
  workspace: string;
  /** A model file (default: the workspace's current model) or an already loaded model. */
  model?: string | LoadedModel;
}

/**
 * The backtest as `pricedrop backtest` runs it: the workspace's histories, read from its cache,
 * through `backtestModel` (model/evaluation/model-backtest.ts). The Model screen calls this too.
 */
export function backtestWorkspace(options: WorkspaceBacktestOptions): BacktestReport & { model_version: string } {
  const model = typeof options.model === 'object' ? options.model : loadModel(options.model ?? defaultModelPath(options.workspace));
  return backtestModel(readWorkspaceHistories(options.workspace), model, options);
}
