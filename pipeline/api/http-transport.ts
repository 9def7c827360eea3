import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_TYPES, HttpError, allowMethods, listen, readBody, securityHeaderList, sendHttpError, sendJson } from '../base/http-server';
import type { EventSource } from './event-bus';
import { describeFault, invokeHandler, type AnyHandler } from './api-errors';
import { requestCredential, sessionSetCookie } from './launch-token';
import { MAX_REQUEST_BYTES, paramsProblem } from './validate';

/**
 * The browser transport of the API: the same handlers as Electron's IPC, over HTTP on loopback.
 *
 * - `GET  /api/health`            liveness, open to anyone: `{"ok":true,"version",...}` (nothing private)
 * - `POST /api/session`           `Authorization: Bearer TOKEN` in, the session cookie out (204)
 * - `POST /api/invoke/<name>`     JSON params in, `{"result":…}` or `{"error":{code,message}}` out
 * - `GET  /api/events`            server-sent events: `event: <name>` + JSON `data:`
 * - everything else               the built renderer (dist/renderer), with a strict CSP
 *
 * Who gets in: every `/api/` route but health needs the launch token (pipeline/api/launch-token.ts),
 * as `Authorization: Bearer TOKEN` (scripts) or the HttpOnly, SameSite=Strict session cookie the
 * page got for it (browsers); without it, 401. It listens on 127.0.0.1 unless told otherwise, and
 * rejects with 403 any request whose Host or Origin is not its own address (DNS rebinding,
 * cross-site requests from other pages the user has open), token or not.
 *
 * Statuses: 400 invalid input (naming the field), 401 no token, 403 foreign Host/Origin, 404
 * unknown route or request, 405 wrong method, 409 conflict, 413 body too large, 415 not JSON,
 * 502 AWS failed, 507 no space; 500 only for a real fault. Every 5xx is logged through `log`
 * (with its stack), never sent.
 */
export interface HttpTransportOptions {
  /** The handlers by name (pipeline/app/handlers.ts), each taking `unknown` params it validates itself. */
  handlers: object;
  events: EventSource;
  /** Folder of the built renderer. */
  staticDir: string;
  /** The launch token every `/api/` route but health requires. */
  token: string;
  host?: string;
  port?: number;
  /** Extra `host:port` values accepted in Host/Origin (e.g. a name the user chose to expose). */
  allowedHosts?: string[];
  /** Public facts for `/api/health`: nothing private (no paths, no data). */
  health?: () => Record<string, unknown>;
  /** The backend's log (stderr for `pricedrop start`): faults with their stacks. Never gets the token. */
  log?: (message: string) => void;
}

export interface HttpTransport {
  server: Server;
  /** The base address, without the token. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The UI needs inline styles (ECharts sets them) and data: images (PNG export); nothing remote. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

const SECURITY_HEADERS = securityHeaderList(CONTENT_SECURITY_POLICY);

const UNAUTHORIZED_MESSAGE =
  'This PriceDrop API needs its launch token: open the address "pricedrop start" printed (http://127.0.0.1:PORT/?token=…), or send "Authorization: Bearer TOKEN".';

export async function startHttpTransport(options: HttpTransportOptions): Promise<HttpTransport> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? ((message: string) => console.error(message));
  const handlers = options.handlers as unknown as Record<string, AnyHandler>;
  const sseClients = new Set<ServerResponse>();
  let allowed = new Set<string>();
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        // The contract (contract.ts) names every refusal before a handler runs 'bad_request'.
        if (!res.headersSent) sendHttpError(res, error, [], 'bad_request');
        else res.end();
        return;
      }
      log(`http ${req.method ?? '?'} request failed: ${describeFault(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error; see the PriceDrop log for details.' } });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (let i = 0; i < SECURITY_HEADERS.length; i += 2) res.setHeader(SECURITY_HEADERS[i]!, SECURITY_HEADERS[i + 1]!);
    if (!isAllowedHost(req.headers.host, allowed) || !isAllowedOrigin(req.headers.origin, allowed)) {
      sendJson(res, 403, { error: { code: 'forbidden', message: 'Host or Origin not allowed' } });
      return;
    }
    const target = req.url ?? '/';
    if (!target.startsWith('/')) throw new HttpError(400, 'bad_request', 'Request target must be a path');
    // The raw path (still percent-encoded), without the query: routes compare it as sent.
    const path = target.split('?', 1)[0] as string;
    if (path === '/api/health') {
      allowMethods(req.method, ['GET', 'HEAD']);
      sendJson(res, 200, { ok: true, ...(options.health?.() ?? {}) });
      return;
    }
    if (path === '/api' || path.startsWith('/api/')) {
      // Nothing under /api/ but health says anything, not even "not found", without the token.
      if (!requestCredential(req.headers, options.token, port)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="PriceDrop"');
        sendJson(res, 401, { error: { code: 'unauthorized', message: UNAUTHORIZED_MESSAGE } });
        return;
      }
      await handleApi(req, res, path);
      return;
    }
    allowMethods(req.method, ['GET', 'HEAD']);
    serveStatic(options.staticDir, path, res);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === '/api/session') {
      // Trades the token for the session cookie. Bearer only: the page sends what its address held.
      allowMethods(req.method, ['POST']);
      if (requestCredential(req.headers, options.token, port) !== 'bearer') {
        res.setHeader('WWW-Authenticate', 'Bearer realm="PriceDrop"');
        sendJson(res, 401, { error: { code: 'unauthorized', message: 'Send the launch token as "Authorization: Bearer TOKEN" to get a session.' } });
        return;
      }
      req.resume();
      res.writeHead(204, { 'Set-Cookie': sessionSetCookie(port, options.token), 'Cache-Control': 'no-store' });
      res.end();
      return;
    }
    if (path === '/api/events') {
      allowMethods(req.method, ['GET']);
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': connected\n\n');
      sseClients.add(res);
      req.on('close', () => sseClients.delete(res));
      return;
    }
    if (path.startsWith('/api/invoke/')) {
      allowMethods(req.method, ['POST']);
      const name = decodePathPart(path.slice('/api/invoke/'.length));
      if (!Object.hasOwn(handlers, name)) {
        sendJson(res, 404, { error: { code: 'not_found', message: `Unknown request "${name.slice(0, 100)}"` } });
        return;
      }
      const params = await readParams(req);
      const outcome = await invokeHandler(handlers[name] as AnyHandler, name, params, log);
      if (outcome.ok) sendJson(res, 200, { result: outcome.result });
      else sendJson(res, outcome.status, outcome.body);
      return;
    }
    sendJson(res, 404, { error: { code: 'not_found', message: 'Unknown API path' } });
  }

  const unsubscribe = options.events.onAny((name, payload) => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const client of sseClients) client.write(frame);
  });
  const keepAlive = setInterval(() => {
    for (const client of sseClients) client.write(': keep-alive\n\n');
  }, 20_000);
  keepAlive.unref();

  port = await listen(server, host, options.port);
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

/** One percent-encoded path segment (a request name is sent with encodeURIComponent). */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, 'bad_request', 'Request path is not valid percent-encoded UTF-8');
  }
}

/**
 * A request's params: none without a body; else a JSON body (Content-Type application/json,
 * UTF-8) of at most MAX_REQUEST_BYTES, holding one plain object (validate.ts paramsProblem).
 * Requiring JSON is also a CSRF guard: a cross-site form cannot send it without a preflight.
 */
async function readParams(req: IncomingMessage): Promise<unknown> {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) {
    req.resume();
    return undefined;
  }
  const [mediaType = '', ...parameters] = (req.headers['content-type'] ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((part) => part.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw new HttpError(415, 'bad_request', 'Content-Type must be application/json (UTF-8)');
  }
  const bytes = await readBody(req, MAX_REQUEST_BYTES);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'bad_request', 'Request body is not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  let params: unknown;
  try {
    params = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'bad_request', 'Request body is not valid JSON');
  }
  const problem = paramsProblem(params);
  if (problem) throw new HttpError(400, 'bad_request', problem);
  return params;
}

function serveStatic(root: string, path: string, res: ServerResponse): void {
  const relative = path === '/' ? 'index.html' : decodePathPart(path).replace(/^\/+/, '');
  const file = normalize(join(root, relative));
  if (relative.includes('\0') || !file.startsWith(normalize(root) + sep) || !existsSync(file) || !statSync(file).isFile()) {
    // Client-side routes (#/products) never reach here; an unknown file is a 404.
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not found');
    return;
  }
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'Cache-Control': extname(file) === '.html' ? 'no-store' : 'no-cache',
  });
  // A file removed between the stat and the read ends the response; it must not crash the server.
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
