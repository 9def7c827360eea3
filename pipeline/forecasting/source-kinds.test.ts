import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../cache/cache-db';
import { parseArgs, UsageError, type CommandIo } from '../base/command-line';
import { importCommand } from '../cli/import-command';
import { fixtureRows } from '../../model/test-fixtures';
import { writeFixtureRows } from './fixture-cache';
import { useTempDirs } from '../../test/support/temp-dirs';
import { describeSourceKind, detectNewSourceKinds, detectSourceKinds, readSourceKinds, setSourceKind } from './source-kinds';

const tempDir = useTempDirs('pricedrop-source-kinds-');

function captureLog(): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (line) => lines.push(line), json: () => undefined, out: () => undefined, progress: () => undefined };
}

describe('source kinds', () => {
  it('detects a snapshot source and a change log from how often a product repeats its price', () => {
    const db = openCache(cachePath(tempDir()));
    try {
      writeFixtureRows(db, fixtureRows({ products: 12, days: 90, mode: 'snapshots', source: 'daily' }));
      writeFixtureRows(db, fixtureRows({ products: 12, days: 90, mode: 'changes', source: 'log' }));
      const detected = detectSourceKinds(db);
      expect(detected.map((d) => [d.source, d.kind, d.detected])).toEqual([
        ['daily', 'snapshots', true],
        ['log', 'changes', true],
      ]);
      const kinds = readSourceKinds(db);
      // Daily rows of prices that move on a 3–5 week promotion cycle repeat most days; a change log never does.
      expect(kinds.get('daily')!.repeat_share).toBeGreaterThan(0.8);
      expect(kinds.get('log')!.repeat_share).toBe(0);
      expect(describeSourceKind(detected[0]!)).toMatch(/^source daily: snapshots \(detected: \d+ % of consecutive rows repeat the price\)$/);
    } finally {
      db.close();
    }
  });

  it('detects only sources without a kind yet, for the embedded ETL loop', () => {
    const db = openCache(cachePath(tempDir()));
    try {
      writeFixtureRows(db, fixtureRows({ products: 12, days: 90, mode: 'snapshots', source: 'daily' }));
      expect(detectNewSourceKinds(db).map((d) => d.source)).toEqual(['daily']);
      writeFixtureRows(db, fixtureRows({ products: 12, days: 90, mode: 'changes', source: 'log' }));
      expect(detectNewSourceKinds(db).map((d) => d.source)).toEqual(['log']);
      expect(detectNewSourceKinds(db)).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('stores nothing while a source has too few consecutive rows to tell', () => {
    const db = openCache(cachePath(tempDir()));
    try {
      writeFixtureRows(db, fixtureRows({ products: 5, days: 2, source: 'new' }));
      expect(detectSourceKinds(db)).toEqual([]);
      expect(readSourceKinds(db).size).toBe(0);
    } finally {
      db.close();
    }
  });

  it('never overwrites the kind the user gave with a detection', () => {
    const db = openCache(cachePath(tempDir()));
    try {
      writeFixtureRows(db, fixtureRows({ products: 12, days: 90, mode: 'snapshots', source: 'shop' }));
      setSourceKind(db, 'shop', 'changes');
      const [entry] = detectSourceKinds(db);
      expect(entry).toMatchObject({ source: 'shop', kind: 'changes', detected: false });
      expect(readSourceKinds(db).get('shop')).toMatchObject({ kind: 'changes', detected: false });
      expect(describeSourceKind(entry!)).toMatch(/given with --kind/);
    } finally {
      db.close();
    }
  });

  it('import --kind stores the user’s word; without it, import prints and stores the detected kind', async () => {
    const input = tempDir();
    const days = Array.from({ length: 30 }, (_, d) => new Date(Date.UTC(2025, 0, 1 + d)).toISOString());
    // Three products a day, the price held for days at a time: a snapshot source.
    const lines = ['product_id,name,price,observed_at', ...days.flatMap((at, d) => ['a', 'b', 'c'].map((p) => `${p},Item ${p},${d < 15 ? 10 : 9},${at}`))];
    writeFileSync(join(input, 'history.csv'), lines.join('\n') + '\n');

    const detectedWs = tempDir();
    const io = captureLog();
    await importCommand.run(parseArgs([input, '--map', 'title=name', '--currency', 'EUR', '--source', 'shop', '--workspace', detectedWs]), io);
    expect(io.lines).toContain('source shop: snapshots (detected: 97 % of consecutive rows repeat the price)');
    const detectedDb = openCache(cachePath(detectedWs), { readonly: true });
    expect(readSourceKinds(detectedDb).get('shop')).toEqual({ kind: 'snapshots', detected: true, repeat_share: 84 / 87 });
    detectedDb.close();

    const givenWs = tempDir();
    const given = captureLog();
    await importCommand.run(parseArgs([input, '--map', 'title=name', '--currency', 'EUR', '--source', 'shop', '--kind', 'changes', '--workspace', givenWs]), given);
    expect(given.lines.some((line) => line.startsWith('source shop: changes (given with --kind'))).toBe(true);
    const givenDb = openCache(cachePath(givenWs), { readonly: true });
    expect(readSourceKinds(givenDb).get('shop')).toMatchObject({ kind: 'changes', detected: false });
    givenDb.close();

    await expect(importCommand.run(parseArgs([input, '--kind', 'weekly', '--workspace', givenWs]), captureLog())).rejects.toThrow(UsageError);
  });
});
