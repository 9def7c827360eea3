import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRawRecord } from '../../pipeline/base/raw-format';
import { dedupKey, knownRecords, listFiles, parseRawBatch, producerBundle, rawCsv, readLakeRows, startProducer, tempFolder } from '../producer/producer-harness';
import { mountTinyDisk, tinyDiskUnavailable, type TinyDisk } from '../support/tiny-disk';

/**
 * The producer on a full disk (a tmpfs the test mounts, then grows): its spool and its lake writes
 * each stop the run with a clear "no space" error, the lake never holds a torn or partial object,
 * what could not be delivered stays in the spool or is read again, and the same command, once
 * there is room, delivers every record: the delivered set equals the input, none lost.
 */
const RECORDS = 20_000;
const work = tempFolder('pricedrop-full-producer-');
const disks: TinyDisk[] = [];
afterAll(() => {
  for (const disk of disks) disk.remove();
  work.remove();
});

function tinyDisk(size: string): TinyDisk {
  const disk = mountTinyDisk(size, 'pricedrop-full-producer-');
  disks.push(disk);
  return disk;
}

/** The records of a lake as their raw CSV lines, checking on the way that no object is torn and no temp file poses as one. */
function deliveredLines(lake: string): Set<string> {
  for (const file of listFiles(lake).filter((name) => !name.endsWith('.csv'))) expect(file, 'only .csv objects and ballast in the lake').toMatch(/(^|\/)\.ballast-\d+$|\/\.[^/]+\.tmp$/);
  return new Set(
    readLakeRows(lake).map((fields) =>
      encodeRawRecord({
        product_id: fields[0]!,
        title: fields[1]!,
        category: fields[2]!,
        price: Number(fields[3]),
        old_price: fields[4] === '' ? null : Number(fields[4]),
        currency: fields[5]!,
        source: fields[6]!,
        observed_at: fields[7]!,
      }),
    ),
  );
}

/** Every spooled batch parses whole, and holds the number of records its name says. */
function spooledRecords(spoolRoot: string): number {
  let records = 0;
  for (const file of listFiles(spoolRoot)) {
    const match = /(?:^|\/)\d{12}_(\d+)_[^/]+\.batch$/.exec(file);
    if (!match) continue;
    const rows = parseRawBatch(readFileSync(join(spoolRoot, file), 'utf8'), file);
    expect(rows.length, file).toBe(Number(match[1]));
    records += rows.length;
  }
  return records;
}

describe.skipIf(tinyDiskUnavailable !== undefined)(`the producer on a full disk${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ''}`, () => {
  const records = knownRecords(RECORDS, 'replay-full');
  const expected = new Set(records.map((record) => encodeRawRecord(record)));
  const input = join(work.path, 'history.csv');
  writeFileSync(input, rawCsv(records));

  async function produce(workspace: string, sink?: string) {
    const bundle = await producerBundle();
    const args = ['produce', '--source', 'replay', '--file', input, '--workspace', workspace, '--batch-size', '500', '--json', ...(sink ? ['--sink', sink] : [])];
    return startProducer(bundle, args).done;
  }

  async function completesOnceThereIsRoom(disk: TinyDisk, workspace: string, lake: string, sink?: string) {
    disk.grow('64m');
    const again = await produce(workspace, sink);
    expect(again.code, again.stderr).toBe(0);
    const delivered = deliveredLines(lake);
    expect(delivered.size).toBe(expected.size);
    for (const line of expected) if (!delivered.has(line)) throw new Error(`lost: ${line}`);
    expect(new Set(readLakeRows(lake).map(dedupKey)).size).toBe(RECORDS);
    expect(spooledRecords(join(workspace, 'producer', 'spool'))).toBe(0);
  }

  it('lake and spool on one full disk (the default layout): stops with "no space", keeps the lake whole, delivers everything once there is room', async () => {
    const disk = tinyDisk('4m');
    const workspace = join(disk.path, 'ws');
    const lake = join(workspace, 'lake');
    disk.fill(400 * 1024);
    const full = await produce(workspace);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(/producer: No space left on the disk holding (the producer's spool|the lake) \(/);
    // What reached the lake is whole, and only input records.
    const before = deliveredLines(lake);
    expect(before.size).toBeGreaterThan(0);
    expect(before.size).toBeLessThan(RECORDS);
    for (const line of before) expect(expected.has(line)).toBe(true);
    spooledRecords(join(workspace, 'producer', 'spool'));
    await completesOnceThereIsRoom(disk, workspace, lake);
  }, 120_000);

  it('spool full: stops at the batch it cannot spool, its records not committed, and the next run reads them again', async () => {
    const disk = tinyDisk('2m');
    const workspace = join(disk.path, 'ws');
    const lake = join(work.path, 'lake-spool-full');
    disk.fill(16 * 1024);
    const full = await produce(workspace, lake);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toContain(`producer: No space left on the disk holding the producer's spool (${workspace}/producer/spool/`);
    expect(full.stderr).toMatch(/could not be spooled and its source position was not committed/);
    // No partial temp file is left to eat the little room there is.
    expect(listFiles(join(workspace, 'producer', 'spool')).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    await completesOnceThereIsRoom(disk, workspace, lake, lake);
  }, 120_000);

  it('lake full: stops with "no space", keeps every undelivered batch in the spool, and the next run delivers them first', async () => {
    const disk = tinyDisk('4m');
    const lake = join(disk.path, 'lake');
    const workspace = join(work.path, 'ws-lake-full');
    disk.fill(300 * 1024);
    const full = await produce(workspace, lake);
    expect(full.code, full.stderr).toBe(1);
    expect(full.stderr).toMatch(new RegExp(`producer: No space left on the disk holding the lake \\(${lake}\\): \\d+ batches \\([\\d.]+ MB\\) are kept in the spool \\(.+\\) and delivered first by the next run`));
    const inLake = deliveredLines(lake);
    expect(inLake.size).toBeGreaterThan(0);
    // Nothing half-written: no temp object is left in the lake either.
    expect(listFiles(lake).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    // What the lake could not take is in the spool, whole.
    const spooled = spooledRecords(join(workspace, 'producer', 'spool'));
    expect(spooled).toBeGreaterThan(0);
    expect(Number(/: (\d+) batches/.exec(full.stderr)![1])).toBe(readdirSync(join(workspace, 'producer', 'spool', readdirSync(join(workspace, 'producer', 'spool'))[0]!)).filter((name) => name.endsWith('.batch')).length);
    const again = completesOnceThereIsRoom(disk, workspace, lake, lake);
    await again;
  }, 120_000);
});
