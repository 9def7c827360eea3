import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRawBatch, rawBatchKey, type RawRecord } from '../../pipeline/lake/raw-format';
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
    const manifest = db.prepare('SELECT COUNT(*) AS files, TOTAL(read) AS read, TOTAL(cleaned) AS cleaned, TOTAL(duplicates) AS duplicates, TOTAL(quarantined) AS quarantined FROM etl_manifest').get() as Omit<Counts, 'integrity' | 'rows' | 'distinct' | 'rollupRows'>;
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
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
    const listed = db.prepare('SELECT file_key, quarantined FROM etl_manifest WHERE quarantined > 0').all() as { file_key: string; quarantined: number }[];
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
   * FILES raw files in the workspace's lake on a tmpfs of `size`, filled to `leave` bytes free;
   * the ETL stops, then completes once the disk grows. Small runs commit file by file; from 4 MB
   * of raw files the ETL parses on a second thread and commits groups of files (parse-ahead).
   */
  function fullDiskRun(files: number, size: string, leave: number, committedAtLeast: number) {
    const disk = mountTinyDisk(size, 'pricedrop-full-etl-');
    disks.push(disk);
    const workspace = join(disk.path, 'ws');
    mkdirSync(join(workspace, 'lake', 'price-stream', 'dt=2026-01-01'), { recursive: true });
    for (let f = 0; f < files; f++) {
      const key = rawBatchKey('2026-01-01', `full-etl-${String(f).padStart(3, '0')}`);
      writeFileSync(join(workspace, 'lake', ...key.split('/')), encodeRawBatch(lakeFile(f)));
    }
    disk.fill(leave);

    const full = etl(workspace);
    expect(full.status, full.stderr).toBe(1);
    const stopped = /pricedrop etl: No space left on the disk holding the workspace \((.+)\): the ETL stopped after committing (\d+) of (\d+) files/.exec(full.stderr);
    expect(stopped, full.stderr).not.toBeNull();
    expect(stopped![1]).toBe(workspace);
    const committed = Number(stopped![2]);
    expect(committed).toBeGreaterThanOrEqual(committedAtLeast);
    expect(committed).toBeLessThan(files);
    const partial = counts(workspace);
    expect(partial.files).toBe(committed);
    expectConsistent(partial);
    quarantineAddsUp(workspace);

    disk.grow('128m');
    const rest = etl(workspace);
    expect(rest.status, rest.stderr).toBe(0);
    expect(JSON.parse(rest.stdout.trim())).toMatchObject({ files: files - committed });
    const done = counts(workspace);
    expect(done.files).toBe(files);
    expectConsistent(done);
    // Every valid row exactly once: the duplicates of earlier files were recognised across the stop.
    expect(done.rows).toBe(files * VALID);
    quarantineAddsUp(workspace);
    // Nothing left to do.
    expect(JSON.parse(etl(workspace).stdout.trim())).toMatchObject({ files: 0 });
  }

  it('file by file: stops with "no space" after some files, the cache consistent with whole files only; cleans the rest once there is room', () => {
    fullDiskRun(30, '8m', 700 * 1024, 1);
  }, 180_000);

  it('parse-ahead with grouped commits (4 MB+ of raw files): the open group rolls back whole; the rest is cleaned once there is room', () => {
    fullDiskRun(130, '24m', 1024 * 1024, 0);
  }, 180_000);
});
