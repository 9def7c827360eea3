import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LoopbackS3, S3RVER_CREDENTIALS } from '../producer/s3rver-server';
import { createS3Client, parseBundleLocation } from '../../model/bundle/bundle-source';
import { publishBundle } from '../../pipeline/forecasting/publish-bundle';
import { encodeBundle } from '../../model/bundle/bundle-format';
import { startServing, type RunningServer } from '../../model/server/serve';
import { buildFixtureBundle, type FixtureBundle } from './fixture-bundle';

const BUCKET = 'models';
const KEY = 'pricedrop/bundle.json.gz';

describe('a bundle in S3: ETag polling, hot swap, refusal of broken bundles', () => {
  let s3server: LoopbackS3;
  let s3: S3Client;
  let first: FixtureBundle;
  let second: FixtureBundle;
  let running: RunningServer;
  const logs: string[] = [];

  beforeAll(async () => {
    Object.assign(process.env, S3RVER_CREDENTIALS);
    s3server = new LoopbackS3(mkdtempSync(join(tmpdir(), 'pricedrop-s3-')), [BUCKET]);
    await s3server.start();
    s3 = createS3Client(s3server.endpoint);
    first = await buildFixtureBundle(1);
    second = await buildFixtureBundle(2, first.workspace);
    expect(second.modelVersion).not.toBe(first.modelVersion);
  });

  afterAll(async () => {
    await running?.stop();
    s3?.destroy();
    await s3server?.stop();
  });

  const put = (body: Buffer) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body }));
  const health = async () => (await (await fetch(new URL('/health', running.http.url))).json()) as { model_version: string; last_refused_bundle?: { reason: string } };

  /** Requests that keep flowing while bundles change: every one must succeed. */
  async function trafficDuring(action: () => Promise<void>): Promise<number[]> {
    const statuses: number[] = [];
    let stop = false;
    const loop = async () => {
      while (!stop) {
        const response = await fetch(new URL('/api/predict', running.http.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"product_id":"coffee-1kg"}' });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
    };
    const loops = [loop(), loop(), loop()];
    try {
      await action();
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    return statuses;
  }

  it('publishes to S3 and serves from it', async () => {
    const report = await publishBundle({ workspace: first.workspace, model: first.modelFile, out: parseBundleLocation(`s3://${BUCKET}/${KEY}`), s3 });
    expect(report).toMatchObject({ out: `s3://${BUCKET}/${KEY}`, model_version: first.modelVersion, products: 60 });
    expect(report.etag).toMatch(/^"[0-9a-f]+"$/);
    running = await startServing({ bundle: `s3://${BUCKET}/${KEY}`, s3Endpoint: s3server.endpoint, host: '127.0.0.1', port: 0, pollSeconds: 0.2, rateLimit: { perSecond: 0, burst: 1 }, log: (m) => logs.push(m) });
    expect((await health()).model_version).toBe(first.modelVersion);
  });

  it('swaps in a new bundle when the ETag changes, without failing a request', async () => {
    const statuses = await trafficDuring(async () => {
      await put(second.bytes);
      await expect.poll(async () => (await health()).model_version, { timeout: 10_000, interval: 100 }).toBe(second.modelVersion);
    });
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(logs.some((line) => line.startsWith('bundle swapped in'))).toBe(true);
  });

  it.each([
    ['truncated', (good: Buffer) => good.subarray(0, Math.floor(good.length / 2)), /gzip/],
    ['edited after signing', (good: Buffer) => gzipSync(Buffer.from(gunzipSync(good).toString('utf8').replace('Earl Grey', 'Earl Gray'))), /checksum/],
    ['a model of another feature schema', () => {
      const model = { format: 'pricedrop-model', format_version: 2, feature_schema: { version: 99, names: ['x'] } };
      return encodeBundle({ created_at: new Date().toISOString(), model, products: [] }, 'alien').bytes;
    }, /feature schema/],
    ['not a bundle at all', () => Buffer.from('<html>oops</html>'), /gzip/],
  ])('refuses a %s bundle and keeps serving the previous one', async (_what, make, reason) => {
    const statuses = await trafficDuring(async () => {
      await put(make(second.bytes));
      await expect.poll(async () => (await health()).last_refused_bundle?.reason ?? '', { timeout: 10_000, interval: 100 }).toMatch(reason);
    });
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect((await health()).model_version).toBe(second.modelVersion);
  });

  it('takes a good bundle again after refusing a broken one', async () => {
    await put(first.bytes);
    await expect.poll(async () => (await health()).model_version, { timeout: 10_000, interval: 100 }).toBe(first.modelVersion);
  });
});

describe('a bundle file: publish over it and the server swaps it in', () => {
  let running: RunningServer | undefined;
  afterAll(() => running?.stop());

  it('notices a re-published file (size and time) and refuses a corrupt one', async () => {
    const first = await buildFixtureBundle(1);
    const second = await buildFixtureBundle(2, first.workspace);
    const file = join(mkdtempSync(join(tmpdir(), 'pricedrop-file-bundle-')), 'bundle.json.gz');
    await publishBundle({ workspace: first.workspace, model: first.modelFile, out: parseBundleLocation(file) });
    running = await startServing({ bundle: file, host: '127.0.0.1', port: 0, pollSeconds: 0.1, rateLimit: { perSecond: 0, burst: 1 }, log: () => {} });
    const health = async () => (await (await fetch(new URL('/health', running!.http.url))).json()) as { model_version: string; last_refused_bundle?: { reason: string } };
    expect((await health()).model_version).toBe(first.modelVersion);

    const report = await publishBundle({ workspace: first.workspace, model: second.modelFile, out: parseBundleLocation(file) });
    expect(report.etag).toBeNull();
    await expect.poll(async () => (await health()).model_version, { timeout: 10_000, interval: 100 }).toBe(second.modelVersion);

    writeFileSync(file, Buffer.from('not a bundle'));
    await expect.poll(async () => (await health()).last_refused_bundle?.reason ?? '', { timeout: 10_000, interval: 100 }).toMatch(/gzip/);
    expect((await health()).model_version).toBe(second.modelVersion);
  });
});

describe('a swapped-out bundle is not retained', () => {
  it('lets the garbage collector take the previous bundle after a swap', async () => {
    // gc() without restarting the test process with --expose-gc.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fixture = await buildFixtureBundle();
    const { startPredictServer } = await import('../../model/server/predict-server');
    const { loadBundle } = await import('../../model/bundle/loaded-bundle');
    const refs: WeakRef<object>[] = [];
    const server = await (async () => {
      const first = await loadBundle(fixture.bytes, 'first');
      refs.push(new WeakRef(first));
      return startPredictServer({ bundle: first });
    })();
    try {
      for (let i = 0; i < 3; i++) {
        const next = await loadBundle(fixture.bytes, `next-${i}`);
        refs.push(new WeakRef(next));
        server.swap(next);
        await (await fetch(new URL('/api/products/tea-100', server.url))).arrayBuffer();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      // Only the bundle being served is alive.
      expect(refs.map((ref) => ref.deref() !== undefined)).toEqual([false, false, false, true]);
    } finally {
      await server.close();
    }
  });
});
