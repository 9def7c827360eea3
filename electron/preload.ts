/**
 * The preload bridge: the renderer's only door to the backend. It runs sandboxed with
 * contextIsolation, and exposes exactly two functions as `window.pricedrop`: `invoke(name, params)`
 * and `on(event, listener)`. No Node API, no ipcRenderer, no credentials cross it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type Bridge } from '../pipeline/app/contract';

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();

ipcRenderer.on(IPC_EVENT_CHANNEL, (_event: IpcRendererEvent, name: string, payload: unknown) => {
  for (const listener of listeners.get(name) ?? []) listener(payload);
});

const bridge: Bridge = {
  async invoke(name, params) {
    const reply = (await ipcRenderer.invoke(IPC_INVOKE_CHANNEL, name, params)) as { ok: true; result: unknown } | { ok: false; code: string; message: string };
    if (reply.ok) return reply.result as never;
    const error = new Error(reply.message) as Error & { code: string };
    error.code = reply.code;
    throw error;
  },
  on(name, listener) {
    if (!listeners.has(name)) listeners.set(name, new Set());
    const set = listeners.get(name)!;
    set.add(listener as Listener);
    return () => set.delete(listener as Listener);
  },
};

contextBridge.exposeInMainWorld('pricedrop', bridge);
