import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePath } from '../../pipeline/cache/cache-db';
import { cacheSnapshot } from '../support/cache-snapshot';
import { LoopbackS3 } from '../producer/s3rver-server';
import { mountTinyDisk, tinyDiskUnavailable, type TinyDisk } from '../support/tiny-disk';

/**
 * `cloud sync` on a full disk (a tmpfs the test mounts, fills, then grows): staging the downloaded
 * rows where the CLI stages them ($TMPDIR), and writing them into a cache on that disk, each stop
 * with a clear "no space" error, leave the cache exactly as it was (PRAGMA integrity_check ok, same
 * rows, watermark, panels and "data as of"), and complete once there is room, losing nothing.
 * Athena is mocked in the sync's process (test/sync/sync-child.ts); S3 is s3rver on loopback.
 */
const REPO = resolve(import.meta.dirname, '..', '..');
const CHILD = join(REPO, 'test', 'sync', 'sync-child.ts');
const MINUTE = 60_000;
const work = mkdtempSync(join(tmpdir(), 'pricedrop-full-sync-'));
const server = new LoopbackS3(join(work, 's3'), ['lake', 'results']);
const disks: TinyDisk[] = [];

beforeAll(async () => {
  mkdirSync(join(work, 's3'));
  if (!tinyDiskUnavailable) await server.start();
});
afterAll(async () => {
  if (!tinyDiskUnavailable) await server.stop();
  for (const disk of disks) disk.remove();
  rmSync(work, { recursive: true, force: true });
});

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One sync process over the first `rows` rows of the mocked cleaned table. */
function sync(workspace: string, rows: number, options: { mode?: string; tmpdir?: string } = {}): Promise<ChildRun> {
  return new Promise((resolveRun, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, WORKSPACE: workspace, S3_ENDPOINT: server.endpoint, DATASET_ROWS: String(rows), MODE: options.mode ?? 'auto', KILL_AT: '' };
    if (options.tmpdir) Object.assign(env, { TMPDIR: options.tmpdir, STAGING: 'tmpdir' });
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sync child timed out:\n${stderr}`));
    }, 120_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

function summaryOf(run: ChildRun): Record<string, unknown> {
  return JSON.parse(run.stdout.trim().split('\n').pop() as string) as Record<string, unknown>;
}

/** The cache's integrity, and everything a user sees of it, read without writing first. */
function snapshot(workspace: string) {
  const check = new Database(cachePath(workspace), { readonly: true, fileMustExist: true });
  const integrity = check.pragma('integrity_check', { simple: true });
  check.close();
  return { integrity, ...cacheSnapshot(workspace) };
}

const watermarkAt = (row: number) => new Date(Date.UTC(2026, 0, 1) + row * MINUTE).toISOString();

describe.skipIf(tinyDiskUnavailable !== undefined)(`cloud sync on a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`, () => {
  it('staging in a full $TMPDIR: stops with "no space", the cache untouched; completes once there is room', async () => {
    const workspace = join(work, 'ws-staging');
    const first = await sync(workspace, 3000, { mode: 'paged' });
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(workspace);
    expect(before).toMatchObject({ integrity: 'ok', rows: 3000, watermark: watermarkAt(2999) });

    const disk = mountTinyDisk('4m', 'pricedrop-full-sync-tmp-');
    disks.push(disk);
    disk.fill(96 * 1024);
    const full = await sync(workspace, 30_000, { mode: 'unload', tmpdir: disk.path });
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toContain(`cloud sync: No space left on the disk holding the sync's staging file (${disk.path}/pricedrop-sync-`);
    expect(full.stderr).toContain(`nothing was written to the cache, its watermark stays ${watermarkAt(2999)}`);
    expect(snapshot(workspace)).toEqual(before);
    // The staging folder is gone: the little room there was is free again.
    expect(readdirSync(disk.path).filter((name) => name.startsWith('pricedrop-sync-'))).toEqual([]);

    disk.grow('64m');
    const next = await sync(workspace, 30_000, { mode: 'unload', tmpdir: disk.path });
    expect(next.code, next.stderr).toBe(0);
    // The 24 h look-back re-reads the last 1,440 minutes of the first sync: duplicates, not new rows.
    expect(summaryOf(next)).toMatchObject({ mode: 'unload', inserted: 27_000, duplicates: 1440 });
    expect(snapshot(workspace)).toMatchObject({ integrity: 'ok', rows: 30_000, athenaRows: 30_000, watermark: watermarkAt(29_999) });
  }, 300_000);

  it('the cache on a full disk: the write rolls back whole, cache and watermark as they were; completes once there is room', async () => {
    const disk = mountTinyDisk('16m', 'pricedrop-full-sync-cache-');
    disks.push(disk);
    const workspace = join(disk.path, 'ws');
    const first = await sync(workspace, 3000, { mode: 'paged' });
    expect(first.code, first.stderr).toBe(0);
    const before = snapshot(workspace);
    expect(before).toMatchObject({ integrity: 'ok', rows: 3000 });

    disk.fill(256 * 1024);
    // Staged on another disk (the OS temp folder): the download succeeds, the write cannot.
    const full = await sync(workspace, 30_000, { mode: 'unload', tmpdir: work });
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toContain(`cloud sync: No space left on the disk holding the cache (${cachePath(workspace)}): the sync was rolled back: the cache and its watermark (${watermarkAt(2999)}) are as they were`);
    expect(snapshot(workspace)).toEqual(before);

    disk.grow('128m');
    const next = await sync(workspace, 30_000, { mode: 'unload', tmpdir: work });
    expect(next.code, next.stderr).toBe(0);
    expect(summaryOf(next)).toMatchObject({ inserted: 27_000, duplicates: 1440 });
    expect(snapshot(workspace)).toMatchObject({ integrity: 'ok', rows: 30_000, athenaRows: 30_000, watermark: watermarkAt(29_999) });
  }, 300_000);
});
