import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRawRecord } from '../../pipeline/base/raw-format';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { dedupKey, knownRecords, listFiles, parseRawBatch, producerBundle, rawCsv, readLakeRows, startProducer, tempFolder } from './producer-harness';
import { LoopbackS3, S3RVER_CREDENTIALS } from './s3rver-server';

const RECORDS = 100_000;
const work = tempFolder('pricedrop-kill-');
afterAll(() => work.remove());

describe('kill -9 at random moments, then the same command again (--source replay)', () => {
  it('delivers every record of a 100,000-record CSV, none lost', async () => {
    const bundle = await producerBundle();
    const records = knownRecords(RECORDS);
    const input = join(work.path, 'history.csv');
    writeFileSync(input, rawCsv(records));
    const lake = join(work.path, 'lake');
    const args = ['produce', '--source', 'replay', '--file', input, '--sink', lake, '--workspace', join(work.path, 'ws'), '--batch-size', '500', '--json'];

    let kills = 0;
    let finished = false;
    // A fixed pseudo-random sequence of kill delays, so a failure can be replayed.
    let state = 12345;
    // The window widens with each attempt, so a loaded machine still gets to the end.
    const nextDelay = (attempt: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return 50 + ((state % 1000) / 1000) * (150 + attempt * 60);
    };
    for (let attempt = 0; attempt < 60 && !finished; attempt++) {
      const run = startProducer(bundle, args);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), nextDelay(attempt));
      const result = await run.done;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') {
        kills++;
        // Between runs the lake never holds a torn object: every .csv parses completely.
        readLakeRows(lake);
        continue;
      }
      expect(result.code, result.stderr).toBe(0);
      finished = true;
    }
    expect(finished).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(3);

    const delivered = readLakeRows(lake);
    const expected = new Set(records.map((record) => encodeRawRecord(record)));
    const got = new Set(delivered.map((fields) => encodeRawRecord({
      product_id: fields[0]!, title: fields[1]!, category: fields[2]!, price: Number(fields[3]), old_price: fields[4] === '' ? null : Number(fields[4]),
      currency: fields[5]!, source: fields[6]!, observed_at: fields[7]!,
    })));
    expect(got.size).toBe(expected.size);
    for (const line of expected) if (!got.has(line)) throw new Error(`lost: ${line}`);
    // Duplicates are possible only for batches in flight, and share the dedup key.
    expect(new Set(delivered.map(dedupKey)).size).toBe(RECORDS);
    // A kill can leave a temp file beside the objects: a dot-name the ETL ignores (not .csv).
    for (const file of listFiles(lake).filter((name) => !name.endsWith('.csv'))) expect(file).toMatch(/\/\.[^/]+\.tmp$/);
    // Running it again after completion delivers nothing more.
    const again = await startProducer(bundle, args).done;
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ records: 0 });
  }, 120_000);
});

describe('kill -9 with the S3 sink (loopback s3rver)', () => {
  it('delivers every record of a 20,000-record CSV to the bucket, none lost', async () => {
    const bundle = await producerBundle();
    const records = knownRecords(20_000, 'replay-s3');
    const input = join(work.path, 'history-s3.csv');
    writeFileSync(input, rawCsv(records));
    const s3 = new LoopbackS3(join(work.path, 's3'), ['lake']);
    await s3.start();
    const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    try {
      const args = ['produce', '--source', 'replay', '--file', input, '--sink', 's3://lake/killed', '--s3-endpoint', s3.endpoint, '--workspace', join(work.path, 'ws-s3'), '--batch-size', '250', '--json'];
      let kills = 0;
      let finished = false;
      for (let attempt = 0; attempt < 40 && !finished; attempt++) {
        const run = startProducer(bundle, args, S3RVER_CREDENTIALS);
        const timer = setTimeout(() => run.child.kill('SIGKILL'), 100 + ((attempt * 7919) % 200) + attempt * 80);
        const result = await run.done;
        clearTimeout(timer);
        if (result.signal === 'SIGKILL') kills++;
        else {
          expect(result.code, result.stderr).toBe(0);
          finished = true;
        }
      }
      expect(finished).toBe(true);
      expect(kills).toBeGreaterThanOrEqual(2);
      const rows: string[][] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: 'lake', Prefix: 'killed/', ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          const body = await client.send(new GetObjectCommand({ Bucket: 'lake', Key: object.Key! }));
          rows.push(...parseRawBatch(await body.Body!.transformToString(), object.Key!));
        }
        token = page.NextContinuationToken;
      } while (token);
      const delivered = new Set(rows.map(dedupKey));
      for (const record of records) expect(delivered.has(`${record.source}\u0000${record.product_id}\u0000${record.observed_at}`)).toBe(true);
      expect(delivered.size).toBe(records.length);
    } finally {
      client.destroy();
      await s3.stop();
    }
  }, 120_000);
});
