import type { CacheDb } from '../cache/cache-db';
import type { CoreEvents, EventSink } from './event-bus';

/**
 * What every domain's handlers may use. The composition root (pipeline/app/app-context.ts)
 * builds it once per backend (`pricedrop start`, or Electron's main process) with the services
 * each domain asks for on top (`TaskContext`, `ForecastContext`...); handlers never open their
 * own databases or clients, and a handler factory only returns functions (no side effects).
 */
export interface HandlerContext<Events = CoreEvents> {
  /** The workspace folder: lake/, cache.db, quarantine/, models/, settings. */
  workspace: string;
  /** The SQLite cache, opened read-write in WAL mode. */
  cache: CacheDb;
  events: EventSink<Events>;
  /** Product version, shown in the UI and in /api/health. */
  version: string;
  /** Which shell hosts the backend: the Electron app or the headless/browser build. */
  shell: 'electron' | 'browser';
}
