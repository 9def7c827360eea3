import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { startServing, type RunningServer } from '../../model/server/serve';
import { SERVER_CSP } from '../../model/server/predict-server';
import { FEATURE_NAMES } from '../../model/features';
import { buildFixtureBundle, type FixtureBundle } from './fixture-bundle';

const PREDICTION_FIELDS = ['product_id', 'will_drop', 'confidence', 'expected_drop_amount', 'expected_drop_pct', 'risk_level', 'recommendation', 'reasons', 'policy'];

let fixture: FixtureBundle;

beforeAll(async () => {
  fixture = await buildFixtureBundle();
});

function startFixtureServer(extra: Partial<Parameters<typeof startServing>[0]> = {}): Promise<RunningServer> {
  return startServing({
    bundle: fixture.bundleFile,
    host: '127.0.0.1',
    port: 0,
    pollSeconds: 0,
    rateLimit: { perSecond: 0, burst: 1 },
    log: () => {},
    ...extra,
  });
}

/** A raw request, for what fetch() refuses to send (bad paths, wrong methods with bodies, huge headers). */
function raw(url: string, options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('the predictor API', () => {
  let running: RunningServer;
  let url: string;
  const api = (path: string, init?: RequestInit) => fetch(new URL(path, url), init);
  const predict = (body: unknown) => api('/api/predict', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    running = await startFixtureServer();
    url = running.http.url;
  });
  afterAll(() => running?.stop());

  it('GET /health reports the model version and bundle age', async () => {
    const response = await api('/health');
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: true, model_version: fixture.modelVersion, products: 60 });
    expect(Date.parse(body.bundle_created_at as string)).toBeLessThanOrEqual(Date.now());
    expect(body.bundle_age_s).toBeGreaterThanOrEqual(0);
  });

  it('searches by name (accent- and case-insensitive) and by id', async () => {
    const byName = (await (await api('/api/products?q=COFFEE')).json()) as { products: { id: string }[] };
    expect(byName.products.map((p) => p.id)).toEqual(['coffee-1kg']);
    const accent = (await (await api('/api/products?q=creme%20brulee')).json()) as { products: { id: string }[] };
    expect(accent.products.map((p) => p.id)).toEqual(['crème-brûlée']);
    const byId = (await (await api('/api/products?q=p00&limit=5')).json()) as { products: { id: string }[] };
    expect((await (await api('/api/products?q=tea-100')).json()) as unknown).toMatchObject({ products: [{ id: 'tea-100', name: 'Earl Grey Tea 100 bags', currency: 'EUR' }] });
    expect(byId.products).toHaveLength(5);
    expect(byId.products.every((p) => p.id.startsWith('p00'))).toBe(true);
    const none = (await (await api('/api/products?q=zzzz')).json()) as { products: unknown[] };
    expect(none.products).toEqual([]);
  });

  it('GET /api/products/:id returns details and history; unknown ids are 404', async () => {
    const response = await api(`/api/products/${encodeURIComponent('crème-brûlée')}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { name: string; history: [string, number][] };
    expect(body.name).toBe('Crème brûlée dessert pots');
    // 180 days of segments: promotions make several; every point is [ISO time, price], in time order.
    expect(body.history.length).toBeGreaterThan(2);
    const times = body.history.map((point) => Date.parse(point[0]));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(body.history.every((point) => point[1] > 0 && point[1] <= 3.25)).toBe(true);
    const missing = await api('/api/products/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'No product with this id' } });
  });

  it('POST /api/predict by product id answers the fields of "pricedrop predict"', async () => {
    const response = await predict({ product_id: 'coffee-1kg' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([...PREDICTION_FIELDS].sort());
    expect(body.product_id).toBe('coffee-1kg');
    expect(body.will_drop).toBe(body.recommendation === 'Wait');
    expect((body.reasons as { text: string }[]).length).toBeGreaterThan(0);
    expect(typeof (body.reasons as { text: string }[])[0]!.text).toBe('string');
    expect(['Buy now', 'Wait']).toContain(body.recommendation);
    expect(['Low', 'Medium', 'High']).toContain(body.risk_level);
    expect(body.confidence).toBeGreaterThanOrEqual(0);
    expect(body.confidence).toBeLessThanOrEqual(1);
  });

  it('POST /api/predict with a feature payload predicts a product the bundle does not know', async () => {
    // The same features as a known product must give the same answer as predicting that product.
    const known = (await (await predict({ product_id: 'tea-100' })).json()) as Record<string, unknown>;
    const bundled = running.http.current().products.get('tea-100')!.features as number[];
    const features = Object.fromEntries(FEATURE_NAMES.map((name, i) => [name, bundled[i]]));
    const response = await predict({ product_id: 'new-thing', features });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ...known, product_id: 'new-thing' });
    const missing = await predict({ features: { price: 3 } });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/feature "\w+" must be a finite number/);
    const unknown = await predict({ features: { colour: 3 } });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/Unknown feature "colour"/);
  });

  it('GET /api/model gives version, options, the policy in use, its backtest and the feature schema', async () => {
    const body = (await (await api('/api/model')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ version: fixture.modelVersion, feature_schema: { names: [...FEATURE_NAMES] }, options: { horizon_days: 14, min_drop_pct: 5 } });
    expect(body.backtest).toHaveProperty('savings_captured_pct');
    expect(['model', 'rule_tuned', 'frequency_baseline']).toContain(body.policy);
    expect(body.training_window).toHaveProperty('train_from');
    expect(body).not.toHaveProperty('classifier');
    expect(JSON.stringify(body).length).toBeLessThan(20_000);
  });

  it.each([
    ['no body', undefined, 400, /empty/],
    ['bad JSON', '{"product_id":', 400, /not valid JSON/],
    ['an array', '[1]', 400, /JSON object/],
    ['a number id', '{"product_id":7}', 400, /product_id must be/],
    ['an unknown field', '{"product_id":"a","admin":true}', 400, /Unknown field "admin"/],
    ['neither id nor features', '{}', 400, /product_id/],
    ['an unknown product', '{"product_id":"nope"}', 404, /No product/],
  ])('POST /api/predict with %s is a clear 4xx', async (_what, body, status, message) => {
    const response = await api('/api/predict', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(response.status).toBe(status);
    const json = (await response.json()) as { error: { code: string; message: string } };
    expect(json.error.message).toMatch(message);
  });

  it('refuses wrong content types, methods, oversized bodies and queries', async () => {
    expect((await api('/api/predict', { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
    const get = await api('/api/predict');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const big = await predict({ product_id: 'x'.repeat(20_000) });
    expect(big.status).toBe(413);
    expect((await api(`/api/products?q=${'a'.repeat(101)}`)).status).toBe(400);
    expect((await api(`/api/products?q=${'a'.repeat(3000)}`)).status).toBe(414);
    expect((await api('/api/products?q=a&drop=tables')).status).toBe(400);
    expect((await api('/api/products?q=%E0%A4%A')).status).toBe(400);
    expect((await api('/api/products?q=a&limit=0')).status).toBe(400);
    expect((await api('/api/nothing')).status).toBe(404);
    const hugeHeader = await raw(url, { path: '/health', headers: { 'X-Big': 'a'.repeat(20_000) } });
    expect(hugeHeader.status).toBe(431);
  });

  it('sends security headers and a strict CSP, no CORS, no stack traces', async () => {
    const page = await api('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(SERVER_CSP);
    expect(SERVER_CSP).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    expect(html).not.toMatch(/<script>(?!<)|<script(?![^>]*\bsrc=)[^>]*>/);
    const cross = await api('/api/model', { headers: { Origin: 'https://evil.example' } });
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await api('/api/predict', { method: 'OPTIONS', headers: { Origin: 'https://evil.example' } });
    expect(preflight.status).toBe(403);
    const bad = await raw(url, { path: '/api/products/%', method: 'GET' });
    expect(bad.status).toBe(400);
    expect(bad.body).not.toMatch(/at |\/work|node_modules|\.ts/);
  });

  it('serves ECharts and the page files, and nothing else from disk', async () => {
    const echarts = await api('/vendor/echarts.min.js');
    expect(echarts.status).toBe(200);
    expect(echarts.headers.get('content-type')).toMatch(/javascript/);
    for (const path of ['/app.js', '/app.css']) expect((await api(path)).status).toBe(200);
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/index.ts', '/public/app.js']) {
      expect((await raw(url, { path })).status).toBe(404);
    }
  });
});

describe('the predictor API with an API key, CORS and a rate limit', () => {
  let running: RunningServer;
  const key = 'k3y-0123456789abcdef';

  beforeAll(async () => {
    running = await startFixtureServer({ apiKey: key, corsOrigins: ['https://shop.example'], rateLimit: { perSecond: 1, burst: 5 } });
  });
  afterAll(() => running?.stop());

  it('requires X-API-Key on /api/* but not on /health or the page', async () => {
    const base = running.http.url;
    expect((await fetch(new URL('/health', base))).status).toBe(200);
    expect((await fetch(new URL('/', base))).status).toBe(200);
    const none = await fetch(new URL('/api/model', base));
    expect(none.status).toBe(401);
    expect((await fetch(new URL('/api/model', base), { headers: { 'X-API-Key': 'wrong' } })).status).toBe(401);
    expect((await fetch(new URL('/api/model', base), { headers: { 'X-API-Key': key } })).status).toBe(200);
  });

  it('answers a configured origin with CORS headers and a preflight', async () => {
    const base = running.http.url;
    const preflight = await fetch(new URL('/api/predict', base), { method: 'OPTIONS', headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/X-API-Key/);
  });

  it('limits by the balancer\'s X-Forwarded-For entry only with trustProxy', async () => {
    const behindBalancer = await startFixtureServer({ trustProxy: true, rateLimit: { perSecond: 0.01, burst: 2 } });
    const direct = await startFixtureServer({ rateLimit: { perSecond: 0.01, burst: 2 } });
    try {
      const status = async (server: RunningServer, forwardedFor: string) => (await fetch(new URL('/api/model', server.http.url), { headers: { 'X-Forwarded-For': forwardedFor } })).status;
      // Clients put anything first; the balancer appends the address it saw: that one counts.
      expect([await status(behindBalancer, 'spoof, 10.0.0.1'), await status(behindBalancer, 'other, 10.0.0.1'), await status(behindBalancer, '10.0.0.1')]).toEqual([200, 200, 429]);
      expect(await status(behindBalancer, '10.0.0.2')).toBe(200);
      // Without trustProxy the header is ignored: one socket address, one bucket.
      expect([await status(direct, '10.0.0.1'), await status(direct, '10.0.0.2'), await status(direct, '10.0.0.3')]).toEqual([200, 200, 429]);
    } finally {
      await behindBalancer.stop();
      await direct.stop();
    }
  });

  it('writes one access-log line per request when asked, the path quoted', async () => {
    const lines: string[] = [];
    const logged = await startFixtureServer({ accessLog: true, log: (line) => lines.push(line) });
    try {
      await (await fetch(new URL('/api/products?q=tea', logged.http.url))).arrayBuffer();
      await (await fetch(new URL('/api/products/%22%0Anope', logged.http.url))).arrayBuffer();
      await expect.poll(() => lines.filter((line) => line.startsWith('GET '))).toHaveLength(2);
      const [first, second] = lines.filter((line) => line.startsWith('GET '));
      expect(first).toMatch(/^GET "\/api\/products\?q=tea" 200 \d+\.\dms 127\.0\.0\.1$/);
      expect(second).toMatch(/^GET "\/api\/products\/%22%0Anope" 404 /);
    } finally {
      await logged.stop();
    }
  });

  it('limits each client with 429 and Retry-After once its burst is spent', async () => {
    const base = running.http.url;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 10; i++) {
      const response = await fetch(new URL('/api/model', base), { headers: { 'X-API-Key': key } });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get('retry-after');
    }
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await fetch(new URL('/health', base))).status).toBe(200);
  });
});
