import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/cli-process';
import { runProducer } from '../../producer/run-producer';
import { readLakeRows, tempFolder } from './producer-harness';

const PNP = resolve(REPO_ROOT, '../shared/data/pnp_weekly');
const havePnp = existsSync(PNP);
if (!havePnp) console.warn(`replay-real-data: skipped, the Pick n Pay snapshots are not at ${PNP}`);

describe.skipIf(!havePnp)('replaying real retail data (Pick n Pay weekly snapshots, 32 files)', () => {
  const work = tempFolder('pricedrop-pnp-');
  afterAll(() => work.remove());

  it('delivers every row as read, one dt= partition per snapshot date, ids stable across weeks', async () => {
    const workspace = join(work.path, 'ws');
    const summary = await runProducer({ source: 'replay', workspace, file: PNP, map: 'title=name,category=const:groceries', dateFromFilename: true, currency: 'ZAR', sourceName: 'pnp' });
    const dataRows = readdirSync(PNP)
      .filter((name) => name.endsWith('.csv'))
      .reduce((sum, name) => sum + readFileSync(join(PNP, name), 'utf8').split('\n').slice(1).filter((line) => line.trim() !== '').length, 0);
    // Every data row is either delivered or rejected with a reason (none silently dropped).
    expect(summary.records + summary.rejected).toBe(dataRows);
    expect(summary.records).toBeGreaterThan(300_000);
    const lake = join(workspace, 'lake');
    const days = readdirSync(join(lake, 'price-stream'));
    expect(days).toHaveLength(32);
    const rows = readLakeRows(lake);
    expect(rows).toHaveLength(summary.records);
    // The same product name gets the same id in every week (pricedrop import's stable ids).
    const milk = rows.filter((fields) => fields[1] === 'PnP UHT Full Cream Milk 6 x 1L');
    expect(milk.length).toBeGreaterThan(20);
    expect(new Set(milk.map((fields) => fields[0])).size).toBe(1);
    // Unrounded floats from weight-priced items are written with at most 4 decimals.
    expect(rows.every((fields) => !/\.\d{5,}/.test(fields[3]!))).toBe(true);
  }, 90_000);
});
