/**
 * A `cloud sync` in its own process for the crash-safety and full-disk suites: Athena is mocked
 * here (in this process, shaped on ../shared/aws-samples/athena), S3 is the suite's s3rver. With
 * KILL_AT set, the child announces the phase on stdout and blocks there until the suite kills it.
 * With STAGING=tmpdir it stages where `pricedrop cloud sync` does, in $TMPDIR. A failed sync
 * prints "cloud sync: MESSAGE" on stderr and exits 1, as the CLI does.
 */
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { join } from 'node:path';
import { cachePath, openCache } from '../../pipeline/cache/cache-db';
import { runCloudSync } from '../../pipeline/athena/cloud-sync';
import { athenaOutput, executionWith } from '../support/aws-athena-samples';

const env = process.env as Record<string, string>;
const workspace = env.WORKSPACE as string;
const rowsInLake = Number(env.DATASET_ROWS);
const killAt = env.KILL_AT ?? '';
const mode = (env.MODE ?? 'auto') as 'auto' | 'paged' | 'unload';

/** The cleaned table in the lake: row i is observed i minutes after 2026-01-01T00:00Z. */
function lakeRow(i: number) {
  const observedAt = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  const dropPct = i % 4 === 0 ? (i % 37) + 0.25 : i % 4 === 1 ? null : 0;
  return {
    source: i % 2 ? 'mercadona' : 'pnp',
    product_id: `sku-${i % 97}`,
    observed_at: observedAt,
    dt: observedAt.slice(0, 10),
    title: `Product ${i % 97}`,
    category: `cat-${i % 97 % 7}`,
    price: 10,
    old_price: dropPct === null ? null : 12,
    currency: 'EUR',
    drop_amount: dropPct === null ? null : 2,
    drop_pct: dropPct,
    is_drop: dropPct !== null && dropPct > 0,
    drop_label: dropPct !== null && dropPct > 0 ? 'drop' : 'no drop',
  };
}

function selected(sql: string) {
  const after = /observed_at > '([^']+)'/.exec(sql)?.[1];
  return Array.from({ length: rowsInLake }, (_, i) => lakeRow(i)).filter((r) => !after || r.observed_at > after);
}

const s3 = new S3Client({ region: 'us-east-1', endpoint: env.S3_ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
const athena = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const mock = mockClient(AthenaClient);
const queries = new Map<string, string>();
const COLUMNS = Object.keys(lakeRow(0));
const TYPES: Record<string, string> = { price: 'double', old_price: 'double', drop_amount: 'double', drop_pct: 'double', is_drop: 'boolean' };
const column = (name: string, type = TYPES[name] ?? 'varchar') => ({ CatalogName: 'hive', SchemaName: '', TableName: '', Name: name, Label: name, Type: type, Precision: type === 'varchar' ? 2147483647 : 17, Scale: 0, Nullable: 'UNKNOWN', CaseSensitive: type === 'varchar' });
const datum = (v: unknown) => (v === null ? {} : { VarCharValue: typeof v === 'number' && Number.isInteger(v) && v !== 0 ? `${v}.0` : String(v) });

mock.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString: string }) => {
  const id = `00000000-0000-4000-8000-${String(queries.size).padStart(12, '0')}`;
  queries.set(id, input.QueryString);
  const to = /TO 's3:\/\/([^/]+)\/([^']+)'/.exec(input.QueryString);
  if (to) {
    const rows = selected(input.QueryString);
    const uris: string[] = [];
    for (let start = 0, part = 0; start < rows.length; start += 2000, part++) {
      const chunk = rows.slice(start, start + 2000);
      const columnData = COLUMNS.map((name) => ({
        name,
        data: chunk.map((r) => r[name as keyof typeof r]),
        type: (TYPES[name] === 'double' ? 'DOUBLE' : TYPES[name] === 'boolean' ? 'BOOLEAN' : 'STRING') as 'DOUBLE' | 'BOOLEAN' | 'STRING',
      }));
      const key = `${to[2]}20260101_000000_00001_abcde_part${part}`;
      await s3.send(new PutObjectCommand({ Bucket: to[1], Key: key, Body: new Uint8Array(parquetWriteBuffer({ columnData })) }));
      uris.push(`s3://${to[1]}/${key}`);
    }
    await s3.send(new PutObjectCommand({ Bucket: 'results', Key: `${id}-manifest.csv`, Body: uris.join('\n') + '\n' }));
  }
  return { QueryExecutionId: id, $metadata: { httpStatusCode: 200 } };
});
mock.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => {
  const sql = queries.get(input.QueryExecutionId) ?? '';
  const file = sql.startsWith('UNLOAD') ? 'get-query-execution-succeeded-unload.json' : 'get-query-execution-succeeded.json';
  const statistics = sql.startsWith('UNLOAD') ? { DataManifestLocation: `s3://results/${input.QueryExecutionId}-manifest.csv` } : {};
  return executionWith(file, { QueryExecutionId: input.QueryExecutionId, Statistics: statistics });
});
mock.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string; NextToken?: string }) => {
  const sql = queries.get(input.QueryExecutionId) ?? '';
  const base = athenaOutput<Record<string, unknown>>('get-query-results-select-page2.json');
  if (sql.startsWith('SELECT COUNT(*)')) {
    const n = selected(sql).length;
    return { ...base, ResultSet: { Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: String(n) }] }], ResultSetMetadata: { ColumnInfo: [column('n', 'bigint')] } } };
  }
  const rows = selected(sql);
  const offset = input.NextToken ? Number(input.NextToken) : 0;
  const size = offset === 0 ? 999 : 1000;
  const page = rows.slice(offset, offset + size).map((r) => ({ Data: COLUMNS.map((c) => datum(r[c as keyof typeof r])) }));
  const header = offset === 0 ? [{ Data: COLUMNS.map((c) => ({ VarCharValue: c })) }] : [];
  const next = offset + size < rows.length ? String(offset + size) : undefined;
  return { ...base, ResultSet: { Rows: [...header, ...page], ResultSetMetadata: { ColumnInfo: COLUMNS.map((c) => column(c)) } }, ...(next ? { NextToken: next } : {}) };
});

const cache = openCache(cachePath(workspace));
const summary = await runCloudSync({
  cache,
  athena,
  s3,
  target: { workgroup: 'pricedrop', database: 'pricedrop', outputLocation: 's3://results/' },
  table: 'cleaned_observations',
  unloadPrefix: 's3://lake/athena-unload/',
  ...(env.STAGING === 'tmpdir' ? {} : { stagingFile: join(workspace, 'sync-staging.db') }),
  mode,
  wait: { sleep: async () => undefined },
  onProgress: (label, done, total) => process.stderr.write(`${label}: ${done}/${total ?? '?'}\n`),
  onPhase: (phase) => {
    if (phase !== killAt) return;
    process.stdout.write(`PHASE ${phase}\n`);
    // Block right here (inside the write transaction for 'writing'/'before-commit') until killed.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  },
}).catch((error: unknown) => {
  process.stderr.write(`cloud sync: ${error instanceof Error ? error.message : String(error)}\n`);
  cache.close();
  process.exit(1);
});
cache.close();
s3.destroy();
process.stdout.write(JSON.stringify(summary) + '\n');
