import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../support/cli-process';

/**
 * A local stand-in for the four product APIs, on 127.0.0.1, shaped exactly on the captured bodies
 * in ../shared/api-samples (see its SOURCES.md): DummyJSON limit/skip paging whose `limit` echoes the
 * number returned and 400 bodies for bad numbers; Fake Store's plain array and 200-empty-body for
 * unknown ids; Shopify's string prices and `{"products":[]}` past the last page; Best Buy's cursorMark
 * envelope (the end repeats the cursor) and its 403 error body. Each API sits under its own prefix
 * (`/dummyjson`, `/fakestore`, `/shopify`, `/bestbuy`), so a source's `--url` is `<base>/<api>`.
 *
 * Faults are scripted per API: the first requests of an API answer, in order, 429 with Retry-After,
 * 500, or hang past the client's timeout; `malformed` adds broken records to each catalogue.
 */
export type Api = 'dummyjson' | 'fakestore' | 'shopify' | 'bestbuy';
export type Fault = { kind: '429'; retryAfterSeconds: number } | { kind: '500' } | { kind: 'hang'; ms: number };

export interface ApiServerOptions {
  faults?: Partial<Record<Api, Fault[]>>;
  malformed?: boolean;
  bestBuyKey?: string;
}

export interface ApiRequestLog {
  api: Api;
  path: string;
  status: number;
  at: number;
}

export const SAMPLES = resolve(REPO_ROOT, '../shared/api-samples');

function sample(path: string): unknown {
  return JSON.parse(readFileSync(join(SAMPLES, path), 'utf8'));
}

/** Malformed records added with `malformed: true`, by API (how many each adds: see MALFORMED_COUNTS). */
export const MALFORMED_COUNTS: Record<Api, number> = { dummyjson: 2, fakestore: 2, shopify: 2, bestbuy: 1 };

export function catalogues(malformed: boolean) {
  const dummy = sample('dummyjson/database-products.json') as Record<string, unknown>[];
  const fake = sample('fakestore/get-products.json') as unknown[];
  const shopify = (sample('shopify/kith-products-json-page-TRIMMED4.json') as { products: Record<string, unknown>[] }).products;
  const full = (sample('bestbuy/products-sku-5758400-cursormark-page1-default-attributes.json') as { products: Record<string, unknown>[] }).products[0]!;
  const canon = (sample('bestbuy/products-canon-saleprice-lt-500-cursormark-page1-show-sku-name-saleprice-TRIMMED30.json') as { products: Record<string, unknown>[] }).products;
  // Best Buy: the canon capture has sku, name and salePrice only; regularPrice and categoryPath take
  // the types of the full-attribute capture (no citable capture has all of them together).
  const bestbuy: Record<string, unknown>[] = [
    full,
    ...canon.map((product, i) => ({
      ...product,
      regularPrice: i % 3 === 0 ? Math.round(((product.salePrice as number) + 10) * 100) / 100 : product.salePrice,
      categoryPath: [{ id: 'cat00000', name: 'Best Buy' }, { id: 'abcat0800000', name: 'Printers & Ink' }],
    })),
  ];
  if (malformed) {
    dummy.push({ id: 195, title: 'Broken Price', price: 'abc', discountPercentage: 5, category: 'misc' });
    dummy.push({ title: 'No Id', price: 5, category: 'misc' });
    fake.push({ id: 21, title: 'Null Price', price: null, category: 'misc' }, 'not a product');
    shopify.push({ id: 1001, title: 'Broken Variant', product_type: 'Misc', variants: [{ id: 5001, title: 'Default Title', price: 'n/a', compare_at_price: null }] });
    shopify.push({ title: 'No Id', product_type: 'Misc', variants: [] });
    bestbuy.push({ name: 'No Sku', salePrice: 10, regularPrice: 12 });
  }
  return { dummy, fake, shopify, bestbuy };
}

export async function startApiServer(options: ApiServerOptions = {}) {
  const data = catalogues(Boolean(options.malformed));
  const faults: Partial<Record<Api, Fault[]>> = Object.fromEntries(Object.entries(options.faults ?? {}).map(([api, list]) => [api, [...list]]));
  const requests: ApiRequestLog[] = [];
  const bestBuyKey = options.bestBuyKey ?? 'test-key';

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const api = url.pathname.split('/')[1] as Api;
    const log = (status: number) => requests.push({ api, path: url.pathname + url.search, status, at: Date.now() });
    const fault = faults[api]?.shift();
    if (fault?.kind === '429') {
      log(429);
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(fault.retryAfterSeconds) });
      response.end('{"message":"Too Many Requests"}');
      return;
    }
    if (fault?.kind === '500') {
      log(500);
      response.writeHead(500, { 'content-type': 'text/html' });
      response.end('<html><body>Internal Server Error</body></html>');
      return;
    }
    if (fault?.kind === 'hang') {
      log(0);
      const timer = setTimeout(() => response.destroy(), fault.ms);
      request.on('close', () => clearTimeout(timer));
      return;
    }
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      log(status);
      const text = body === '' ? '' : JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(text);
    };
    route(api, url, request, response, send);
  });

  function route(api: Api, url: URL, _request: IncomingMessage, _response: ServerResponse, send: (status: number, body: unknown, headers?: Record<string, string>) => void) {
    const path = url.pathname.slice(api.length + 1);
    const query = url.searchParams;
    if (api === 'dummyjson' && path === '/products') {
      const limitText = query.get('limit') ?? '30';
      const skipText = query.get('skip') ?? '0';
      if (!/^\d+$/.test(limitText)) return send(400, { message: "Invalid 'limit' - must be a number" });
      if (!/^\d+$/.test(skipText)) return send(400, { message: "Invalid 'skip' - must be a number" });
      const limit = Number(limitText);
      const skip = Number(skipText);
      const products = limit === 0 ? data.dummy.slice(skip) : data.dummy.slice(skip, skip + limit);
      return send(200, { products, total: data.dummy.length, skip, limit: products.length });
    }
    if (api === 'dummyjson') return send(404, { message: `Product with id '${path.split('/').pop()}' not found` });
    if (api === 'fakestore' && path === '/products') {
      const limit = Number(query.get('limit') ?? 0);
      return send(200, limit > 0 ? data.fake.slice(0, limit) : data.fake, { 'x-powered-by': 'Express' });
    }
    if (api === 'fakestore' && path.startsWith('/products/')) {
      const id = Number(path.slice('/products/'.length));
      const item = data.fake.find((product) => (product as { id?: number }).id === id);
      return send(200, item ?? '', { 'x-powered-by': 'Express' });
    }
    if (api === 'shopify' && path === '/products.json') {
      const limit = Math.min(250, Number(query.get('limit') ?? 30));
      const page = Number(query.get('page') ?? 1);
      if (page * limit > 25_000) return send(400, { errors: 'Bad Request' });
      return send(200, { products: data.shopify.slice((page - 1) * limit, page * limit) });
    }
    if (api === 'bestbuy' && path.startsWith('/v1/products')) {
      if (query.get('apiKey') !== bestBuyKey) return send(403, { errorCode: '403', errorMessage: 'We were unable to locate your API Key.' });
      const pageSize = Math.min(100, Number(query.get('pageSize') ?? 10));
      const cursor = query.get('cursorMark') ?? '*';
      const offset = cursor === '*' ? 0 : Number(Buffer.from(cursor, 'base64').toString().replace('cursor_', ''));
      const products = data.bestbuy.slice(offset, offset + pageSize);
      const show = (query.get('show') ?? '').split(',').filter(Boolean);
      const shaped = show.length ? products.map((product) => Object.fromEntries(show.filter((key) => key in product).map((key) => [key, product[key]]))) : products;
      const next = products.length ? Buffer.from(`cursor_${offset + products.length}`).toString('base64') : cursor;
      const search = decodeURIComponent(path.slice('/v1/products'.length));
      return send(200, {
        nextCursorMark: next,
        total: data.bestbuy.length,
        totalPages: Math.ceil(data.bestbuy.length / pageSize),
        queryTime: '0.004',
        totalTime: '0.011',
        partial: false,
        canonicalUrl: `/v1/products${search}?${show.length ? `show=${show.join(',')}&` : ''}pageSize=${pageSize}&cursorMark=${cursor}&format=json&apiKey=XXX`,
        products: shaped,
      });
    }
    send(404, { message: 'not found' });
  }

  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (api: Api) => `http://127.0.0.1:${port}/${api}`,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
