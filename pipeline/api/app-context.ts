import type { CacheDb } from '../cache/cache-db';
import type { EventBus } from './event-bus';
import type { ProducerControl } from '../docker/producer-control';
import type { ForecastService } from '../forecasting/forecast-service';

/**
 * What every handler may use. Created once by the process that hosts the backend
 * (`pricedrop start`, or Electron's main process) and passed in; handlers never open
 * their own databases or clients.
 */
export interface AppContext {
  /** The workspace folder: lake/, cache.db, quarantine/, models/, settings. */
  workspace: string;
  /** The SQLite cache, opened read-write in WAL mode. */
  cache: CacheDb;
  events: EventBus;
  /** Product version, shown in the UI and in /api/health. */
  version: string;
  /** Which shell hosts the backend: the Electron app or the headless/browser build. */
  shell: 'electron' | 'browser';
  /** The one producer of this backend (container or child process); the embedded runtime starts its simulator through it. */
  producer?: ProducerControl;
  /** The forecaster service; the embedded runtime's trains by itself. Without one the handlers make their own, which trains only when asked. */
  forecaster?: ForecastService;
}
