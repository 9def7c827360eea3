import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError, allowMethods, listen, readBody, securityHeaderList, sendHttpError, sendJsonText } from '../../pipeline/base/http-server';
import type { LoadedBundle } from '../bundle/loaded-bundle';
import type { BundleProduct } from '../bundle/bundle-format';
import { createRateLimiter, type RateLimiter } from './rate-limit';
import { loadStaticAssets, type StaticAsset } from './static-assets';
import { PayloadError } from './serving-model';

/**
 * The headless predictor over HTTP, written to face the open internet:
 *
 *   GET  /health               liveness + model version and bundle age (never rate limited or keyed)
 *   GET  /api/products?q=TEXT  search by id or name (at most `limit`, default 20, max 50)
 *   GET  /api/products/:id     details and price history
 *   POST /api/predict          {"product_id": …} or {"product_id"?: …, "features": {…}}
 *   GET  /api/model            version, options, metrics, feature schema
 *   GET  /                     the web page (static files held in memory, ECharts included)
 *
 * Every error is `{"error":{"code","message"}}` with a 4xx status; a bug is a generic 500 with
 * no stack or path (the detail goes to the log). Each request reads the current bundle once, so a
 * hot swap never mixes two bundles in one answer and never drops a request.
 */
export interface PredictServerOptions {
  /** The bundle to serve now; `swap()` replaces it. */
  bundle: LoadedBundle;
  host?: string;
  port?: number;
  /** When set, /api/* needs the header `X-API-Key: <apiKey>`. */
  apiKey?: string;
  /** Origins allowed to call the API from other sites (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** Per-client token bucket; `perSecond: 0` turns it off. */
  rateLimit?: { perSecond: number; burst: number };
  /**
   * Behind a load balancer (AWS ALB): identify the client by the last X-Forwarded-For entry, the
   * address the balancer itself saw, instead of the socket's (which is the balancer's).
   */
  trustProxy?: boolean;
  /** One line per answered request through `log`: method, path (JSON-quoted), status, ms, client. */
  accessLog?: boolean;
  /** Extra facts for /health (e.g. the watcher's last refusal). */
  health?: () => Record<string, unknown>;
  log?: (message: string) => void;
  /** Static page folder (default: publicDir()). */
  publicDir?: string;
}

export interface PredictServer {
  server: Server;
  url: string;
  port: number;
  current(): LoadedBundle;
  swap(bundle: LoadedBundle): void;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes every socket. */
  close(graceMs?: number): Promise<void>;
}

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_URL_LENGTH = 2048;
const MAX_QUERY_LENGTH = 100;
const MAX_ID_LENGTH = 200;
const MAX_FEATURES = 200;

/** No inline script or style, nothing remote: the page is three files and ECharts from this origin. */
export const SERVER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Served to the internet (often behind TLS at a balancer): no device APIs, HTTPS remembered. */
const SECURITY_HEADER_PAIRS = securityHeaderList(SERVER_CSP, {
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Strict-Transport-Security': 'max-age=31536000',
});

export async function startPredictServer(options: PredictServerOptions): Promise<PredictServer> {
  // Closures below use these locals, never `options`: holding `options` would keep the first
  // bundle alive after every swap (measured: one extra bundle's 30 MB of heap, forever).
  const { log, health, accessLog, port: requestedPort } = options;
  const trustProxy = options.trustProxy ?? false;
  const host = options.host ?? '127.0.0.1';
  let bundle = options.bundle;
  const assets = loadStaticAssets(options.publicDir);
  const limiter: RateLimiter | undefined = options.rateLimit && options.rateLimit.perSecond > 0 ? createRateLimiter(options.rateLimit) : undefined;
  const apiKeyDigest = options.apiKey ? sha256(options.apiKey) : undefined;
  const corsOrigins = new Set(options.corsOrigins ?? []);
  // Once closing, every answer (including those of requests in flight at SIGTERM) closes its connection.
  let closing = false;

  const server = createServer({ maxHeaderSize: 8192, requestTimeout: 15_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    if (accessLog && log) logAccess(req, res, log, trustProxy);
    try {
      handle(req, res);
    } catch (error) {
      fail(res, error);
    }
  });
  // Malformed HTTP (bad request line, oversized headers): answer 400/431 and drop the socket.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (error.code === 'ECONNRESET')) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ error: { code: 'bad_request', message: 'Malformed HTTP request' } });
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nX-Content-Type-Options: nosniff\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  });

  /** The headers of every answer of this server: its security policy, and Connection: close once closing. */
  function policyHeaders(): readonly string[] {
    return closing ? [...SECURITY_HEADER_PAIRS, 'Connection', 'close'] : SECURITY_HEADER_PAIRS;
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    sendJsonText(res, status, JSON.stringify(body), policyHeaders());
  }

  function fail(res: ServerResponse, error: unknown): void {
    if (error instanceof HttpError) {
      if (res.headersSent) return void res.destroy();
      return sendHttpError(res, error, policyHeaders());
    }
    log?.(`server error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: 'Internal error' } });
    else res.destroy();
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const rawUrl = req.url ?? '';
    if (rawUrl.length > MAX_URL_LENGTH) throw new HttpError(414, 'uri_too_long', `The URL is longer than ${MAX_URL_LENGTH} characters`);
    if (!rawUrl.startsWith('/')) throw new HttpError(400, 'bad_request', 'The request target must be a path');
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt < 0 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = queryAt < 0 ? '' : rawUrl.slice(queryAt + 1);
    const method = req.method ?? '';

    if (path === '/health') {
      allowMethods(method, ['GET', 'HEAD']);
      const current = bundle;
      return sendJson(res, 200, {
        ok: true,
        model_version: current.model.version,
        bundle_created_at: new Date(current.createdAt).toISOString(),
        bundle_age_s: Math.max(0, Math.round((Date.now() - current.createdAt) / 1000)),
        bundle_loaded_at: new Date(current.loadedAt).toISOString(),
        products: current.products.size,
        ...(health?.() ?? {}),
      });
    }

    if (path.startsWith('/api/') || path === '/api') {
      const origin = req.headers.origin;
      const corsAllowed = origin !== undefined && corsOrigins.has(origin);
      if (corsAllowed) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Vary', 'Origin');
      }
      if (method === 'OPTIONS') {
        if (!corsAllowed) throw new HttpError(403, 'forbidden', 'Cross-origin requests are not allowed');
        res.writeHead(204, [...SECURITY_HEADER_PAIRS, 'Access-Control-Allow-Methods', 'GET, POST', 'Access-Control-Allow-Headers', 'Content-Type, X-API-Key', 'Access-Control-Max-Age', '600']);
        return void res.end();
      }
      if (limiter) {
        const decision = limiter.take(clientOf(req, trustProxy));
        if (!decision.allowed) throw new HttpError(429, 'rate_limited', 'Too many requests; slow down', { 'Retry-After': String(decision.retryAfterSeconds) });
      }
      if (apiKeyDigest) checkApiKey(req.headers['x-api-key'], apiKeyDigest);
      return routeApi(req, res, method, path, query);
    }

    allowMethods(method, ['GET', 'HEAD']);
    const asset = assets.get(path === '/index.html' ? '/' : path);
    if (!asset) throw new HttpError(404, 'not_found', 'Not found');
    sendAsset(req, res, method, asset);
  }

  function routeApi(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string): void {
    const current = bundle;
    if (path === '/api/products') {
      allowMethods(method, ['GET']);
      const params = parseQuery(query, ['q', 'limit']);
      const q = params.get('q') ?? '';
      if (q.length > MAX_QUERY_LENGTH) throw new HttpError(400, 'bad_request', `q is longer than ${MAX_QUERY_LENGTH} characters`);
      const limit = params.has('limit') ? integerParam(params.get('limit')!, 'limit', 1, 50) : 20;
      const products = current.search(q, limit).map(summary);
      return sendJson(res, 200, { query: q, products });
    }
    if (path.startsWith('/api/products/')) {
      allowMethods(method, ['GET']);
      if (query !== '') parseQuery(query, []);
      const id = decodeSegment(path.slice('/api/products/'.length));
      const product = current.products.get(id);
      if (!product) throw new HttpError(404, 'not_found', 'No product with this id');
      // The history goes out as the bundle's own JSON text: no parse, no re-serialisation.
      const head = JSON.stringify({ ...summary(product), last_observed_at: product.last_observed_at, as_of: product.as_of ?? product.last_observed_at });
      return sendJsonText(res, 200, `${head.slice(0, -1)},"history":${current.historyJson(product)}}`, policyHeaders());
    }
    if (path === '/api/predict') {
      allowMethods(method, ['POST']);
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
      readBody(req, MAX_BODY_BYTES)
        .then((body) => sendJsonText(res, 200, predict(bundle, parseJson(body.toString('utf8'))), policyHeaders()))
        .catch((error: unknown) => {
          // Facing the internet: a client that sent too much is not kept connected.
          if (error instanceof HttpError && error.status === 413) res.setHeader('Connection', 'close');
          fail(res, error);
        });
      return;
    }
    if (path === '/api/model') {
      allowMethods(method, ['GET']);
      return sendJson(res, 200, {
        ...current.model.info,
        bundle: { created_at: new Date(current.createdAt).toISOString(), products: current.products.size, format_version: current.header.format_version, sha256: current.header.sha256 },
      });
    }
    throw new HttpError(404, 'not_found', 'Unknown API path');
  }

  function sendAsset(req: IncomingMessage, res: ServerResponse, method: string, asset: StaticAsset): void {
    const headers: (string | number)[] = [...policyHeaders(), 'Content-Type', asset.contentType, 'Cache-Control', asset.cacheControl, 'ETag', asset.etag, 'Vary', 'Accept-Encoding'];
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers as string[]);
      return void res.end();
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? asset.gzip : asset.body;
    if (gzip) headers.push('Content-Encoding', 'gzip');
    headers.push('Content-Length', body.length);
    res.writeHead(200, headers as string[]);
    res.end(method === 'HEAD' ? undefined : body);
  }

  const port = await listen(server, host, requestedPort);
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    port,
    url: `http://${shownHost}:${port}/`,
    current: () => bundle,
    swap(next) {
      bundle = next;
    },
    async close(graceMs = 10_000) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function logAccess(req: IncomingMessage, res: ServerResponse, log: (message: string) => void, trustProxy: boolean): void {
  const started = performance.now();
  res.once('finish', () => {
    const path = (req.url ?? '').slice(0, 200);
    log(`${req.method} ${JSON.stringify(path)} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms ${clientOf(req, trustProxy)}`);
  });
}

/** The rate limiter's client key: the socket address, or the balancer's last X-Forwarded-For entry. */
function clientOf(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  if (typeof forwarded === 'string' && forwarded !== '') {
    const last = forwarded.slice(forwarded.lastIndexOf(',') + 1).trim();
    if (last !== '') return last.slice(0, 100);
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/** Refuses a missing or wrong key in constant time (both sides hashed to the same length first). */
function checkApiKey(header: string | string[] | undefined, expected: Buffer): void {
  if (typeof header !== 'string' || header === '') throw new HttpError(401, 'unauthorized', 'An API key is required (X-API-Key header)');
  if (!timingSafeEqual(sha256(header), expected)) throw new HttpError(401, 'unauthorized', 'The API key is not valid');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function parseQuery(query: string, known: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  if (query === '') return params;
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq), 'query');
    const value = decodeComponent(eq < 0 ? '' : part.slice(eq + 1), 'query');
    if (!known.includes(name)) throw new HttpError(400, 'bad_request', `Unknown query parameter "${name.slice(0, 40)}"${known.length ? `; use ${known.join(', ')}` : ''}`);
    if (params.has(name)) throw new HttpError(400, 'bad_request', `Query parameter "${name}" is repeated`);
    params.set(name, value);
  }
  return params;
}

function decodeComponent(text: string, what: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new HttpError(400, 'bad_request', `Malformed percent-encoding in the ${what}`);
  }
}

function decodeSegment(segment: string): string {
  if (segment === '' || segment.includes('/')) throw new HttpError(404, 'not_found', 'Unknown API path');
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, 'bad_request', 'Malformed percent-encoding in the product id');
  }
  if (id.length > MAX_ID_LENGTH) throw new HttpError(400, 'bad_request', `The product id is longer than ${MAX_ID_LENGTH} characters`);
  return id;
}

function integerParam(value: string, name: string, min: number, max: number): number {
  if (!/^\d{1,6}$/.test(value)) throw new HttpError(400, 'bad_request', `${name} must be a whole number from ${min} to ${max}`);
  const n = Number(value);
  if (n < min || n > max) throw new HttpError(400, 'bad_request', `${name} must be a whole number from ${min} to ${max}`);
  return n;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new HttpError(400, 'bad_request', 'The body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'bad_request', 'The body is not valid JSON');
  }
}

/**
 * `{"product_id": id}` predicts a known product; `{"features": {...}, "product_id"?: id}` predicts
 * from the caller's features. Returns the JSON text of the prediction.
 */
function predict(bundle: LoadedBundle, body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'bad_request', 'The body must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (key !== 'product_id' && key !== 'features') throw new HttpError(400, 'bad_request', `Unknown field "${key.slice(0, 40)}"; send product_id or features`);
  }
  const id = input.product_id;
  if (id !== undefined && (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH)) {
    throw new HttpError(400, 'bad_request', `product_id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  const features = input.features;
  if (features === undefined) {
    if (id === undefined) throw new HttpError(400, 'bad_request', 'Send {"product_id": …} or {"features": {…}}');
    const product = bundle.products.get(id);
    if (!product) throw new HttpError(404, 'not_found', 'No product with this id; send its features to predict it');
    return bundle.predictionJson(product);
  }
  if (features === null || typeof features !== 'object' || Array.isArray(features)) throw new HttpError(400, 'bad_request', 'features must be an object of feature name to number');
  const entries = Object.keys(features);
  if (entries.length > MAX_FEATURES) throw new HttpError(400, 'bad_request', `features has more than ${MAX_FEATURES} entries`);
  for (const name of entries) {
    if (!bundle.model.payloadKeys.has(name)) throw new HttpError(400, 'bad_request', `Unknown feature "${name.slice(0, 60)}"; GET /api/model lists the feature schema`);
  }
  try {
    return JSON.stringify(bundle.model.predictFeatures(id ?? 'unknown', features as Record<string, unknown>));
  } catch (error) {
    if (error instanceof PayloadError) throw new HttpError(400, 'bad_request', error.message);
    throw error;
  }
}

function summary(product: BundleProduct) {
  return { id: product.id, name: product.name, category: product.category, currency: product.currency, price: product.price, old_price: product.old_price };
}


