/**
 * The typed API contract between the UI and the backend: types only, derived from the handler
 * implementations. This is the one backend module the renderer may import (types only).
 */
import type { Handlers } from './handlers';
import type { EventMap, EventName } from './events';
import type { ApiErrorBody } from '../api/api-errors';

export type { ApiErrorBody, EventMap, EventName };
export type HandlerName = keyof Handlers;
export type HandlerParams<K extends HandlerName> = Parameters<Handlers[K]> extends [] ? void : Parameters<Handlers[K]>[0];
export type HandlerResult<K extends HandlerName> = Awaited<ReturnType<Handlers[K]>>;

/** What the Electron preload exposes as `window.pricedrop` (and what the HTTP client mimics). */
export interface Bridge {
  invoke<K extends HandlerName>(name: K, params: HandlerParams<K>): Promise<HandlerResult<K>>;
  /** Subscribes to backend events; returns the unsubscribe function. */
  on<K extends EventName>(name: K, listener: (payload: EventMap[K]) => void): () => void;
}

/** The IPC channel names the preload and the main process agree on. */
export const IPC_INVOKE_CHANNEL = 'pricedrop:invoke';
export const IPC_EVENT_CHANNEL = 'pricedrop:event';
