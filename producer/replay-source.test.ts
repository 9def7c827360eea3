import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runProducer } from './run-producer';

const folders: string[] = [];
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pricedrop-replay-'));
  folders.push(dir);
  return dir;
}

async function lakeLines(workspace: string): Promise<string[]> {
  const { readdirSync } = await import('node:fs');
  const lake = join(workspace, 'lake', 'price-stream');
  const lines: string[] = [];
  for (const day of readdirSync(lake).sort()) {
    for (const file of readdirSync(join(lake, day)).filter((name) => name.endsWith('.csv')).sort()) {
      lines.push(...readFileSync(join(lake, day, file), 'utf8').split('\r\n').slice(1).filter(Boolean));
    }
  }
  return lines;
}

describe('replay source', () => {
  it('maps a Pick n Pay style folder with --map/--date-from-filename/--currency like pricedrop import, rejecting bad prices', async () => {
    const dir = temp();
    const input = join(dir, 'pnp');
    mkdirSync(input);
    writeFileSync(join(input, 'pnp_products_2025-07-26.csv'), 'store,name,price,old_price,promotion\nPick n Pay,"Milk 1L, full cream",19.99,,\nPick n Pay,Bread,abc,,\n');
    writeFileSync(join(input, 'pnp_products_2025-08-02.csv'), 'store,name,price,old_price,promotion\nPick n Pay,"Milk 1L, full cream",17.99,19.99,"2 For R30"\n');
    const workspace = join(dir, 'ws');
    const summary = await runProducer({ source: 'replay', workspace, file: input, map: 'title=name,category=const:groceries', dateFromFilename: true, currency: 'ZAR', sourceName: 'pnp' });
    expect(summary).toMatchObject({ records: 2, rejected: 1 });
    const lines = await lakeLines(workspace);
    expect(lines).toEqual([
      expect.stringMatching(/^t-[0-9a-f]{16},"Milk 1L, full cream",groceries,19.99,,ZAR,pnp,2025-07-26T00:00:00.000Z$/),
      expect.stringMatching(/^t-[0-9a-f]{16},"Milk 1L, full cream",groceries,17.99,19.99,ZAR,pnp,2025-08-02T00:00:00.000Z$/),
    ]);
    const rejected = readFileSync(join(workspace, 'producer', 'rejected.jsonl'), 'utf8');
    expect(rejected).toContain('non-numeric price \\"abc\\"');
    // A second run resumes after the end: nothing more.
    expect(await runProducer({ source: 'replay', workspace, file: input, map: 'title=name,category=const:groceries', dateFromFilename: true, currency: 'ZAR', sourceName: 'pnp' })).toMatchObject({ records: 0 });
  });

  it('fails clearly when a mapped column does not exist', async () => {
    const dir = temp();
    writeFileSync(join(dir, 'a.csv'), 'id,cost,when\n1,2,2026-01-01\n');
    await expect(runProducer({ source: 'replay', workspace: join(dir, 'ws'), file: join(dir, 'a.csv'), map: 'product_id=id,price=price_eur' })).rejects.toThrow(/no column "price_eur"/);
  });

  it('--speed paces the replay on the recorded timestamps', async () => {
    const dir = temp();
    const file = join(dir, 'timed.csv');
    const rows = ['product_id,title,category,price,old_price,currency,source,observed_at'];
    for (let i = 0; i < 5; i++) rows.push(`p${i},T,home,${10 + i},,USD,replay,2026-01-01T00:00:0${i}.000Z`);
    writeFileSync(file, rows.join('\n') + '\n');
    const started = Date.now();
    // 4 recorded seconds at 4x: about a second of wall time (one chunk per row).
    const summary = await runProducer({ source: 'replay', workspace: join(dir, 'ws'), file, speed: 4 });
    expect(summary.records).toBe(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
