/**
 * The renderer's one way to the backend. In Electron the preload exposes `window.pricedrop`
 * (IPC); in a browser the same calls go over HTTP to the loopback server, and events arrive as
 * server-sent events. Types come from pipeline/api/contract (derived from the handlers).
 */
import type { ApiErrorBody, Bridge, EventMap, EventName, HandlerName, HandlerParams, HandlerResult } from '../pipeline/api/contract';

declare global {
  interface Window {
    pricedrop?: Bridge;
  }
}

/** An error answered by the backend, with its code and a message fit to show. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function httpBridge(): Bridge {
  let source: EventSource | undefined;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const dispatch = (name: string, payload: unknown) => {
    for (const listener of listeners.get(name) ?? []) listener(payload);
  };
  function ensureSource(name: string): EventSource {
    if (!source) {
      source = new EventSource('/api/events');
      // Events sent while the stream was (re)connecting are lost: tell every data consumer to
      // re-read once the stream is open, so a dashboard opened just before the first ETL commit
      // (or after a dropped connection) does not stay empty.
      source.addEventListener('open', () => dispatch('data/changed', { origin: 'local', rows: 0, at: new Date().toISOString() }));
    }
    if (!listeners.has(name)) {
      listeners.set(name, new Set());
      source.addEventListener(name, (event) => {
        dispatch(name, JSON.parse((event as MessageEvent<string>).data) as unknown);
      });
    }
    return source;
  }
  return {
    async invoke(name, params) {
      const response = await fetch(`/api/invoke/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params ?? {}),
      });
      const body = (await response.json().catch(() => undefined)) as { result: unknown } | ApiErrorBody | undefined;
      if (!response.ok || body === undefined || 'error' in body) {
        const error = body && 'error' in body ? body.error : { code: 'internal', message: `HTTP ${response.status}` };
        throw new ApiError(error.code, error.message, response.status);
      }
      return body.result as never;
    },
    on(name, listener) {
      ensureSource(name);
      const set = listeners.get(name)!;
      const wrapped = listener as (payload: unknown) => void;
      set.add(wrapped);
      return () => set.delete(wrapped);
    },
  };
}

const bridge: Bridge = typeof window !== 'undefined' && window.pricedrop ? window.pricedrop : httpBridge();

/** Asks the backend; typed by the request name. Rejects with ApiError. */
export function invoke<K extends HandlerName>(name: K, ...params: HandlerParams<K> extends void ? [] : [HandlerParams<K>]): Promise<HandlerResult<K>> {
  return bridge.invoke(name, params[0] as HandlerParams<K>);
}

/** Subscribes to a backend event; returns the unsubscribe function. */
export function on<K extends EventName>(name: K, listener: (payload: EventMap[K]) => void): () => void {
  return bridge.on(name, listener);
}

/** Which transport this renderer uses: Electron IPC or HTTP. */
export const transport: 'ipc' | 'http' = typeof window !== 'undefined' && window.pricedrop ? 'ipc' : 'http';
