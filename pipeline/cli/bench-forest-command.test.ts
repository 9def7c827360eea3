import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, UsageError, type CommandIo } from '../base/command-line';
import { benchForestCommand } from './bench-forest-command';
import { createRandom } from '../../model/forest/random-forest';
import { readNumericCsv } from '../../model/bench/bench-forest';

const dir = mkdtempSync(join(tmpdir(), 'pricedrop-bench-forest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** y = 1 when a + b > 1 (plus a little noise); c is noise; a is sometimes missing. */
function writeCsv(file: string, rows: number, seed: number): void {
  const random = createRandom(seed);
  const lines = ['a,b,c,y'];
  for (let i = 0; i < rows; i++) {
    const a = random();
    const b = random();
    const y = a + b + (random() - 0.5) * 0.2 > 1 ? 1 : 0;
    lines.push(`${i % 50 === 0 ? '' : a.toFixed(4)},${b.toFixed(4)},${random().toFixed(4)},${y}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

describe('pricedrop bench forest', () => {
  const train = join(dir, 'train.csv');
  const test = join(dir, 'test.csv');
  writeCsv(train, 3000, 1);
  writeCsv(test, 1000, 2);

  it('reads a numeric CSV with a label column (empty cells are NaN)', () => {
    const table = readNumericCsv(train, 'y');
    expect(table.names).toEqual(['a', 'b', 'c']);
    expect(table.rows).toBe(3000);
    expect(table.columns[0]![0]).toBeNaN();
    expect(() => readNumericCsv(train, 'nope')).toThrow(/no column "nope"/);
  });

  it('prints {"train_ms","predict_ms","auc"} and learns the set', async () => {
    const out: string[] = [];
    const io: CommandIo = { log: () => undefined, out: (m) => out.push(m), json: (v) => out.push(JSON.stringify(v)), progress: () => undefined };
    await benchForestCommand.run(parseArgs(['--train', train, '--test', test, '--label', 'y', '--trees', '20', '--max-depth', '8', '--max-features', '2', '--json']), io);
    const result = JSON.parse(out.at(-1)!);
    expect(result).toHaveProperty('train_ms');
    expect(result).toHaveProperty('predict_ms');
    expect(result.auc).toBeGreaterThan(0.9);
    expect(result.rows_train).toBe(3000);
  });

  it('refuses missing flags with a usage error', async () => {
    const io: CommandIo = { log: () => undefined, out: () => undefined, json: () => undefined, progress: () => undefined };
    await expect(benchForestCommand.run(parseArgs(['--train', train, '--test', test, '--label', 'y', '--max-depth', '8']), io)).rejects.toThrow(UsageError);
  });
});
