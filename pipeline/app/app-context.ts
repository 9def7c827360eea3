import { EventBus } from '../api/event-bus';
import type { CacheDb } from '../cache/cache-db';
import type { HandlerContext } from '../api/handler-context';
import { TaskRunner } from '../tasks/task-runner';
import { watchAlerts, type AlertContext } from '../alerts/alert-handlers';
import { createProducerControl, type ProducerControl } from '../docker/producer-control';
import { forwardProducerEvents, type ProducerContext } from '../docker/producer-handlers';
import { ForecastService, type ForecastServiceOptions } from '../forecasting/forecast-service';
import { alertForecasts, type ForecastContext } from '../forecasting/forecast-handlers';
import type { EventMap } from './events';

/**
 * The composition root's context: the base every handler gets, and the backend's services, each
 * built once here and passed in (no registry keyed by the context, no handler that builds its
 * own). Each domain declares the part it needs (TaskContext, AlertContext, ProducerContext,
 * ForecastContext); this type is all of them at once.
 */
export interface AppContext extends HandlerContext<EventMap>, ForecastContext, AlertContext, ProducerContext {
  events: EventBus<EventMap>;
}

export interface AppContextOptions {
  workspace: string;
  cache: CacheDb;
  version: string;
  shell: AppContext['shell'];
  /** The producer control (default: one for this workspace, Docker when an engine answers, else a child process). */
  producer?: ProducerControl;
  /** Options of the forecast service (trainings' defaults, log); it trains only when asked unless its host calls checkAndTrain. */
  forecaster?: Pick<ForecastServiceOptions, 'trainDefaults' | 'log'>;
}

export interface AppServices {
  ctx: AppContext;
  /** Stops the wiring made here (event forwarding, the alert watcher) and cancels running tasks. */
  dispose(): Promise<void>;
}

/**
 * Builds the services (event bus, task runner, producer control, forecaster, the alerts'
 * forecasts) and starts the wiring between them: producer events onto the bus, alert
 * evaluation after each data change. The handler factories (pipeline/app/handlers.ts) only read
 * what is built here.
 */
export function createAppContext(options: AppContextOptions): AppServices {
  const { workspace, cache, version, shell } = options;
  const events = new EventBus<EventMap>();
  const tasks = new TaskRunner(cache, events);
  const producer = options.producer ?? createProducerControl({ workspace });
  const forecaster = new ForecastService({ workspace, cache, tasks, ...options.forecaster });
  const ctx: AppContext = { workspace, cache, events, version, shell, tasks, producer, forecaster, forecastForAlerts: alertForecasts(forecaster, cache) };
  const stopForwarding = forwardProducerEvents(producer, events);
  const stopWatching = watchAlerts(ctx);
  return {
    ctx,
    async dispose() {
      stopWatching();
      stopForwarding();
      await tasks.stopAll();
    },
  };
}
