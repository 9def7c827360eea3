import { EventEmitter } from 'node:events';
import type { TaskRun } from '../tasks/task-runner';
import type { FiredAlert } from '../alerts/alert-store';
import type { ProducerStatus } from '../docker/producer-control';

/**
 * Every event the backend pushes to the UI (over SSE in the browser, IPC in Electron).
 * Add a domain's events here; the renderer's `on()` is typed from this map.
 */
export interface EventMap {
  /** The cache changed (ETL committed, sync finished): dashboards refresh. */
  'data/changed': { origin: 'local' | 'athena'; rows: number; at: string };
  /** Progress of a long task (ETL, sync, training, crawl...). `total` is absent when unknown. */
  'task/progress': { task: string; label: string; done: number; total?: number };
  /** A line for the activity log. */
  'log/line': { level: 'info' | 'warn' | 'error'; source: string; message: string; at: string };
  /** A long task (pipeline/tasks) started, progressed to a new state, or finished. */
  'task/updated': TaskRun;
  /** Alerts that fired in one evaluation (after an ETL pass, a sync, or a new rule). */
  'alerts/fired': { alerts: FiredAlert[]; suppressed: number };
  /** The desktop shell asks the UI to open a screen (menu, notification click). */
  'ui/navigate': { screen: string; params?: Record<string, string> };
  /** The producer (container or child process) changed state: building, running, exited... */
  'producer/status': ProducerStatus;
}

export type EventName = keyof EventMap;

/** A typed in-process event bus; the transports forward every event to their clients. */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  emit<K extends EventName>(name: K, payload: EventMap[K]): void {
    this.#emitter.emit('event', name, payload);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: <K extends EventName>(name: K, payload: EventMap[K]) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  on<K extends EventName>(name: K, listener: (payload: EventMap[K]) => void): () => void {
    const wrapped = (eventName: EventName, payload: unknown) => {
      if (eventName === name) listener(payload as EventMap[K]);
    };
    this.#emitter.on('event', wrapped);
    return () => this.#emitter.off('event', wrapped);
  }
}
