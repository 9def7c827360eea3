/**
 * The renderer's one way to the backend. In Electron the preload exposes `window.pricedrop`
 * (IPC, no token); in a browser the same calls go over HTTP to the loopback server, and events
 * arrive as server-sent events. Types come from pipeline/app/contract (derived from the handlers).
 *
 * In a browser the page is opened at the address `pricedrop start` printed, `/?token=…`: it takes
 * the token out of the address bar at once and trades it for the server's HttpOnly, SameSite=Strict
 * session cookie before any other request. The token is held only until that request is sent:
 * never stored (no localStorage, no sessionStorage, no cookie the page can read).
 */
import type { ApiErrorBody, Bridge, EventMap, EventName, HandlerName, HandlerParams, HandlerResult } from '../pipeline/app/contract';

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

const authListeners = new Set<() => void>();
let authRequired = false;

function requireAuth(): void {
  authRequired = true;
  for (const listener of authListeners) listener();
}

/** Calls `listener` once the backend refuses this page for want of its launch token (HTTP 401); at once if it already did. */
export function onAuthRequired(listener: () => void): () => void {
  authListeners.add(listener);
  if (authRequired) listener();
  return () => authListeners.delete(listener);
}

/** Drops `?token=` from the address bar and trades it for the session cookie; resolves when that is settled (or at once without a token). */
function startSession(): Promise<void> {
  const query = new URLSearchParams(window.location.search);
  const token = query.get('token');
  if (token === null) return Promise.resolve();
  query.delete('token');
  const rest = query.toString();
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${rest ? `?${rest}` : ''}${window.location.hash}`);
  return fetch('/api/session', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, credentials: 'same-origin' }).then(
    (response) => {
      if (response.status === 401) requireAuth();
    },
    () => undefined, // backend unreachable: the calls that follow say so
  );
}

function httpBridge(): Bridge {
  const session = startSession();
  let source: EventSource | undefined;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const dispatch = (name: string, payload: unknown) => {
    for (const listener of listeners.get(name) ?? []) listener(payload);
  };
  const listen = (stream: EventSource, name: string) =>
    stream.addEventListener(name, (event) => {
      dispatch(name, JSON.parse((event as MessageEvent<string>).data) as unknown);
    });
  let opening = false;
  /** The event stream opens once the session is settled (the cookie must come first); names registered before are listened to then. */
  function ensureSource(name: string): void {
    const known = listeners.has(name);
    if (!known) listeners.set(name, new Set());
    if (source) {
      if (!known) listen(source, name);
      return;
    }
    if (opening) return;
    opening = true;
    void session.then(() => {
      const stream = new EventSource('/api/events');
      // Events sent while the stream was (re)connecting are lost: tell every data consumer to
      // re-read once the stream is open, so a dashboard opened just before the first ETL commit
      // (or after a dropped connection) does not stay empty.
      stream.addEventListener('open', () => dispatch('data/changed', { origin: 'local', rows: 0, at: new Date().toISOString() }));
      for (const registered of listeners.keys()) listen(stream, registered);
      source = stream;
    });
  }
  return {
    async invoke(name, params) {
      await session;
      const response = await fetch(`/api/invoke/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(params ?? {}),
      });
      if (response.status === 401) requireAuth();
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
