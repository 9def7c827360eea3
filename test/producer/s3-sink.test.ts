import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProducer } from '../../producer/run-producer';
import { dedupKey, parseRawBatch, tempFolder } from './producer-harness';
import { LoopbackS3, S3RVER_CREDENTIALS } from './s3rver-server';

const work = tempFolder('pricedrop-s3-');
const s3 = new LoopbackS3(`${work.path}/s3`, ['lake']);
let client: S3Client;
const savedEnv = { ...process.env };

beforeAll(async () => {
  Object.assign(process.env, S3RVER_CREDENTIALS);
  await s3.start();
  client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});
afterAll(async () => {
  client.destroy();
  await s3.stop();
  process.env = savedEnv;
  work.remove();
});

async function readBucket(prefix: string): Promise<{ keys: string[]; rows: string[][] }> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.NextContinuationToken;
  } while (token);
  const rows: string[][] = [];
  for (const key of keys) {
    const object = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: key }));
    rows.push(...parseRawBatch(await object.Body!.transformToString(), key));
  }
  return { keys, rows };
}

describe('the S3 sink against a loopback S3 server (s3rver)', () => {
  it('writes raw batches under PREFIX/price-stream/dt=…/ in the bucket', async () => {
    const summary = await runProducer({ source: 'simulator', workspace: `${work.path}/ws1`, sink: 's3://lake/first', s3Endpoint: s3.endpoint, products: 40, backfillDays: 3, maxRecords: 120 });
    expect(summary).toMatchObject({ records: 120, batches: 3, rejected: 0 });
    const { keys, rows } = await readBucket('first/');
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(/^first\/price-stream\/dt=\d{4}-\d{2}-\d{2}\/simulator-[0-9TZ]+-[0-9a-f]{16}\.csv$/);
    expect(rows).toHaveLength(120);
  });

  it('keeps batches in the spool while the server is down mid-run, then delivers all of them', async () => {
    const logs: string[] = [];
    let stopped = false;
    let restarted: Promise<void> | undefined;
    const summary = await runProducer(
      { source: 'simulator', workspace: `${work.path}/ws2`, sink: 's3://lake/outage', s3Endpoint: s3.endpoint, products: 50, backfillDays: 40, batchSize: 25, maxRecords: 2000, uploadConcurrency: 2 },
      {
        onLog: (level, message) => logs.push(`${level}: ${message}`),
        onBatch: () => {
          if (stopped) return;
          stopped = true;
          // The store goes away after the first delivered batch and comes back 2 s later.
          restarted = s3.stop().then(() => new Promise((resolve) => setTimeout(resolve, 2000))).then(() => s3.start());
        },
      },
    );
    await restarted;
    expect(summary.records).toBe(2000);
    expect(summary.retries).toBeGreaterThan(0);
    expect(logs.some((line) => /^warn: store .* not accepting batches/.test(line))).toBe(true);
    expect(logs.some((line) => /store reachable again/.test(line))).toBe(true);
    const { rows } = await readBucket('outage/');
    expect(new Set(rows.map(dedupKey)).size).toBe(2000);
  }, 60_000);
});
