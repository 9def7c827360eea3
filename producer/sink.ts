import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { createLocalLakeSink } from './local-lake-sink';
import { createS3Sink } from './s3-sink';

/**
 * Where sealed batches go: a local lake folder or an S3 bucket/prefix. `put` resolves only once
 * the store has the whole object (rename done, or S3 answered 200); until then the batch stays
 * in the spool. Keys are relative to the sink root: `price-stream/dt=YYYY-MM-DD/<name>.csv`.
 */
export interface Sink {
  /** Human-readable location, safe to log (no credentials). */
  readonly location: string;
  /** A short stable id of the destination, naming its spool folder. */
  readonly id: string;
  put(key: string, body: Buffer): Promise<void>;
  close(): void;
}

export interface SinkOptions {
  /** A folder, or `s3://BUCKET/PREFIX`. */
  sink: string;
  /** An S3-compatible endpoint (s3rver, MinIO); path-style addressing is used with it. */
  s3Endpoint?: string;
  s3Region?: string;
}

export function createSink(options: SinkOptions): Sink {
  if (options.sink.startsWith('s3://')) {
    const rest = options.sink.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!bucket) throw new Error(`--sink ${options.sink}: no bucket name`);
    return createS3Sink({ bucket, prefix, endpoint: options.s3Endpoint, region: options.s3Region });
  }
  return createLocalLakeSink(resolve(options.sink));
}

/** A short hash naming a destination (spool folder, checkpoint file). */
export function destinationId(...parts: (string | undefined)[]): string {
  return createHash('sha1').update(parts.map((part) => part ?? '').join('\n')).digest('hex').slice(0, 12);
}
