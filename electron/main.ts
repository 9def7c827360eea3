/**
 * The desktop shell: window, menu, lifecycle, and the IPC side of the typed bridge.
 * The backend is the same embedded runtime `pricedrop start --headless` runs; the renderer reaches it
 * only through the preload's invoke/on. Security: contextIsolation, sandbox, no nodeIntegration,
 * a CSP on every response, navigation locked to the app, external links through one gate.
 */
import { app, BrowserWindow, ipcMain, Menu, Notification, session, shell, type IpcMainInvokeEvent } from 'electron';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL } from '../pipeline/app/contract';
import { invokeHandler, type AnyHandler } from '../pipeline/api/api-errors';
import { CONTENT_SECURITY_POLICY } from '../pipeline/api/http-transport';
import { defaultWorkspace } from '../pipeline/base/command-line';
import { startEmbeddedRuntime, type EmbeddedRuntime } from '../pipeline/app/embedded-runtime';
import { packageRoot, VERSION } from '../pipeline/base/paths';
import { readSettings } from '../pipeline/settings/settings-store';
import { checkInvoke } from './ipc-guard';
import { alertNotification } from './alert-notifications';
import { appMenuTemplate } from './app-menu';

const root = packageRoot();
const rendererIndex = join(root, 'dist', 'renderer', 'index.html');

function argValue(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

const workspace = argValue('workspace') ?? defaultWorkspace();
const windowStateFile = join(workspace, 'window-state.json');

interface WindowState {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized?: boolean;
}

function readWindowState(): WindowState {
  try {
    const state = JSON.parse(readFileSync(windowStateFile, 'utf8')) as WindowState;
    if (state.width >= 640 && state.height >= 480) return state;
  } catch {
    // first launch or unreadable: defaults
  }
  return { width: 1360, height: 880 };
}

/** The one gate for opening anything outside the app: only http(s) URLs, in the user's browser. */
export function openExternal(url: string): void {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') void shell.openExternal(parsed.toString());
  } catch {
    // not a URL: ignore
  }
}

let runtime: EmbeddedRuntime | undefined;

async function createWindow(): Promise<void> {
  mkdirSync(workspace, { recursive: true });
  runtime = await startEmbeddedRuntime({
    workspace,
    shell: 'electron',
    version: VERSION,
    nodeBinary: process.execPath,
  });
  const handlers = runtime.handlers as unknown as Record<string, AnyHandler>;
  const handlerNames = new Set(Object.keys(handlers));

  ipcMain.handle(IPC_INVOKE_CHANNEL, async (event: IpcMainInvokeEvent, name: unknown, params: unknown) => {
    if (!isTrustedSender(event)) return { ok: false, code: 'forbidden', message: 'Untrusted sender' };
    const guard = checkInvoke(name, params, handlerNames);
    if (!guard.ok) return guard;
    // Same statuses as HTTP; a fault (5xx) is logged with its stack here, in the main process, never sent.
    const outcome = await invokeHandler(handlers[name as string]!, name as string, params, (message) => console.error(message));
    return outcome.ok ? { ok: true, result: outcome.result } : { ok: false, code: outcome.body.error.code, message: outcome.body.error.message };
  });

  const state = readWindowState();
  const window = new BrowserWindow({
    width: state.width,
    height: state.height,
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    title: 'PriceDrop',
    show: false,
    webPreferences: {
      preload: join(root, 'dist', 'electron', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  if (state.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.on('close', () => {
    const bounds = window.getBounds();
    writeFileSync(windowStateFile, JSON.stringify({ ...bounds, maximized: window.isMaximized() }));
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith('file://')) {
      event.preventDefault();
      openExternal(url);
    }
  });

  const unsubscribe = runtime.ctx.events.onAny((name, payload) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT_CHANNEL, name, payload);
  });
  const ctx = runtime.ctx;
  // Alerts also reach the desktop: one notification per evaluation, when the user wants them.
  const unsubscribeAlerts = ctx.events.on('alerts/fired', (fired) => {
    if (!Notification.isSupported() || !readSettings(workspace).alerts.desktopNotifications) return;
    const text = alertNotification(fired);
    if (!text) return;
    const notification = new Notification({ title: text.title, body: text.body });
    notification.on('click', () => {
      if (window.isDestroyed()) return;
      window.show();
      if (text.open) ctx.events.emit('ui/navigate', { screen: 'products', params: { source: text.open.source, id: text.open.productId } });
    });
    notification.show();
  });
  window.on('closed', () => {
    unsubscribe();
    unsubscribeAlerts();
  });
  buildMenu((screen) => ctx.events.emit('ui/navigate', { screen }));
  await window.loadFile(rendererIndex);
}

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith('file://');
}

function buildMenu(navigate: (screen: string) => void): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      appMenuTemplate(process.platform, {
        navigate,
        openWorkspaceFolder: () => void shell.openPath(workspace),
        openExternal,
      }),
    ),
  );
}

app.whenReady().then(async () => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(permission === 'notifications'));
  if (!existsSync(rendererIndex)) throw new Error(`The UI is not built: ${rendererIndex}`);
  await createWindow();
});

app.on('window-all-closed', async () => {
  // stop() cancels what still runs (a training, a sync) before the cache closes under it.
  await runtime?.stop();
  app.quit();
});
