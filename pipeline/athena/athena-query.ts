import { randomUUID } from 'node:crypto';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
  type ColumnInfo,
  type QueryExecution,
  type QueryExecutionState,
} from '@aws-sdk/client-athena';
import { callAws, defaultSleep, type RetryOptions } from '../cloud/aws-calls';

/**
 * The Athena driver: `start…` + `wait…` with explicit final states, typed failures carrying the
 * service's StateChangeReason and AthenaError, cancel, paged results typed by ColumnInfo, and the
 * cost of each query. The client is passed in (created at the edge, pipeline/cloud/aws-config.ts).
 * Throttling is retried by `callAws` (the SDK's own 3 retries come first in production).
 */

export interface AthenaTarget {
  /** Workgroup the query runs in (its settings may enforce the output location). */
  workgroup: string;
  database: string;
  /** Data catalog; default `AwsDataCatalog`. */
  catalog?: string;
  /** `s3://bucket/prefix/` for result files; omit when the workgroup enforces its own. */
  outputLocation?: string;
}

export interface QueryProgress {
  queryExecutionId: string;
  state: QueryExecutionState;
  elapsedMs: number;
  bytesScanned: number;
}

export interface WaitOptions {
  /** First poll delay, doubled after each poll up to maxPollDelayMs. Default 250 ms, max 5 s. */
  pollDelayMs?: number;
  maxPollDelayMs?: number;
  /** Give up (and cancel the query) after this long. Default 30 minutes. */
  timeoutMs?: number;
  onProgress?: (progress: QueryProgress) => void;
  /** Aborting cancels the query (StopQueryExecution) and rejects with AthenaQueryCancelledError. */
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
  retry?: RetryOptions;
}

export interface StartOptions {
  /**
   * Idempotency token (32 to 128 characters): a start retried with the same token returns the
   * same execution instead of running the query twice. Default: a fresh one per call, reused
   * across the throttling retries of that call.
   */
  clientRequestToken?: string;
  retry?: RetryOptions;
}

/** Athena's error details on a FAILED query, verbatim. */
export interface AthenaErrorInfo {
  /** 1 SYSTEM, 2 USER, 3 OTHER. */
  category?: number;
  type?: number;
  retryable?: boolean;
  message?: string;
}

/** The query reached FAILED or CANCELLED: carries the service's reason and statistics. */
export class AthenaQueryError extends Error {
  override name = 'AthenaQueryError';
  constructor(
    readonly queryExecutionId: string,
    readonly state: 'FAILED' | 'CANCELLED',
    /** `Status.StateChangeReason`, verbatim (e.g. `TABLE_NOT_FOUND: line 1:15: ...`). */
    readonly stateChangeReason: string | undefined,
    readonly athenaError: AthenaErrorInfo | undefined,
    readonly bytesScanned: number,
  ) {
    super(`Athena query ${queryExecutionId} ${state}${stateChangeReason ? `: ${stateChangeReason}` : ''}`);
  }
  /** Whether running the query again may succeed (from AthenaError.Retryable, never from the text). */
  get retryable(): boolean {
    return this.athenaError?.retryable === true;
  }
}

export class AthenaQueryFailedError extends AthenaQueryError {
  override name = 'AthenaQueryFailedError';
}
export class AthenaQueryCancelledError extends AthenaQueryError {
  override name = 'AthenaQueryCancelledError';
}
/** The wait gave up; the query was asked to stop. */
export class AthenaQueryTimeoutError extends Error {
  override name = 'AthenaQueryTimeoutError';
  constructor(
    readonly queryExecutionId: string,
    readonly timeoutMs: number,
  ) {
    super(`Athena query ${queryExecutionId} did not finish within ${timeoutMs} ms (stop requested)`);
  }
}

/** Starts a query; returns its QueryExecutionId. */
export async function startQuery(athena: AthenaClient, sql: string, target: AthenaTarget, options: StartOptions = {}): Promise<string> {
  const token = options.clientRequestToken ?? randomUUID();
  if (token.length < 32 || token.length > 128) throw new Error('clientRequestToken must be 32 to 128 characters');
  const out = await callAws(
    'StartQueryExecution',
    () =>
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          WorkGroup: target.workgroup,
          ClientRequestToken: token,
          QueryExecutionContext: { Database: target.database, Catalog: target.catalog ?? 'AwsDataCatalog' },
          ...(target.outputLocation ? { ResultConfiguration: { OutputLocation: target.outputLocation } } : {}),
        }),
      ),
    options.retry,
  );
  if (!out.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
  return out.QueryExecutionId;
}

/** Asks Athena to stop a query. Stopping a finished query is a no-op (Athena returns `{}`). */
export async function cancelQuery(athena: AthenaClient, queryExecutionId: string, retry?: RetryOptions): Promise<void> {
  await callAws('StopQueryExecution', () => athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryExecutionId })), retry);
}

/**
 * Polls until a final state with exponential backoff. Resolves with the execution on SUCCEEDED;
 * rejects with AthenaQueryFailedError / AthenaQueryCancelledError (reason and AthenaError kept)
 * or AthenaQueryTimeoutError. A query may go RUNNING → QUEUED again; only the final states end the wait.
 */
export async function waitForQuery(athena: AthenaClient, queryExecutionId: string, options: WaitOptions = {}): Promise<QueryExecution> {
  const sleep = options.sleep ?? defaultSleep;
  const maxDelay = options.maxPollDelayMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  let delay = options.pollDelayMs ?? 250;
  let waited = 0;
  for (;;) {
    if (options.signal?.aborted) {
      await cancelQuery(athena, queryExecutionId, options.retry);
      throw new AthenaQueryCancelledError(queryExecutionId, 'CANCELLED', 'Cancelled by PriceDrop (aborted)', undefined, 0);
    }
    const out = await callAws('GetQueryExecution', () => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId })), options.retry);
    const execution = out.QueryExecution;
    const state = execution?.Status?.State;
    if (!execution || !state) throw new Error(`GetQueryExecution ${queryExecutionId} returned no state`);
    const bytesScanned = execution.Statistics?.DataScannedInBytes ?? 0;
    options.onProgress?.({ queryExecutionId, state, elapsedMs: waited, bytesScanned });
    if (state === 'SUCCEEDED') return execution;
    if (state === 'FAILED' || state === 'CANCELLED') {
      const reason = execution.Status?.StateChangeReason;
      const e = execution.Status?.AthenaError;
      const info: AthenaErrorInfo | undefined = e ? { category: e.ErrorCategory, type: e.ErrorType, retryable: e.Retryable, message: e.ErrorMessage } : undefined;
      const ErrorClass = state === 'FAILED' ? AthenaQueryFailedError : AthenaQueryCancelledError;
      throw new ErrorClass(queryExecutionId, state, reason, info, bytesScanned);
    }
    if (waited >= timeoutMs) {
      await cancelQuery(athena, queryExecutionId, options.retry);
      throw new AthenaQueryTimeoutError(queryExecutionId, timeoutMs);
    }
    await sleep(delay);
    waited += delay;
    delay = Math.min(maxDelay, delay * 2);
  }
}

/** A typed Athena value: see `convertAthenaValue`. */
export type AthenaValue = string | number | bigint | boolean | Date | null;
export type AthenaRow = Record<string, AthenaValue>;

/**
 * Converts one GetQueryResults cell (always text) by its ColumnInfo type:
 * tinyint/smallint/integer → number; bigint → number when it fits 2^53, else bigint; double,
 * float, real → number (Java notation such as `1.0E7` and `NaN`/`Infinity` included); decimal →
 * number (PriceDrop's decimals are prices, well inside a double's 15 digits); boolean → boolean;
 * date → `YYYY-MM-DD` string (the cache's day format); timestamp → Date (Athena's text has no
 * zone: read as UTC); SQL NULL (a Datum without VarCharValue) → null; anything else (varchar,
 * char, json, array, map, row, varbinary...) → the text unchanged.
 */
export function convertAthenaValue(text: string | undefined, type: string | undefined): AthenaValue {
  if (text === undefined) return null;
  switch ((type ?? 'varchar').toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'integer':
    case 'int':
      return Number.parseInt(text, 10);
    case 'bigint': {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    case 'double':
    case 'float':
    case 'real':
      return text === 'NaN' ? Number.NaN : text === 'Infinity' ? Infinity : text === '-Infinity' ? -Infinity : Number(text);
    case 'decimal':
      return Number(text);
    case 'boolean':
      return text === 'true';
    case 'date':
      return text;
    case 'timestamp':
    case 'timestamp with time zone': {
      const [day, time = '00:00:00.000'] = text.split(' ');
      return new Date(`${day}T${time}Z`);
    }
    default:
      return text;
  }
}

export interface QueryResults {
  columns: { name: string; type: string }[];
  rows: AthenaRow[];
}

/**
 * Reads a SUCCEEDED query's results by paging GetQueryResults (at most 1,000 rows per call:
 * for large results use `unloadQuery`). The first row of a SELECT's first page repeats the
 * column names and is skipped (only when it equals them, as PyAthena does; UTILITY statements
 * have no header).
 */
export async function fetchQueryResults(
  athena: AthenaClient,
  queryExecutionId: string,
  options: { statementType?: string; maxRows?: number; retry?: RetryOptions; onPage?: (rowsSoFar: number) => void } = {},
): Promise<QueryResults> {
  let nextToken: string | undefined;
  let columns: ColumnInfo[] | undefined;
  const rows: AthenaRow[] = [];
  let first = true;
  do {
    const token = nextToken;
    const page = await callAws(
      'GetQueryResults',
      () => athena.send(new GetQueryResultsCommand({ QueryExecutionId: queryExecutionId, MaxResults: 1000, ...(token ? { NextToken: token } : {}) })),
      options.retry,
    );
    columns ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    const names = columns.map((c) => c.Name ?? '');
    let pageRows = page.ResultSet?.Rows ?? [];
    if (first && options.statementType !== 'UTILITY' && pageRows.length > 0) {
      const header = pageRows[0]?.Data?.map((d) => d.VarCharValue) ?? [];
      if (header.length === names.length && header.every((v, i) => v === names[i])) pageRows = pageRows.slice(1);
    }
    first = false;
    for (const row of pageRows) {
      const out: AthenaRow = {};
      (row.Data ?? []).forEach((datum, i) => {
        const column = columns?.[i];
        out[column?.Name ?? `_${i}`] = convertAthenaValue(datum.VarCharValue, column?.Type);
      });
      rows.push(out);
      if (options.maxRows !== undefined && rows.length >= options.maxRows) return { columns: describe(columns), rows };
    }
    options.onPage?.(rows.length);
    nextToken = page.NextToken;
  } while (nextToken);
  return { columns: describe(columns ?? []), rows };
}

function describe(columns: ColumnInfo[]): { name: string; type: string }[] {
  return columns.map((c) => ({ name: c.Name ?? '', type: c.Type ?? 'varchar' }));
}

/** Athena bills data scanned, rounded up to the megabyte, at least 10 MB per query that scans data. */
export const MIN_BILLED_BYTES = 10 * 1024 * 1024;
/** Default price, USD per TB scanned (us-east-1 and eu-west-1 list price; configurable). */
export const DEFAULT_PRICE_PER_TB_USD = 5;

export interface QueryCost {
  bytesScanned: number;
  bytesBilled: number;
  /** USD at the given price per TB (1 TB = 2^40 bytes, as Athena's pricing examples compute). */
  costUsd: number;
}

/** The cost of one query from its statistics. DDL and failed queries that scanned nothing cost nothing. */
export function queryCost(bytesScanned: number, pricePerTbUsd = DEFAULT_PRICE_PER_TB_USD): QueryCost {
  if (bytesScanned <= 0) return { bytesScanned: 0, bytesBilled: 0, costUsd: 0 };
  const mb = 1024 * 1024;
  const bytesBilled = Math.max(MIN_BILLED_BYTES, Math.ceil(bytesScanned / mb) * mb);
  return { bytesScanned, bytesBilled, costUsd: (bytesBilled / 2 ** 40) * pricePerTbUsd };
}

export interface RunQueryOptions extends WaitOptions, StartOptions {
  pricePerTbUsd?: number;
  maxRows?: number;
}

export interface RunQueryResult extends QueryResults {
  queryExecutionId: string;
  cost: QueryCost;
  execution: QueryExecution;
}

/** Start, wait, and page the results of a small query; reports data scanned and cost. */
export async function runQuery(athena: AthenaClient, sql: string, target: AthenaTarget, options: RunQueryOptions = {}): Promise<RunQueryResult> {
  const id = await startQuery(athena, sql, target, options);
  const execution = await waitForQuery(athena, id, options);
  const results = await fetchQueryResults(athena, id, { statementType: execution.StatementType, maxRows: options.maxRows, retry: options.retry });
  return { queryExecutionId: id, ...results, execution, cost: queryCost(execution.Statistics?.DataScannedInBytes ?? 0, options.pricePerTbUsd) };
}
