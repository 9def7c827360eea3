import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetCrawlerCommand, GetCrawlerMetricsCommand, GlueClient, StartCrawlerCommand } from '@aws-sdk/client-glue';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { cachePath, openCache, setMeta } from '../cache/cache-db';
import { EventBus } from '../api/event-bus';
import type { EventMap } from '../app/events';
import { WATERMARK_KEY } from '../athena/cloud-sync';
import { updateSettings } from '../settings/settings-store';
import { LoopbackS3 } from '../../test/producer/s3rver-server';
import { glueOutput } from '../../test/support/aws-glue-samples';
import { cloudActionHandlers, syncSinceDay } from './cloud-actions';
import { TaskRunner, type TaskContext } from './task-runner';

const BUCKET = 'analyst-lake';
let server: LoopbackS3;
let s3: S3Client;
const glueMock = mockClient(GlueClient);

/** The tasks domain's part of the context: the base, and a task runner of its own. */
function taskContext(workspace: string): TaskContext {
  const cache = openCache(cachePath(workspace));
  const events = new EventBus<EventMap>();
  return { workspace, cache, events, version: 'test', shell: 'browser', tasks: new TaskRunner(cache, events) };
}

function context(): TaskContext {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-cloud-actions-'));
  updateSettings(workspace, { mode: 'aws', aws: { bucket: BUCKET, region: 'eu-west-1', glueDatabase: 'pricedrop', athenaWorkgroup: 'pricedrop' } });
  return taskContext(workspace);
}

beforeAll(async () => {
  server = new LoopbackS3(mkdtempSync(join(tmpdir(), 'pricedrop-s3rver-')), [BUCKET]);
  await server.start();
  s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const put = (key: string, bytes: number) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.alloc(bytes, 1) }));
  await put('cleaned/dt=2026-11-01/part-0.parquet', 1000);
  await put('cleaned/dt=2026-11-19/part-0.parquet', 2000);
  await put('cleaned/dt=2026-11-20/part-0.parquet', 3000);
  await put('raw-elsewhere/dt=2026-11-20/x.csv', 5000);
});

afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const clientsWith = () => ({
  glue: new GlueClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  athena: new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
  s3,
});

describe('cloud actions', () => {
  it('estimates the next sync from the cleaned partitions after the watermark (24 h look-back), before any query', async () => {
    const ctx = context();
    const handlers = cloudActionHandlers(ctx, { clients: clientsWith, pollMs: 0 });
    const everything = await handlers['cloud/sync-estimate']();
    expect(everything).toMatchObject({ since_day: null, objects: 3, bytes: 6000 });
    setMeta(ctx.cache, WATERMARK_KEY, '2026-11-20T10:00:00.000Z');
    const next = await handlers['cloud/sync-estimate']();
    expect(next).toMatchObject({ since_day: '2026-11-19', objects: 2, bytes: 5000 });
    // Athena bills at least 10 MB per query, at $5 per TB.
    expect(next.cost.bytesBilled).toBe(10 * 1024 * 1024);
    expect(next.cost.costUsd).toBeCloseTo((10 * 1024 * 1024 * 5) / 2 ** 40, 10);
    expect(syncSinceDay(null)).toBeNull();
  });

  it('runs the crawler as a task that ends failed with Glue\'s own message', async () => {
    glueMock.reset();
    glueMock
      .on(GetCrawlerCommand)
      .resolvesOnce(glueOutput('get-crawler-ready-never-run.json'))
      .resolvesOnce(glueOutput('get-crawler-running.json'))
      .resolves(glueOutput('get-crawler-ready-failed-lake-formation.json'));
    glueMock.on(StartCrawlerCommand).resolves(glueOutput('start-crawler-ok.json'));
    glueMock.on(GetCrawlerMetricsCommand).resolves(glueOutput('get-crawler-metrics-ready.json'));
    const ctx = context();
    const handlers = cloudActionHandlers(ctx, { clients: clientsWith, pollMs: 0 });
    const run = await handlers['cloud/crawl']();
    expect(run).toMatchObject({ kind: 'crawl', status: 'running', label: 'Glue crawler pricedrop-observations-crawler' });
    const done = await ctx.tasks.wait(run.id);
    expect(done.status).toBe('failed');
    expect(done.message).toMatch(/Insufficient Lake Formation permission/);
  });

  it('asks for a bucket before anything reaches AWS', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-cloud-actions-'));
    const ctx = taskContext(workspace);
    await expect(cloudActionHandlers(ctx, { clients: clientsWith })['cloud/crawl']()).rejects.toThrow(/Set the S3 bucket in Settings/);
  });
});
