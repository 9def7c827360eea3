import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProducer, type ProducerOptions } from '../../producer/run-producer';
import { MALFORMED_COUNTS, SAMPLES, startApiServer } from './api-test-server';
import { readLakeRows, tempFolder } from './producer-harness';

const haveSamples = existsSync(SAMPLES);
if (!haveSamples) console.warn(`api-sources: skipped, the API samples are not at ${SAMPLES}`);

describe.skipIf(!haveSamples)('API sources against local servers shaped like the real APIs', () => {
  const work = tempFolder('pricedrop-api-');
  let server: Awaited<ReturnType<typeof startApiServer>>;
  const savedKey = process.env.BESTBUY_API_KEY;

  beforeAll(async () => {
    server = await startApiServer({
      malformed: true,
      bestBuyKey: 'secret-key-123',
      faults: {
        dummyjson: [{ kind: '429', retryAfterSeconds: 1 }, { kind: '500' }, { kind: 'hang', ms: 5_000 }],
        bestbuy: [{ kind: '500' }],
      },
    });
    process.env.BESTBUY_API_KEY = 'secret-key-123';
  });
  afterAll(async () => {
    await server.close();
    if (savedKey === undefined) delete process.env.BESTBUY_API_KEY;
    else process.env.BESTBUY_API_KEY = savedKey;
    work.remove();
  });

  async function run(name: string, options: Partial<ProducerOptions> & Pick<ProducerOptions, 'source'>) {
    const workspace = join(work.path, name);
    const logs: string[] = [];
    const summary = await runProducer({ workspace, once: true, timeoutMs: 400, ...options }, { onLog: (level, message) => logs.push(`${level}: ${message}`) });
    const rows = readLakeRows(join(workspace, 'lake'));
    const rejectedFile = join(workspace, 'producer', 'rejected.jsonl');
    const rejected = existsSync(rejectedFile) ? readFileSync(rejectedFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { reason: string; source: string }) : [];
    return { summary, rows, rejected, logs };
  }

  it('dummyjson: pages with limit/skip through 429 (Retry-After), 500 and a timeout; derives old price from the discount', async () => {
    const { summary, rows, rejected } = await run('dummyjson', { source: 'dummyjson', url: server.url('dummyjson'), pageSize: 50, concurrency: 2 });
    expect(summary).toMatchObject({ records: 194, rejected: MALFORMED_COUNTS.dummyjson });
    expect(summary.retries).toBeGreaterThanOrEqual(3);
    const first = rows.find((fields) => fields[0] === '1')!;
    // Product 1: price 9.99, discountPercentage 10.48 → 9.99 / 0.8952 = 11.16.
    expect(first).toEqual(['1', 'Essence Mascara Lash Princess', 'beauty', '9.99', '11.16', 'USD', 'dummyjson', expect.stringMatching(/Z$/)]);
    expect(rejected.map((item) => item.reason).sort()).toEqual(['missing id', 'non-numeric price "abc"']);
    // The request after the 429 waited for Retry-After (1 s).
    const dummy = server.requests.filter((request) => request.api === 'dummyjson');
    const after429 = dummy.findIndex((request) => request.status === 429);
    expect(dummy[after429 + 1]!.at - dummy[after429]!.at).toBeGreaterThanOrEqual(950);
    expect(dummy.some((request) => request.status === 500)).toBe(true);
    expect(dummy.some((request) => request.status === 0)).toBe(true);
  }, 30_000);

  it('fakestore: the old price is the previous observed price, kept across runs', async () => {
    const firstRun = await run('fakestore', { source: 'fakestore', url: server.url('fakestore') });
    expect(firstRun.summary).toMatchObject({ records: 20, rejected: MALFORMED_COUNTS.fakestore });
    expect(firstRun.rows.every((fields) => fields[4] === '')).toBe(true);
    const secondRun = await run('fakestore', { source: 'fakestore', url: server.url('fakestore') });
    const product2 = secondRun.rows.filter((fields) => fields[0] === '2');
    expect(product2.map((fields) => fields[4]).sort()).toEqual(['', '22.3']);
    // Titles with a trailing space come out trimmed.
    expect(product2[0]![1]).toBe('Mens Casual Premium Slim Fit T-Shirts');
  });

  it('shopify: one row per variant with string prices, paged until an empty page', async () => {
    const { summary, rows, rejected } = await run('shopify', { source: 'shopify', url: server.url('shopify'), pageSize: 2, concurrency: 2 });
    expect(summary).toMatchObject({ records: 24, rejected: MALFORMED_COUNTS.shopify });
    expect(rows[0]).toEqual([expect.stringMatching(/^\d+-\d+$/), expect.any(String), 'Placeholder', expect.stringMatching(/^(65|70)$/), '', 'USD', 'shopify', expect.any(String)]);
    expect(rejected.map((item) => item.reason).sort()).toEqual(['missing product id', 'non-numeric price "n/a"']);
    const pages = server.requests.filter((request) => request.api === 'shopify').map((request) => new URL(request.path, 'http://x').searchParams.get('page'));
    expect(pages).toContain('4');
  });

  it('bestbuy: walks cursorMark pages to the repeated cursor, regularPrice as old price, key never logged', async () => {
    const { summary, rows, rejected, logs } = await run('bestbuy', { source: 'bestbuy', url: server.url('bestbuy'), pageSize: 10, query: 'manufacturer=canon' });
    expect(summary).toMatchObject({ records: 31, rejected: MALFORMED_COUNTS.bestbuy });
    expect(summary.retries).toBe(1);
    expect(rows.find((fields) => fields[0] === '5758400')).toEqual(['5758400', expect.stringContaining('Samsung - 65'), '4K Ultra HD TVs', '3499.99', '5999.99', 'USD', 'bestbuy', expect.any(String)]);
    expect(rejected[0]!.reason).toBe('missing sku');
    expect(logs.join('\n')).not.toContain('secret-key-123');
    expect(logs.join('\n')).toContain('apiKey=***');
  });

  it('bestbuy: a wrong key is a 403 with Best Buy\'s error body, not retried; --once fails the run', async () => {
    process.env.WRONG_KEY = 'nope';
    await expect(run('bestbuy-403', { source: 'bestbuy', url: server.url('bestbuy'), apiKeyEnv: 'WRONG_KEY' })).rejects.toThrow(/HTTP 403 We were unable to locate your API Key/);
    delete process.env.WRONG_KEY;
  });

  it('keeps to the per-host request rate (--rate), even with parallel page requests', async () => {
    const before = server.requests.length;
    const { summary } = await run('rate', { source: 'shopify', url: server.url('shopify'), pageSize: 1, concurrency: 4, ratePerSecond: 5 });
    expect(summary.records).toBe(24);
    const times = server.requests.slice(before).map((request) => request.at);
    expect(times.length).toBeGreaterThanOrEqual(7);
    // 5 requests/s: request k leaves at least 200·k ms after the first (without the limit, the four
    // parallel pages arrive within a few ms of each other). Measured from the first arrival, so one
    // request held up on a loaded machine does not make the next look early, as gaps between
    // neighbours did (a gap of 22 ms once, after a late arrival).
    for (let k = 1; k < times.length; k++) expect(times[k]! - times[0]!).toBeGreaterThanOrEqual(200 * k - 100);
  }, 30_000);
});
