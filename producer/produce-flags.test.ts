import { describe, expect, it } from 'vitest';
import { UsageError, parseArgs } from '../pipeline/base/command-line';
import { PRODUCE_BOOLEAN_FLAGS, producerArgs, producerOptionsFromArgs } from './produce-flags';
import type { ProducerOptions } from './run-producer';

function roundTrip(options: Omit<ProducerOptions, 'workspace'>): ProducerOptions {
  return producerOptionsFromArgs(parseArgs(producerArgs(options), PRODUCE_BOOLEAN_FLAGS), '/ws');
}

function defined(options: object): object {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined && value !== false));
}

describe('produce flags', () => {
  it('round-trips every option through the flags the container and child process get', () => {
    const options: Omit<ProducerOptions, 'workspace'> = {
      source: 'replay', sink: 's3://bucket/prefix', s3Endpoint: 'http://127.0.0.1:4569', s3Region: 'eu-west-1',
      batchSize: 500, batchAgeMs: 2500, spoolMaxMb: 64, uploadConcurrency: 3, maxRecords: 1000,
      products: 42, seed: 9, backfillDays: 7, intervalSeconds: 2.5, url: 'http://127.0.0.1:1/x', pageSize: 50,
      concurrency: 3, ratePerSecond: 4, timeoutMs: 900, maxRetries: 2, currency: 'ZAR', once: true, query: 'a=b',
      apiKeyEnv: 'KEY', file: '/data/in.csv', map: 'title=name,category=const:groceries', dateFromFilename: true, speed: 10, sourceName: 'pnp',
    };
    expect(defined(roundTrip(options))).toEqual({ ...options, workspace: '/ws' });
  });

  it('names the flag in usage errors', () => {
    expect(() => producerOptionsFromArgs(parseArgs(['--source', 'ftp']), '/ws')).toThrow(UsageError);
    expect(() => producerOptionsFromArgs(parseArgs(['--source', 'replay']), '/ws')).toThrow(/--file/);
    expect(() => producerOptionsFromArgs(parseArgs(['--interval', 'soon']), '/ws')).toThrow(/--interval must be a number/);
    expect(() => producerOptionsFromArgs(parseArgs(['--s3-endpoint', 'http://x']), '/ws')).toThrow(/s3:\/\//);
  });
});
