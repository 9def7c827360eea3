import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { athenaError, athenaOutput, executionWith } from '../../test/support/aws-athena-samples';
import {
  AthenaQueryCancelledError,
  AthenaQueryFailedError,
  convertAthenaValue,
  fetchQueryResults,
  queryCost,
  runQuery,
  waitForQuery,
  type QueryProgress,
} from './athena-query';

const athenaMock = mockClient(AthenaClient);
const athena = new AthenaClient({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const target = { workgroup: 'pricedrop', database: 'pricedrop', outputLocation: 's3://pricedrop-athena-results/' };
const ID = '8d2b6c1e-4f3a-4a7e-9b21-5c0e7f9a3d42';

/** Records the poll delays instead of sleeping. */
function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms), retry: { sleep: async () => undefined } };
}

beforeEach(() => athenaMock.reset());

describe('runQuery (start, wait, page)', () => {
  it('starts with workgroup, output location and an idempotency token, waits through QUEUED/RUNNING with backoff, and types every column', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves(athenaOutput('start-query-execution-ok.json'));
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce(executionWith('get-query-execution-queued.json', { QueryExecutionId: ID }))
      .resolvesOnce(executionWith('get-query-execution-running.json', { QueryExecutionId: ID }))
      .resolvesOnce(executionWith('get-query-execution-running.json', { QueryExecutionId: ID }))
      .resolves(athenaOutput('get-query-execution-succeeded.json'));
    athenaMock
      .on(GetQueryResultsCommand)
      .resolvesOnce(athenaOutput('get-query-results-select-page1.json'))
      .resolvesOnce(athenaOutput('get-query-results-select-page2.json'));
    const { delays, sleep, retry } = recordingSleep();
    const progress: QueryProgress[] = [];
    const result = await runQuery(athena, 'SELECT 1', target, { sleep, retry, pollDelayMs: 100, maxPollDelayMs: 300, onProgress: (p) => progress.push(p) });

    const start = athenaMock.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start?.WorkGroup).toBe('pricedrop');
    expect(start?.ResultConfiguration?.OutputLocation).toBe('s3://pricedrop-athena-results/');
    expect(start?.QueryExecutionContext).toEqual({ Database: 'pricedrop', Catalog: 'AwsDataCatalog' });
    expect(start?.ClientRequestToken?.length).toBeGreaterThanOrEqual(32);
    expect(progress.map((p) => p.state)).toEqual(['QUEUED', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(delays).toEqual([100, 200, 300]);

    // Page 1's header row is skipped; page 2 is fetched with the NextToken of page 1.
    const pages = athenaMock.commandCalls(GetQueryResultsCommand).map((c) => c.args[0].input);
    expect(pages[1]?.NextToken).toBe(athenaOutput<{ NextToken: string }>('get-query-results-select-page1.json').NextToken);
    expect(result.rows).toHaveLength(4);
    expect(result.rows[0]).toEqual({
      product_name: 'Leche entera Hacendado 1L',
      observation_count: 12,
      store_id: 46001,
      price: 0.89,
      price_eur: 0.89,
      on_promo: false,
      observed_on: '2024-05-17',
      scraped_at: new Date('2024-05-17T06:30:00.000Z'),
      tags: '[dairy, milk]',
    });
    expect(result.rows[1]?.product_name).toBe('Tomate "pera" 1kg');
    expect(result.rows[1]?.on_promo).toBe(true);
    expect(result.rows[2]).toMatchObject({ price: null, price_eur: null, on_promo: null });
    expect(result.rows[3]).toMatchObject({ product_name: '', price: 1249, price_eur: 1249, scraped_at: null });
    expect(result.columns.map((c) => c.type)).toEqual(['varchar', 'bigint', 'integer', 'double', 'decimal', 'boolean', 'date', 'timestamp', 'array']);
    expect(result.cost).toEqual(queryCost(203089));
    expect(result.cost.bytesBilled).toBe(10 * 1024 * 1024);
  });

  it('retries throttling at start with the same idempotency token, and throttled polls', async () => {
    athenaMock
      .on(StartQueryExecutionCommand)
      .rejectsOnce(athenaError('error-too-many-requests-concurrent-queries.json'))
      .rejectsOnce(athenaError('error-throttling-rate-exceeded.json'))
      .resolves(athenaOutput('start-query-execution-ok.json'));
    athenaMock.on(GetQueryExecutionCommand).rejectsOnce(athenaError('error-throttling-rate-exceeded.json')).resolves(athenaOutput('get-query-execution-succeeded.json'));
    athenaMock.on(GetQueryResultsCommand).resolves(athenaOutput('get-query-results-aws-cli-example-trimmed.json'));
    const { sleep, retry } = recordingSleep();
    const result = await runQuery(athena, 'SELECT 1', target, { sleep, retry });
    const tokens = athenaMock.commandCalls(StartQueryExecutionCommand).map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    expect(result.rows[0]).toEqual({ date: '2014-07-05', location: 'SFO4', browser: 'Safari', uri: '/test-image-2.jpeg', status: 200 });
  });

  it('fails with the service reason and AthenaError on FAILED', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(athenaOutput('get-query-execution-failed-column-not-found.json'));
    const error = await waitForQuery(athena, '5e0d8b3a-2c71-4f96-b4e8-7a1c9d0e6f25', { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryFailedError);
    const failed = error as AthenaQueryFailedError;
    expect(failed.state).toBe('FAILED');
    expect(failed.stateChangeReason).toMatch(/^COLUMN_NOT_FOUND: line 1:8: Column 'prize' cannot be resolved/);
    expect(failed.athenaError).toMatchObject({ category: 2, type: 1006, retryable: false });
    expect(failed.retryable).toBe(false);
    expect(failed.queryExecutionId).toBe('5e0d8b3a-2c71-4f96-b4e8-7a1c9d0e6f25');
  });

  it('ends CANCELLED queries (bytes-scanned cutoff) with their reason, not as failures', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(athenaOutput('get-query-execution-cancelled-bytes-scanned-cutoff.json'));
    const error = await waitForQuery(athena, 'x', { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryCancelledError);
    expect((error as AthenaQueryCancelledError).stateChangeReason).toBe('Bytes scanned limit was exceeded');
  });

  it('cancels the query when the caller aborts', async () => {
    athenaMock.on(GetQueryExecutionCommand).resolves(athenaOutput('get-query-execution-running.json'));
    athenaMock.on(StopQueryExecutionCommand).resolves(athenaOutput('stop-query-execution-ok.json'));
    const controller = new AbortController();
    let polls = 0;
    const error = await waitForQuery(athena, ID, {
      signal: controller.signal,
      sleep: async () => {
        if (++polls === 2) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AthenaQueryCancelledError);
    expect(athenaMock.commandCalls(StopQueryExecutionCommand)[0]?.args[0].input).toEqual({ QueryExecutionId: ID });
  });

  it('keeps the first row of a UTILITY statement (no header) and of a SELECT whose first row is data', async () => {
    athenaMock.on(GetQueryResultsCommand).resolves(athenaOutput('get-query-results-aws-cli-example-trimmed.json'));
    const utility = await fetchQueryResults(athena, ID, { statementType: 'UTILITY' });
    expect(utility.rows).toHaveLength(3);
    expect(utility.rows[0]?.date).toBe('date');
    const select = await fetchQueryResults(athena, ID, { statementType: 'DML' });
    expect(select.rows).toHaveLength(2);
  });
});

describe('convertAthenaValue', () => {
  it('types text by ColumnInfo.Type', () => {
    expect(convertAthenaValue('9007199254740993', 'bigint')).toBe(9007199254740993n);
    expect(convertAthenaValue('42', 'bigint')).toBe(42);
    expect(convertAthenaValue('1.0E7', 'double')).toBe(1e7);
    expect(convertAthenaValue('0.30000000000000004', 'double')).toBe(0.30000000000000004);
    expect(convertAthenaValue('NaN', 'double')).toBeNaN();
    expect(convertAthenaValue('1249.00', 'decimal')).toBe(1249);
    expect(convertAthenaValue('true', 'boolean')).toBe(true);
    expect(convertAthenaValue('2024-05-17 06:30:05.123', 'timestamp')).toEqual(new Date('2024-05-17T06:30:05.123Z'));
    expect(convertAthenaValue(undefined, 'varchar')).toBeNull();
    expect(convertAthenaValue('', 'varchar')).toBe('');
    expect(convertAthenaValue('31 32 33', 'varbinary')).toBe('31 32 33');
  });
});

describe('queryCost', () => {
  it('bills at least 10 MB per scanning query, rounded up to the MB, at the configured price per TB', () => {
    expect(queryCost(0)).toEqual({ bytesScanned: 0, bytesBilled: 0, costUsd: 0 });
    expect(queryCost(1).bytesBilled).toBe(10 * 1024 * 1024);
    expect(queryCost(2 ** 40, 5).costUsd).toBe(5);
    expect(queryCost(2 ** 40 + 1, 6).bytesBilled).toBe(2 ** 40 + 1024 * 1024);
  });
});
