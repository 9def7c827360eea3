import { defaultModelPath } from '../../model/model-file';
import { trainOnHistories, type TrainControl, type TrainOptions, type TrainReport } from '../../model/training';
import { readWorkspaceHistories } from './workspace-cache';

/** Training a workspace's model: `pricedrop train`, the desktop app's forecaster and `pricedrop bench serve`. */
export interface TrainModelOptions extends TrainOptions {
  /** The workspace: the cache is `<workspace>/cache.db`, the model goes to `<workspace>/models/current.json`. */
  workspace: string;
  /** Where to write the model (default: `defaultModelPath(workspace)`). */
  out?: string;
}

/**
 * Trains a model from the workspace's cache and writes the model file. The histories are read
 * and the cache closed before the forests grow. For a caller that must never block at all
 * (Electron's main process) use `trainModelInWorker` (train-model-runner.ts).
 */
export async function trainModel(options: TrainModelOptions, control: TrainControl = {}): Promise<TrainReport> {
  const { workspace, out, ...settings } = options;
  return trainOnHistories(readWorkspaceHistories(workspace), { ...settings, out: out ?? defaultModelPath(workspace) }, control);
}
