import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { S3Client } from '@aws-sdk/client-s3';
import { packageRoot } from '../pipeline/base/paths';
import { runProducer, type ProducerOptions } from './run-producer';
import { createS3Sink } from './s3-sink';

export interface BenchProduceOptions {
  /** Records for the local-lake run (default 1,000,000: also the memory-flatness run). */
  localRecords: number;
  /** Records for the S3 run (default 200,000). */
  s3Records: number;
  products: number;
  batchSize: number;
  onProgress?(label: string, done: number, total: number): void;
}

export interface BenchProduceResult {
  local_records_per_s: number;
  s3_records_per_s: number;
  /** Highest resident set size of this process over both runs. */
  peak_rss_mb: number;
  local_records: number;
  s3_records: number;
  /** RSS, and V8 heap in use after a full GC, at each tenth of the local run: flat means memory does not grow with the record count. */
  local_rss_mb_by_tenth: number[];
  local_heap_mb_by_tenth: number[];
  batch_size: number;
}

/**
 * `pricedrop bench produce`: the simulator (backfill, so as fast as the sink takes it) through
 * the full producer path (batch, CSV, spool file, upload, spool delete) into a temporary local
 * lake, then into a loopback S3 server (s3rver in a child process, so the server's CPU is not
 * counted against the producer's event loop, though it shares the machine's cores).
 */
export async function benchProduce(options: BenchProduceOptions): Promise<BenchProduceResult> {
  const work = mkdtempSync(join(tmpdir(), 'pricedrop-bench-produce-'));
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
  try {
    const base = (records: number): Omit<ProducerOptions, 'workspace'> => ({
      source: 'simulator',
      products: options.products,
      backfillDays: Math.ceil(records / options.products),
      maxRecords: records,
      batchSize: options.batchSize,
      seed: 7,
    });

    const tenths: number[] = [];
    const heapTenths: number[] = [];
    const gc = exposeGc();
    let delivered = 0;
    let started = performance.now();
    const local = await runProducer(
      { ...base(options.localRecords), workspace: join(work, 'local') },
      {
        onProgress: (progress) => options.onProgress?.('local lake', progress.records, options.localRecords),
        onBatch(batch) {
          delivered += batch.records;
          // At each tenth: live heap after a full GC (what the producer keeps) and RSS.
          while (tenths.length < Math.floor((delivered / options.localRecords) * 10)) {
            gc();
            const memory = process.memoryUsage();
            tenths.push(mb(memory.rss));
            heapTenths.push(mb(memory.heapUsed));
          }
        },
      },
    );
    const localSeconds = (performance.now() - started) / 1000;
    rmSync(join(work, 'local'), { recursive: true, force: true });

    const server = await startS3rverProcess(join(work, 's3'));
    try {
      const client = new S3Client({
        endpoint: server.endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        maxAttempts: 1,
      });
      const sink = createS3Sink({ bucket: 'bench', prefix: 'run', endpoint: server.endpoint, client });
      started = performance.now();
      const s3 = await runProducer(
        { ...base(options.s3Records), workspace: join(work, 's3-ws'), sinkInstance: sink },
        { onProgress: (progress) => options.onProgress?.('loopback S3', progress.records, options.s3Records) },
      );
      const s3Seconds = (performance.now() - started) / 1000;
      client.destroy();
      return {
        local_records_per_s: Math.round(local.records / localSeconds),
        s3_records_per_s: Math.round(s3.records / s3Seconds),
        peak_rss_mb: mb(peak),
        local_records: local.records,
        s3_records: s3.records,
        local_rss_mb_by_tenth: tenths,
        local_heap_mb_by_tenth: heapTenths,
        batch_size: options.batchSize,
      };
    } finally {
      server.stop();
    }
  } finally {
    clearInterval(sampler);
    rmSync(work, { recursive: true, force: true });
  }
}

/** s3rver (a dev dependency) in a child process on 127.0.0.1, with a `bench` bucket. */
async function startS3rverProcess(directory: string): Promise<{ endpoint: string; stop(): void }> {
  const script = `
    const S3rver = require(${JSON.stringify(join(packageRoot(), 'node_modules', 's3rver'))});
    new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: ${JSON.stringify(directory)}, configureBuckets: [{ name: 'bench' }] })
      .run().then((address) => console.log(JSON.stringify({ port: address.port })));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      const line = out.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening; is the s3rver dev dependency installed?`)));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** A full-GC function without --expose-gc on the command line (the flag can be set at run time). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
