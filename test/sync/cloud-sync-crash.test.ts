import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../../pipeline/cache/cache-db';
import { rebuildRollups } from '../../pipeline/cache/dashboard-rollups';
import { dashboardPanels } from '../../pipeline/dashboard/dashboard-queries';
import { cacheSnapshot } from '../support/cache-snapshot';
import { LoopbackS3 } from '../producer/s3rver-server';

/**
 * `cloud sync` is atomic: kill the sync process at each phase (after the download, in the middle
 * of writing, just before COMMIT) and the cache is exactly what it was; the next sync completes it.
 * The child runs under `node --import tsx` (not the tsx CLI, which would leave its own child alive).
 */
const REPO = resolve(import.meta.dirname, '..', '..');
const CHILD = join(REPO, 'test', 'sync', 'sync-child.ts');
const s3dir = mkdtempSync(join(tmpdir(), 'pricedrop-sync-s3-'));
const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-sync-ws-'));
const server = new LoopbackS3(s3dir, ['lake', 'results']);

beforeAll(async () => server.start());
afterAll(async () => {
  await server.stop();
  rmSync(s3dir, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
});

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs one sync process; with killAt, SIGKILLs it when it reports that phase. */
function sync(rows: number, options: { killAt?: string; mode?: string } = {}): Promise<ChildRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      cwd: REPO,
      env: { ...process.env, WORKSPACE: workspace, S3_ENDPOINT: server.endpoint, DATASET_ROWS: String(rows), KILL_AT: options.killAt ?? '', MODE: options.mode ?? 'auto' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sync child timed out:\n${stderr}`));
    }, 90_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.killAt && stdout.includes(`PHASE ${options.killAt}`)) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

const snapshot = () => cacheSnapshot(workspace);

describe('cloud sync crash safety', () => {
  it('a sync killed at any phase leaves the previous cache intact and the next sync completes it', async () => {
    const first = await sync(3000, { mode: 'paged' });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout.trim().split('\n').pop() as string)).toMatchObject({ mode: 'paged', fetched: 3000, inserted: 3000, watermark_before: null });
    const before = snapshot();
    expect(before.rows).toBe(3000);
    expect(before.watermark).toBe(new Date(Date.UTC(2026, 0, 1) + 2999 * 60_000).toISOString());
    expect(before.status.origins.athena?.rows_inserted).toBe(3000);
    expect(first.stderr).toMatch(/write rows: 3000\/3000/);

    for (const killAt of ['downloaded', 'writing', 'before-commit']) {
      const killed = await sync(30_000, { killAt, mode: 'unload' });
      expect(killed.signal, `${killAt}: ${killed.stderr}`).toBe('SIGKILL');
      expect(snapshot(), killAt).toEqual(before);
    }

    const next = await sync(30_000, { mode: 'auto' });
    expect(next.code, next.stderr).toBe(0);
    // The 24 h look-back re-reads the last 1,440 minutes: those rows count as duplicates.
    expect(JSON.parse(next.stdout.trim().split('\n').pop() as string)).toMatchObject({ mode: 'unload', inserted: 27_000, duplicates: 1440 });
    const after = snapshot();
    expect(after.rows).toBe(30_000);
    expect(after.athenaRows).toBe(30_000);
    expect(after.watermark).toBe(new Date(Date.UTC(2026, 0, 1) + 29_999 * 60_000).toISOString());
    // Rollups are exactly what a rebuild from the rows gives.
    const cache = openCache(cachePath(workspace));
    try {
      const viaRollups = dashboardPanels(cache, { from: '2026-01-02', categories: ['cat-1', 'cat-3'] }, 'week');
      rebuildRollups(cache);
      expect(dashboardPanels(cache, { from: '2026-01-02', categories: ['cat-1', 'cat-3'] }, 'week')).toEqual(viaRollups);
    } finally {
      cache.close();
    }
  }, 300_000);
});
