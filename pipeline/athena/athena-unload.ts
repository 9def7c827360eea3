import { randomUUID } from 'node:crypto';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { callAws } from '../cloud/aws-calls';
import { queryCost, startQuery, waitForQuery, type AthenaRow, type AthenaTarget, type QueryCost, type RunQueryOptions } from './athena-query';

/**
 * Large results the way aws-sdk-pandas reads them: `UNLOAD (SELECT …) TO 's3://…/' WITH
 * (format = 'PARQUET')`, then download the Parquet files listed in the manifest and read them
 * with hyparquet. GetQueryResults returns at most 1,000 rows per call, so 1M rows would be
 * 1,000 sequential round trips; UNLOAD writes files in parallel and Parquet keeps the types.
 */

export interface S3Location {
  bucket: string;
  key: string;
}

/** `s3://bucket/key` → parts. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`Not an s3:// URI: "${uri}"`);
  return { bucket: match[1] as string, key: match[2] as string };
}

export interface UnloadOptions extends RunQueryOptions {
  s3: S3Client;
  /** `s3://bucket/prefix/` under which each UNLOAD gets its own empty folder (UNLOAD requires an empty TO location). */
  unloadPrefix: string;
  /** Called per Parquet file with its rows (already converted); rows are not kept when given. */
  onRows?: (rows: AthenaRow[], file: string) => void | Promise<void>;
  /** Progress over files downloaded. */
  onFile?: (done: number, total: number) => void;
}

export interface UnloadResult {
  queryExecutionId: string;
  files: string[];
  rowCount: number;
  /** The rows, unless `onRows` consumed them. */
  rows: AthenaRow[];
  cost: QueryCost;
}

/** Parquet values to the same JS types as paged results: INT64 → number when safe. */
function normalise(value: unknown): AthenaRow[string] {
  if (value === undefined || value === null) return null;
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  return String(value);
}

async function readAll(s3: S3Client, location: S3Location): Promise<Uint8Array> {
  const out = await callAws('GetObject', () => s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key })));
  if (!out.Body) throw new Error(`s3://${location.bucket}/${location.key} has no body`);
  return out.Body.transformToByteArray();
}

/** Reads one Parquet file's rows. */
export async function readParquetRows(bytes: Uint8Array): Promise<AthenaRow[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const records = (await parquetReadObjects({ file })) as Record<string, unknown>[];
  return records.map((record) => {
    const row: AthenaRow = {};
    for (const [key, value] of Object.entries(record)) row[key] = normalise(value);
    return row;
  });
}

/** The data files of an UNLOAD: from its manifest (one s3:// URI per line), else by listing the folder. */
export async function unloadFiles(s3: S3Client, manifestUri: string | undefined, folderUri: string): Promise<string[]> {
  if (manifestUri) {
    const text = new TextDecoder().decode(await readAll(s3, parseS3Uri(manifestUri)));
    return text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
  }
  const folder = parseS3Uri(folderUri);
  const files: string[] = [];
  let token: string | undefined;
  do {
    const page = await callAws('ListObjectsV2', () => s3.send(new ListObjectsV2Command({ Bucket: folder.bucket, Prefix: folder.key, ContinuationToken: token })));
    for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) files.push(`s3://${folder.bucket}/${o.Key}`);
    token = page.NextContinuationToken;
  } while (token);
  return files;
}

/**
 * Runs `UNLOAD (<select>) TO '<unloadPrefix>/<uuid>/' WITH (format = 'PARQUET', compression = 'SNAPPY')`
 * and reads the files back. SNAPPY because hyparquet decodes it without extra codecs (Athena's
 * default for Parquet is GZIP).
 */
export async function unloadQuery(athena: AthenaClient, select: string, target: AthenaTarget, options: UnloadOptions): Promise<UnloadResult> {
  const folder = `${options.unloadPrefix.replace(/\/+$/, '')}/${randomUUID()}/`;
  parseS3Uri(folder);
  const sql = `UNLOAD (${select}) TO '${folder.replace(/'/g, "''")}' WITH (format = 'PARQUET', compression = 'SNAPPY')`;
  const id = await startQuery(athena, sql, target, options);
  const execution = await waitForQuery(athena, id, options);
  const files = await unloadFiles(options.s3, execution.Statistics?.DataManifestLocation, folder);
  const rows: AthenaRow[] = [];
  let rowCount = 0;
  for (const [i, file] of files.entries()) {
    const fileRows = await readParquetRows(await readAll(options.s3, parseS3Uri(file)));
    rowCount += fileRows.length;
    if (options.onRows) await options.onRows(fileRows, file);
    else for (const row of fileRows) rows.push(row);
    options.onFile?.(i + 1, files.length);
  }
  return { queryExecutionId: id, files, rowCount, rows, cost: queryCost(execution.Statistics?.DataScannedInBytes ?? 0, options.pricePerTbUsd) };
}
