import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EventBus } from './event-bus';
import type { Handlers } from './handlers';
import { toApiError } from './api-errors';
import { MAX_REQUEST_BYTES, ValidationError } from './validate';

/**
 * The browser transport of the API: the same handlers as Electron's IPC, over HTTP on loopback.
 *
 * - `GET  /api/health`            liveness: `{"ok":true,...}`
 * - `POST /api/invoke/<name>`     JSON params in, `{"result":…}` or `{"error":{code,message}}` out
 * - `GET  /api/events`            server-sent events: `event: <name>` + JSON `data:`
 * - everything else               the built renderer (dist/renderer), with a strict CSP
 *
 * It listens on 127.0.0.1 unless told otherwise, and rejects any request whose Host or Origin is not
 * its own address (DNS rebinding, cross-site requests from other pages the user has open).
 */
export interface HttpTransportOptions {
  handlers: Handlers;
  events: EventBus;
  /** Folder of the built renderer. */
  staticDir: string;
  host?: string;
  port?: number;
  /** Extra `host:port` values accepted in Host/Origin (e.g. a name the user chose to expose). */
  allowedHosts?: string[];
  health?: () => Record<string, unknown>;
  log?: (message: string) => void;
}

export interface HttpTransport {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = MAX_REQUEST_BYTES;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** The UI needs inline styles (ECharts sets them) and data: images (PNG export); nothing remote. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export async function startHttpTransport(options: HttpTransportOptions): Promise<HttpTransport> {
  const host = options.host ?? '127.0.0.1';
  const sseClients = new Set<ServerResponse>();
  let allowed = new Set<string>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.log?.(`http: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, toApiError(error).body);
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    setSecurityHeaders(res);
    if (!isAllowedHost(req.headers.host, allowed) || !isAllowedOrigin(req.headers.origin, allowed)) {
      sendJson(res, 403, { error: { code: 'forbidden', message: 'Host or Origin not allowed' } });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/api/health') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      sendJson(res, 200, { ok: true, ...(options.health?.() ?? {}) });
      return;
    }
    if (path === '/api/events') {
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      sseClients.add(res);
      req.on('close', () => sseClients.delete(res));
      return;
    }
    if (path.startsWith('/api/invoke/')) {
      if (req.method !== 'POST') return methodNotAllowed(res, 'POST');
      const name = decodeURIComponent(path.slice('/api/invoke/'.length));
      if (!Object.hasOwn(options.handlers, name)) {
        sendJson(res, 404, { error: { code: 'not_found', message: `Unknown request "${name.slice(0, 100)}"` } });
        return;
      }
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/json')) {
        // Also a CSRF guard: a cross-site form cannot send application/json without a preflight.
        sendJson(res, 415, { error: { code: 'bad_request', message: 'Content-Type must be application/json' } });
        return;
      }
      let params: unknown;
      try {
        params = await readJson(req);
      } catch (error) {
        sendJson(res, error instanceof PayloadTooLarge ? 413 : 400, { error: { code: 'bad_request', message: (error as Error).message } });
        return;
      }
      try {
        const handler = options.handlers[name as keyof Handlers] as (params: unknown) => Promise<unknown>;
        const result = await handler(params);
        sendJson(res, 200, { result: result ?? null });
      } catch (error) {
        const { status, body } = toApiError(error);
        if (status === 500) options.log?.(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        sendJson(res, status, body);
      }
      return;
    }
    if (path.startsWith('/api/')) {
      sendJson(res, 404, { error: { code: 'not_found', message: 'Unknown API path' } });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowed(res, 'GET, HEAD');
    serveStatic(options.staticDir, path, res);
  }

  const unsubscribe = options.events.onAny((name, payload) => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const client of sseClients) client.write(frame);
  });
  const keepAlive = setInterval(() => {
    for (const client of sseClients) client.write(': keep-alive\n\n');
  }, 20_000);
  keepAlive.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  allowed = new Set([`${shownHost}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, ...(options.allowedHosts ?? [])]);
  return {
    server,
    port,
    url: `http://${shownHost}:${port}/`,
    close: async () => {
      unsubscribe();
      clearInterval(keepAlive);
      for (const client of sseClients) client.end();
      sseClients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function isAllowedHost(host: string | undefined, allowed: Set<string>): boolean {
  return host !== undefined && allowed.has(host.toLowerCase());
}

function isAllowedOrigin(origin: string | undefined, allowed: Set<string>): boolean {
  if (origin === undefined) return true; // same-origin GETs and non-browser clients send none
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' && allowed.has(url.host.toLowerCase());
  } catch {
    return false;
  }
}

function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendJson(res, 405, { error: { code: 'bad_request', message: `Method not allowed; use ${allow}` } });
}

class PayloadTooLarge extends Error {}

/** Reads a JSON body of at most MAX_BODY_BYTES; drains (not resets) an oversized one so the 413 reaches the client. */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    let size = 0;
    let tooLarge = declared > MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (tooLarge) return reject(new PayloadTooLarge(`Request body is larger than ${MAX_BODY_BYTES} bytes`));
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve(undefined);
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new ValidationError('Request body is not valid JSON'));
      }
    });
  });
}

function serveStatic(root: string, path: string, res: ServerResponse): void {
  const relative = path === '/' ? 'index.html' : decodeURIComponent(path).replace(/^\/+/, '');
  const file = normalize(join(root, relative));
  if (!file.startsWith(normalize(root) + sep) || !existsSync(file) || !statSync(file).isFile()) {
    // Client-side routes (#/products) never reach here; an unknown file is a 404.
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not found');
    return;
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': extname(file) === '.html' ? 'no-store' : 'no-cache',
  });
  createReadStream(file).pipe(res);
}
