import { EventEmitter } from 'node:events';

/**
 * The events every part of the backend may push to the UI (over SSE in the browser, IPC in
 * Electron). A domain with events of its own declares them next to its code (TaskEvents,
 * AlertEvents, ProducerEvents) and the composition root joins them into the app's EventMap
 * (pipeline/app/events.ts), from which the renderer's `on()` is typed.
 */
export interface CoreEvents {
  /** The cache changed (ETL committed, sync finished): dashboards refresh. */
  'data/changed': { origin: 'local' | 'athena'; rows: number; at: string };
  /** Progress of a long task (ETL, sync, training, crawl...). `total` is absent when unknown. */
  'task/progress': { task: string; label: string; done: number; total?: number };
  /** A line for the activity log. */
  'log/line': { level: 'info' | 'warn' | 'error'; source: string; message: string; at: string };
  /** The desktop shell asks the UI to open a screen (menu, notification click). */
  'ui/navigate': { screen: string; params?: Record<string, string> };
}

/** What a domain needs of the bus: to emit its events and to listen to others. */
export interface EventSink<M> {
  emit<K extends keyof M & string>(name: K, payload: M[K]): void;
  on<K extends keyof M & string>(name: K, listener: (payload: M[K]) => void): () => void;
}

/** What a transport needs of the bus: every event, to forward to its clients. */
export interface EventSource {
  onAny(listener: (name: string, payload: unknown) => void): () => void;
}

/** A typed in-process event bus over the map M; the transports forward every event to their clients. */
export class EventBus<M extends object> implements EventSink<M>, EventSource {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(100);
  }

  emit<K extends keyof M & string>(name: K, payload: M[K]): void {
    this.#emitter.emit('event', name, payload);
  }

  /** Subscribes to every event; returns the unsubscribe function. */
  onAny(listener: (name: keyof M & string, payload: M[keyof M]) => void): () => void {
    this.#emitter.on('event', listener);
    return () => this.#emitter.off('event', listener);
  }

  on<K extends keyof M & string>(name: K, listener: (payload: M[K]) => void): () => void {
    const wrapped = (eventName: string, payload: unknown) => {
      if (eventName === name) listener(payload as M[K]);
    };
    this.#emitter.on('event', wrapped);
    return () => this.#emitter.off('event', wrapped);
  }
}
