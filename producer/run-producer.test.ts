import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RAW_HEADER } from '../pipeline/base/raw-format';
import { runProducer } from './run-producer';
import type { Sink } from './sink';

const folders: string[] = [];
function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-producer-'));
  folders.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}

describe('runProducer with the local lake', () => {
  it('writes one object per day of backfill under price-stream/dt=…/, with the raw header', async () => {
    const workspace = tempFolder();
    const summary = await runProducer({ source: 'simulator', workspace, products: 20, backfillDays: 5, maxRecords: 100 });
    expect(summary).toEqual({ records: 100, batches: 5, bytes: expect.any(Number), rejected: 0, retries: 0 });
    const files = listFiles(join(workspace, 'lake'));
    expect(files).toHaveLength(5);
    for (const file of files) {
      expect(file).toMatch(/^price-stream\/dt=\d{4}-\d{2}-\d{2}\/simulator-[0-9TZ]+-[0-9a-f]{16}\.csv$/);
      const lines = readFileSync(join(workspace, 'lake', file), 'utf8').split('\r\n');
      expect(lines[0]).toBe(RAW_HEADER);
      expect(lines.filter(Boolean)).toHaveLength(21);
      expect(file.slice(16, 26)).toBe(lines[1]!.split(',').at(-1)!.slice(0, 10));
    }
    // The spool is empty once the sink confirmed everything.
    expect(readdirSync(join(workspace, 'producer', 'spool')).flatMap((dir) => readdirSync(join(workspace, 'producer', 'spool', dir)))).toEqual([]);
  });

  it('gives identical batches identical keys, so a re-sent batch overwrites itself', async () => {
    const workspace = tempFolder();
    await runProducer({ source: 'simulator', workspace, products: 10, backfillDays: 3, maxRecords: 30, seed: 4 });
    const first = listFiles(join(workspace, 'lake'));
    await runProducer({ source: 'simulator', workspace, products: 10, backfillDays: 3, maxRecords: 30, seed: 4 });
    expect(listFiles(join(workspace, 'lake'))).toEqual(first);
  });

  it('keeps batches in the spool while the sink fails, then delivers them all', async () => {
    const workspace = tempFolder();
    const stored = new Map<string, Buffer>();
    let failures = 3;
    const flaky: Sink = {
      location: 'flaky',
      id: 'flaky',
      async put(key, body) {
        if (failures-- > 0) throw new Error('connection refused');
        stored.set(key, body);
      },
      close() {},
    };
    const summary = await runProducer({ source: 'simulator', workspace, products: 10, backfillDays: 4, maxRecords: 40, sinkInstance: flaky, uploadConcurrency: 1 });
    expect(summary.records).toBe(40);
    expect(summary.retries).toBe(3);
    expect(stored.size).toBe(4);
  });

  it('seals and delivers the open batch when aborted', async () => {
    const workspace = tempFolder();
    const controller = new AbortController();
    const summary = await runProducer(
      { source: 'simulator', workspace, products: 7, backfillDays: 0, intervalSeconds: 0.05, batchSize: 1000, batchAgeMs: 60_000 },
      { signal: controller.signal, onProgress: (p) => p.emitted >= 21 && controller.abort() },
    );
    expect(summary.records).toBeGreaterThanOrEqual(21);
    expect(summary.records % 7).toBe(0);
  });
});
