import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRawBatch, rawBatchKey, type RawRecord } from '../../pipeline/base/raw-format';
import { cacheStatus } from '../../pipeline/athena/cloud-sync';
import { CLI } from '../support/cli-process';
import { listFiles } from '../producer/producer-harness';
import { mountTinyDisk, tinyDiskUnavailable, type TinyDisk } from '../support/tiny-disk';

/**
 * `pricedrop etl` on a full disk (the workspace on a tmpfs the test mounts, fills, then grows):
 * it stops with a clear "no space" error, the cache stays consistent (PRAGMA integrity_check ok;
 * the manifest's counts, the rows, the rollups and the quarantine files add up; only whole files
 * are in), and the same command, once there is room, cleans the rest: every row is in, none twice.
 */
const VALID = 560;
const DUPLICATES = 20;
const INVALID = 20;

const disks: TinyDisk[] = [];
afterAll(() => {
  for (const disk of disks) disk.remove();
});

/** File f: VALID new rows, DUPLICATES rows already in file f-1 (or in itself for the first), INVALID rows without a product id. */
function lakeFile(f: number): RawRecord[] {
  const row = (i: number): RawRecord => ({
    product_id: `p${String(i % 300).padStart(3, '0')}`,
    title: `Kettle ${i % 300}, "steel"`,
    category: ['home', 'kitchen', 'toys'][i % 3]!,
    price: 20 + ((i * 7) % 50) / 4,
    old_price: i % 5 === 0 ? 40 : null,
    currency: 'EUR',
    source: 'full-etl',
    observed_at: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 300) * 3_600_000).toISOString(),
  });
  const rows: RawRecord[] = [];
  for (let i = 0; i < VALID; i++) rows.push(row(f * VALID + i));
  for (let i = 0; i < DUPLICATES; i++) rows.push(row(Math.max(0, f - 1) * VALID + i * 7));
  for (let i = 0; i < INVALID; i++) rows.push({ ...row(f * VALID + i), product_id: '' });
  return rows;
}

function etl(workspace: string) {
  return spawnSync(process.execPath, [CLI, 'etl', '--workspace', workspace, '--json'], { encoding: 'utf8', timeout: 120_000 });
}

interface Counts {
  integrity: string;
  files: number;
  read: number;
  cleaned: number;
  duplicates: number;
  quarantined: number;
  rows: number;
  distinct: number;
  rollupRows: number;
}

/** What the cache holds, read the way an analyst would (a read-only SQLite connection). */
function counts(workspace: string): Counts {
  const db = new Database(join(workspace, 'cache.db'), { readonly: true, fileMustExist: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    // A disk that filled while the cache was first made leaves it at an earlier schema version
    // (each migration is one transaction): no ETL can have committed anything into it yet.
    const has = (name: string) => db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(name) !== undefined;
    if (!['etl_manifest', 'observations', 'rollup_daily', 'products'].every(has)) {
      return { integrity, files: 0, read: 0, cleaned: 0, duplicates: 0, quarantined: 0, rows: 0, distinct: 0, rollupRows: 0 };
    }
    const manifest = db.prepare('SELECT COUNT(*) AS files, TOTAL(read) AS read, TOTAL(cleaned) AS cleaned, TOTAL(duplicates) AS duplicates, TOTAL(quarantined) AS quarantined FROM etl_manifest').get() as Omit<Counts, 'integrity' | 'rows' | 'distinct' | 'rollupRows'>;
    return {
      integrity,
      ...manifest,
      rows: db.prepare('SELECT COUNT(*) FROM observations').pluck().get() as number,
      distinct: db.prepare("SELECT COUNT(*) FROM (SELECT DISTINCT source, product_id, observed_at FROM observations)").pluck().get() as number,
      rollupRows: cacheStatus(db as never).observations,
    };
  } finally {
    db.close();
  }
}

/** The manifest's quarantine counts match the quarantine files on disk, and no temp file is left. */
function quarantineAddsUp(workspace: string): void {
  const db = new Database(join(workspace, 'cache.db'), { readonly: true, fileMustExist: true });
  try {
    const hasManifest = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'etl_manifest'").get() !== undefined;
    const listed = !hasManifest ? [] : db.prepare('SELECT file_key, quarantined FROM etl_manifest WHERE quarantined > 0').all() as { file_key: string; quarantined: number }[];
    for (const { file_key, quarantined } of listed) {
      const lines = readFileSync(join(workspace, 'quarantine', ...file_key.split('/')), 'utf8').trim().split('\n');
      expect(lines.length - 1, file_key).toBe(quarantined);
    }
    const onDisk = listFiles(join(workspace, 'quarantine'));
    expect(onDisk.filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(onDisk.length).toBe(listed.length);
  } finally {
    db.close();
  }
}

function expectConsistent(c: Counts): void {
  expect(c.integrity).toBe('ok');
  expect(c.read).toBe(c.cleaned + c.duplicates + c.quarantined);
  expect(c.read).toBe(c.files * (VALID + DUPLICATES + INVALID));
  expect(c.quarantined).toBe(c.files * INVALID);
  expect(c.rows).toBe(c.cleaned);
  expect(c.distinct).toBe(c.rows);
  expect(c.rollupRows).toBe(c.rows);
}

describe.skipIf(tinyDiskUnavailable !== undefined)(`the ETL on a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`, () => {
  /**
   * `files` raw files in the workspace's lake on a tmpfs of `sizeMb`, filled to 128 KB free. The
   * ETL runs until it completes; after each stop the cache must be consistent, and the disk grows
   * by `stepKb` (up to `steps` stops, then to 256 MB). Where each stop falls depends on the cache's
   * storage format, so the test asserts what holds at every stop, and that some stop fell mid-run
   * where `partialStop` says one must. Small runs commit file by file; from 4 MB of raw files the
   * ETL parses on a second thread and commits groups of files (parse-ahead).
   */
  function fullDiskRun(files: number, sizeMb: number, options: { steps: number; stepKb: number; partialStop: boolean }) {
    const disk = mountTinyDisk(`${sizeMb}m`, 'pricedrop-full-etl-');
    disks.push(disk);
    const workspace = join(disk.path, 'ws');
    mkdirSync(join(workspace, 'lake', 'price-stream', 'dt=2026-01-01'), { recursive: true });
    for (let f = 0; f < files; f++) {
      const key = rawBatchKey('2026-01-01', `full-etl-${String(f).padStart(3, '0')}`);
      writeFileSync(join(workspace, 'lake', ...key.split('/')), encodeRawBatch(lakeFile(f)));
    }
    disk.fill(128 * 1024);

    const stops: number[] = [];
    let sizeKb = sizeMb * 1024;
    let result = etl(workspace);
    while (result.status !== 0 && stops.length < options.steps) {
      expect(result.status, result.stderr).toBe(1);
      const message = /pricedrop etl: No space left on the disk holding the workspace \((.+?)\): the ETL (stopped after committing (\d+) of (\d+) files|stopped before committing anything new)/.exec(result.stderr);
      expect(message, result.stderr).not.toBeNull();
      expect(message![1]).toBe(workspace);
      const partial = counts(workspace);
      expectConsistent(partial);
      quarantineAddsUp(workspace);
      // The message counts this run's files: the pending ones, and those it committed before the stop.
      const before = stops.at(-1) ?? 0;
      if (message![3] !== undefined) {
        expect(Number(message![4])).toBe(files - before);
        expect(partial.files).toBe(before + Number(message![3]));
      } else expect(partial.files).toBe(before);
      stops.push(partial.files);
      disk.grow(`${(sizeKb += options.stepKb)}k`);
      result = etl(workspace);
    }
    expect(stops.length, 'the ETL stopped for want of room at least once').toBeGreaterThan(0);
    if (options.partialStop) expect(stops.some((n) => n > 0 && n < files), `stops after ${stops.join(', ')} files`).toBe(true);
    if (result.status !== 0) {
      // The last stop (past `steps`) may have committed files too; then room is back for good.
      const partial = counts(workspace);
      expectConsistent(partial);
      stops.push(partial.files);
      disk.grow('256m');
      result = etl(workspace);
    }
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ files: files - stops.at(-1)! });
    const done = counts(workspace);
    expect(done.files).toBe(files);
    expectConsistent(done);
    // Every valid row exactly once: the duplicates of earlier files were recognised across the stops.
    expect(done.rows).toBe(files * VALID);
    quarantineAddsUp(workspace);
    // Nothing left to do.
    expect(JSON.parse(etl(workspace).stdout.trim())).toMatchObject({ files: 0 });
  }

  it('file by file: stops with "no space" (again and again as room trickles back), the cache consistent with whole files only; cleans the rest once there is room', () => {
    fullDiskRun(30, 8, { steps: 12, stepKb: 256, partialStop: true });
  }, 180_000);

  it('parse-ahead with grouped commits (4 MB+ of raw files): the open group rolls back whole; the rest is cleaned once there is room', () => {
    fullDiskRun(130, 16, { steps: 3, stepKb: 512, partialStop: false });
  }, 180_000);
});
