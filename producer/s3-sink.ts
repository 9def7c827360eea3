import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { destinationId, type Sink } from './sink';

export interface S3SinkOptions {
  bucket: string;
  /** Key prefix inside the bucket, without a trailing slash ('' for the bucket root). */
  prefix: string;
  /** An S3-compatible endpoint; when set, path-style addressing is used. */
  endpoint?: string;
  region?: string;
  /** Injected client (tests); otherwise one is made with the standard credential chain. */
  client?: S3Client;
}

/**
 * The S3 sink. Credentials come from the standard AWS chain (env, profile via AWS_PROFILE, SSO,
 * instance role); nothing here reads or logs them. The SDK's own retries are off (maxAttempts 1):
 * the spool uploader retries with its own backoff and counts the retries in the run summary.
 */
export function createS3Sink(options: S3SinkOptions): Sink {
  const client =
    options.client ??
    new S3Client({
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      maxAttempts: 1,
      // The SDK accepts the Node handler's options here and builds the handler itself.
      requestHandler: {
        connectionTimeout: 5_000,
        requestTimeout: 60_000,
        httpAgent: new Agent({ keepAlive: true, maxSockets: 16 }),
        httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
      },
    });
  const base = options.prefix ? `${options.prefix}/` : '';
  return {
    location: `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${options.endpoint}` : ''}`,
    id: destinationId('s3', options.bucket, options.prefix, options.endpoint),
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: options.bucket, Key: base + key, Body: body, ContentType: 'text/csv; charset=utf-8' }));
    },
    close() {
      if (!options.client) client.destroy();
    },
  };
}
