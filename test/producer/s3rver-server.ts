import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The slice of s3rver's API the producer suites use (the package ships no types). */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverClass = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

/** Test credentials s3rver accepts (it does not check them). */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

/**
 * An S3-compatible server on 127.0.0.1 that can be stopped and started again on the same port
 * and folder (a store outage in the middle of a run).
 */
export class LoopbackS3 {
  private instance: S3rverInstance | undefined;
  port = 0;

  constructor(private readonly directory: string, private readonly buckets: string[]) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.instance = new S3rver({ address: '127.0.0.1', port: this.port, silent: true, directory: this.directory, configureBuckets: this.buckets.map((name) => ({ name })) });
    const address = await this.instance.run();
    this.port = address.port;
  }

  async stop(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    if (!instance) return;
    // Keep-alive sockets from the SDK would hold close() open: cut them.
    const closing = instance.close();
    instance.httpServer?.closeAllConnections();
    await closing;
  }
}
