import { existsSync } from 'node:fs';
import { cachePath, openCache, type CacheDb } from '../cache/cache-db';
import { workspaceHistories } from './history-reader';
import type { TrainingHistories } from '../../model/training';

/** Opens the workspace's cache read-only, with a clear message when there is none. */
export function openWorkspaceCache(workspace: string): CacheDb {
  const file = cachePath(workspace);
  if (!existsSync(file)) throw new Error(`no cache at ${file}: fill it first (pricedrop etl, or pricedrop import)`);
  return openCache(file, { readonly: true });
}

/**
 * Every history of the workspace's cache, with each source's kind and data end (what training and
 * the backtest take); the cache is closed again before the caller's long computation starts.
 */
export function readWorkspaceHistories(workspace: string): TrainingHistories {
  const db = openWorkspaceCache(workspace);
  try {
    return workspaceHistories(db);
  } finally {
    db.close();
  }
}
