import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCsvLine } from '../../producer/csv-rows';
import { encodeRawRecord } from '../../pipeline/lake/raw-format';
import { dedupKey, knownRecords, listFiles, producerBundle, rawCsv, readLakeRows, startProducer, tempFolder } from './producer-harness';

const RECORDS = 100_000;
const work = tempFolder('pricedrop-kill-');
afterAll(() => work.remove());

describe('kill -9 at random moments, then the same command again (--source replay)', () => {
  it('delivers every record of a 100,000-record CSV, none lost', async () => {
    const bundle = await producerBundle();
    const records = knownRecords(RECORDS);
    const input = join(work.path, 'history.csv');
    writeFileSync(input, rawCsv(records));
    const lake = join(work.path, 'lake');
    const args = ['produce', '--source', 'replay', '--file', input, '--sink', lake, '--workspace', join(work.path, 'ws'), '--batch-size', '500', '--json'];

    let kills = 0;
    let finished = false;
    // A fixed pseudo-random sequence of kill delays, so a failure can be replayed.
    let state = 12345;
    // The window widens with each attempt, so a loaded machine still gets to the end.
    const nextDelay = (attempt: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return 50 + ((state % 1000) / 1000) * (150 + attempt * 60);
    };
    for (let attempt = 0; attempt < 60 && !finished; attempt++) {
      const run = startProducer(bundle, args);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), nextDelay(attempt));
      const result = await run.done;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') {
        kills++;
        // Between runs the lake never holds a torn object: every .csv parses completely.
        readLakeRows(lake);
        continue;
      }
      expect(result.code, result.stderr).toBe(0);
      finished = true;
    }
    expect(finished).toBe(true);
    expect(kills).toBeGreaterThanOrEqual(3);

    const delivered = readLakeRows(lake);
    const expected = new Set(records.map((record) => encodeRawRecord(record)));
    const got = new Set(delivered.map((fields) => encodeRawRecord({
      product_id: fields[0]!, title: fields[1]!, category: fields[2]!, price: Number(fields[3]), old_price: fields[4] === '' ? null : Number(fields[4]),
      currency: fields[5]!, source: fields[6]!, observed_at: fields[7]!,
    })));
    expect(got.size).toBe(expected.size);
    for (const line of expected) if (!got.has(line)) throw new Error(`lost: ${line}`);
    // Duplicates are possible only for batches in flight, and share the dedup key.
    expect(new Set(delivered.map(dedupKey)).size).toBe(RECORDS);
    // A kill can leave a temp file beside the objects: a dot-name the ETL ignores (not .csv).
    for (const file of listFiles(lake).filter((name) => !name.endsWith('.csv'))) expect(file).toMatch(/\/\.[^/]+\.tmp$/);
    // Running it again after completion delivers nothing more.
    const again = await startProducer(bundle, args).done;
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ records: 0 });
    expect(parseCsvLine('a,"b,c"')).toEqual(['a', 'b,c']);
  }, 120_000);
});
