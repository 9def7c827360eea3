import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LoopbackS3 } from '../../test/producer/s3rver-server';
import { athenaOutput, executionWith } from '../../test/support/aws-athena-samples';
import { parseS3Uri, unloadQuery } from './athena-unload';

/** UNLOAD against s3rver on 127.0.0.1: the mocked Athena writes Parquet files the way the real one does. */
const athenaMock = mockClient(AthenaClient);
const athena = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const dir = mkdtempSync(join(tmpdir(), 'pricedrop-unload-'));
const server = new LoopbackS3(dir, ['pricedrop-lake', 'pricedrop-athena-results']);
let s3: S3Client;
const target = { workgroup: 'pricedrop', database: 'pricedrop' };
const ID = '3f9e2a7c-1b4d-4c8e-a6f0-9d2e5b7c1a83';

beforeAll(async () => {
  await server.start();
  s3 = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});
afterAll(async () => {
  s3.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => athenaMock.reset());

function parquetPart(first: number, count: number): Uint8Array {
  const ids = Array.from({ length: count }, (_, i) => first + i);
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'product_id', data: ids.map((i) => `sku-${i}`), type: 'STRING' },
        { name: 'price', data: ids.map((i) => i / 100), type: 'DOUBLE' },
        { name: 'old_price', data: ids.map((i) => (i % 3 === 0 ? null : i / 50)), type: 'DOUBLE' },
        { name: 'is_drop', data: ids.map((i) => i % 2 === 0), type: 'BOOLEAN' },
        { name: 'seen', data: ids.map((i) => BigInt(i)), type: 'INT64' },
        { name: 'dt', data: ids.map(() => '2024-05-17'), type: 'STRING' },
      ],
    }),
  );
}

/** Emulates Athena's UNLOAD: data files without extension in the TO folder, a manifest in the results bucket. */
function athenaUnloads(parts: number[], options: { manifest: boolean }) {
  athenaMock.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string }) => {
    const to = /TO '([^']+)'/.exec(input.QueryString)?.[1] as string;
    const folder = parseS3Uri(to);
    const uris: string[] = [];
    let first = 0;
    for (const [i, count] of parts.entries()) {
      const key = `${folder.key}20240517_075002_00031_k7q2m_part${i}`;
      await s3.send(new PutObjectCommand({ Bucket: folder.bucket, Key: key, Body: parquetPart(first, count) }));
      uris.push(`s3://${folder.bucket}/${key}`);
      first += count;
    }
    if (options.manifest) {
      await s3.send(new PutObjectCommand({ Bucket: 'pricedrop-athena-results', Key: `${ID}-manifest.csv`, Body: uris.join('\n') + '\n' }));
    }
    return athenaOutput('start-query-execution-ok.json');
  });
  const done = executionWith('get-query-execution-succeeded-unload.json', { QueryExecutionId: ID });
  if (!options.manifest) delete (done.QueryExecution.Statistics as Record<string, unknown>).DataManifestLocation;
  athenaMock.on(GetQueryExecutionCommand).resolves(done);
}

describe('unloadQuery', () => {
  it('UNLOADs to a fresh folder as SNAPPY Parquet, reads the files listed in the manifest, and types the values', async () => {
    athenaUnloads([1200, 800], { manifest: true });
    const files: number[] = [];
    const result = await unloadQuery(athena, 'SELECT * FROM cleaned_observations', target, {
      s3,
      unloadPrefix: 's3://pricedrop-lake/exports/',
      sleep: async () => undefined,
      onFile: (done) => files.push(done),
    });
    const sql = athenaMock.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.QueryString ?? '';
    expect(sql).toMatch(/^UNLOAD \(SELECT \* FROM cleaned_observations\) TO 's3:\/\/pricedrop-lake\/exports\/[0-9a-f-]{36}\/' WITH \(format = 'PARQUET', compression = 'SNAPPY'\)$/);
    expect(result.files).toHaveLength(2);
    expect(files).toEqual([1, 2]);
    expect(result.rowCount).toBe(2000);
    expect(result.rows[0]).toEqual({ product_id: 'sku-0', price: 0, old_price: null, is_drop: true, seen: 0, dt: '2024-05-17' });
    expect(result.rows[1999]).toEqual({ product_id: 'sku-1999', price: 19.99, old_price: 39.98, is_drop: false, seen: 1999, dt: '2024-05-17' });
    expect(result.cost.bytesScanned).toBe(5944497);
  });

  it('lists the folder when the execution names no manifest, and streams rows per file', async () => {
    athenaUnloads([10, 20, 30], { manifest: false });
    const seen: number[] = [];
    const result = await unloadQuery(athena, 'SELECT 1', target, {
      s3,
      unloadPrefix: 's3://pricedrop-lake/exports',
      sleep: async () => undefined,
      onRows: (rows) => void seen.push(rows.length),
    });
    expect(seen.sort((a, b) => a - b)).toEqual([10, 20, 30]);
    expect(result.rows).toEqual([]);
    expect(result.rowCount).toBe(60);
  });
});
