import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../cache/cache-db';
import { runLocalEtl } from '../etl/local-etl';
import { splitCsvText } from './csv-records';

/** The shared vectors (test/vectors/*.json), run through the real local ETL into a real cache. */
interface Vector {
  name: string;
  description: string;
  now: string;
  min_drop_pct: number;
  batches: string[];
  cleaned: Record<string, unknown>[];
  duplicates: number;
  quarantined: { batch: number; line: number; reason: string }[];
}

const vectorDir = resolve(import.meta.dirname, '../../test/vectors');
const vectors = readdirSync(vectorDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(readFileSync(join(vectorDir, name), 'utf8')) as Vector);

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const batchName = (i: number) => `batch-${String(i).padStart(3, '0')}`;

describe('shared ETL vectors through the local engine', () => {
  it('found the vectors', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(6);
  });

  for (const vector of vectors) for (const parseAhead of [false, true])
    it(`${vector.name}${parseAhead ? ' (parse-ahead thread)' : ''}: ${vector.description}`, async () => {
      const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-vectors-'));
      workspaces.push(workspace);
      const day = join(workspace, 'lake', 'price-stream', 'dt=2000-01-01');
      mkdirSync(day, { recursive: true });
      vector.batches.forEach((text, i) => writeFileSync(join(day, `${batchName(i)}.csv`), text));

      const summary = await runLocalEtl({ workspace, now: Date.parse(vector.now), minDropPct: vector.min_drop_pct, inline: true, parseAhead });

      const db = openCache(cachePath(workspace));
      const rows = db
        .prepare(
          `SELECT source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label
           FROM observations ORDER BY source, product_id, observed_at`,
        )
        .all() as Record<string, unknown>[];
      db.close();
      const expected = [...vector.cleaned]
        .sort((a, b) => String(a.source).localeCompare(String(b.source)) || String(a.product_id).localeCompare(String(b.product_id)) || String(a.observed_at).localeCompare(String(b.observed_at)))
        .map((row) => ({ ...row, is_drop: row.is_drop ? 1 : 0 }));
      expect(rows).toEqual(expected);

      const quarantined: { batch: number; line: number; reason: string }[] = [];
      vector.batches.forEach((_, i) => {
        const file = join(workspace, 'quarantine', 'price-stream', 'dt=2000-01-01', `${batchName(i)}.csv`);
        if (!existsSync(file)) return;
        const [header, ...records] = splitCsvText(readFileSync(file, 'utf8'));
        expect(header?.fields).toEqual(['line', 'reason', 'raw']);
        for (const record of records) quarantined.push({ batch: i, line: Number(record.fields[0]), reason: record.fields[1] as string });
      });
      expect(quarantined).toEqual(vector.quarantined);

      const read = vector.batches.reduce((n, text) => n + splitCsvText(text).length - 1, 0);
      expect(summary).toEqual({ files: vector.batches.length, read, cleaned: vector.cleaned.length, duplicates: vector.duplicates, quarantined: vector.quarantined.length });
    });
});
