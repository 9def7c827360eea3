import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProducer } from '../../producer/run-producer';
import type { Sink } from '../../producer/sink';
import { producerBundle, readLakeRows, startProducer, tempFolder } from './producer-harness';

const work = tempFolder('pricedrop-signals-');
afterAll(() => work.remove());

describe('SIGTERM', () => {
  it('seals the open batch, delivers it and exits 0 with the summary', async () => {
    const bundle = await producerBundle();
    const workspace = join(work.path, 'sigterm');
    // A batch age of 10 minutes: nothing would be written before the signal.
    const run = startProducer(bundle, ['produce', '--source', 'simulator', '--products', '25', '--interval', '0.1', '--batch-age-ms', '600000', '--workspace', workspace, '--json']);
    let stderr = '';
    run.child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (stderr.includes('producer: source simulator')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(readLakeRows(join(workspace, 'lake'))).toHaveLength(0);
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').pop()!) as { records: number };
    expect(summary.records).toBeGreaterThanOrEqual(25);
    expect(summary.records % 25).toBe(0);
    expect(readLakeRows(join(workspace, 'lake'))).toHaveLength(summary.records);
  }, 30_000);
});

describe('an unreachable store', () => {
  it('grows the spool up to --spool-max-mb, warns, pauses the source, and drains everything when the store is back', async () => {
    const workspace = join(work.path, 'spool');
    const stored = new Map<string, Buffer>();
    let reachable = false;
    const sink: Sink = {
      location: 'flaky store',
      id: 'flaky',
      async put(key, body) {
        if (!reachable) throw new Error('connect ECONNREFUSED 127.0.0.1:9');
        stored.set(key, body);
      },
      close() {},
    };
    const logs: string[] = [];
    let maxSpool = 0;
    const spoolDir = join(workspace, 'producer', 'spool', 'flaky');
    const summary = await runProducer(
      // About 100 KB per 1000-record batch; a 1 MB spool holds about ten of them.
      { source: 'simulator', workspace, products: 1000, backfillDays: 40, maxRecords: 40_000, batchSize: 1000, spoolMaxMb: 1, sinkInstance: sink },
      {
        onLog: (level, message) => {
          logs.push(`${level}: ${message}`);
          // The store comes back once the source has been paused for a while.
          if (message.startsWith('spool full')) setTimeout(() => (reachable = true), 1500);
        },
        onProgress: (progress) => {
          maxSpool = Math.max(maxSpool, progress.spooledBytes);
        },
      },
    );
    expect(summary.records).toBe(40_000);
    expect(stored.size).toBe(40);
    expect(logs.some((line) => /^warn: spool full: .* \(limit --spool-max-mb 1\.0 MB\); pausing the source/.test(line))).toBe(true);
    expect(logs.some((line) => /^warn: store flaky store not accepting batches/.test(line))).toBe(true);
    // Bounded: the spool never held much more than the limit (one batch over at most).
    expect(maxSpool).toBeLessThan(1.3 * 1024 * 1024);
    expect(readdirSync(spoolDir)).toEqual([]);
  }, 60_000);
});
