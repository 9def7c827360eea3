import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cachePath, openCache } from '../cache/cache-db';
import { RAW_HEADER } from '../base/raw-format';
import { runLocalEtl } from './local-etl';
import { processRawFiles } from './etl-engine';
import { listRawFiles } from '../base/lake-layout';

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspaceWith(files: Record<string, string>): string {
  const workspace = mkdtempSync(join(tmpdir(), 'pricedrop-etl-'));
  workspaces.push(workspace);
  for (const [key, text] of Object.entries(files)) {
    const path = join(workspace, 'lake', ...key.split('/'));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }
  return workspace;
}

function rows(n: number, start = 0, day = '2026-11-20'): string {
  let out = RAW_HEADER + '\r\n';
  for (let i = start; i < start + n; i++) out += `p${i % 50},Item ${i},home,${10 + (i % 7)},,EUR,shop,${day}T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z\r\n`;
  return out;
}

function count(workspace: string, sql: string): number {
  const db = openCache(cachePath(workspace));
  try {
    return db.prepare(sql).pluck().get() as number;
  } finally {
    db.close();
  }
}

const NOW = Date.parse('2026-11-25T00:00:00Z');

describe('runLocalEtl', () => {
  it('processes new files once: a re-run is a no-op, a new file is picked up', async () => {
    const workspace = workspaceWith({ 'price-stream/dt=2026-11-20/a.csv': rows(100), 'price-stream/dt=2026-11-20/a.csv.tmp': 'partial', 'price-stream/dt=2026-11-20/notes.txt': 'x' });
    expect(await runLocalEtl({ workspace, now: NOW, inline: true })).toEqual({ files: 1, read: 100, cleaned: 100, duplicates: 0, quarantined: 0 });
    expect(await runLocalEtl({ workspace, now: NOW, inline: true })).toEqual({ files: 0, read: 0, cleaned: 0, duplicates: 0, quarantined: 0 });
    writeFileSync(join(workspace, 'lake/price-stream/dt=2026-11-20/b.csv'), rows(10, 95));
    expect(await runLocalEtl({ workspace, now: NOW, inline: true })).toEqual({ files: 1, read: 10, cleaned: 5, duplicates: 5, quarantined: 0 });
    expect(count(workspace, 'SELECT count(*) FROM observations')).toBe(105);
    expect(count(workspace, 'SELECT count(*) FROM etl_manifest')).toBe(2);
    expect(count(workspace, 'SELECT count(*) FROM products')).toBe(50);
  });

  it('parses on a second thread when asked (or for large runs) with the same results', async () => {
    const files = { 'price-stream/dt=2026-11-20/a.csv': rows(30000), 'price-stream/dt=2026-11-21/b.csv': rows(500, 0, '2026-11-21') + 'p1,Bad,home,abc,,EUR,shop,2026-11-21T00:00:00Z\r\n' };
    const plain = workspaceWith(files);
    const ahead = workspaceWith(files);
    const expected = await runLocalEtl({ workspace: plain, now: NOW, inline: true, parseAhead: false });
    expect(await runLocalEtl({ workspace: ahead, now: NOW, parseAhead: true })).toEqual(expected);
    expect(expected).toMatchObject({ files: 2, read: 30501, quarantined: 1 });
    const dump = (workspace: string) => {
      const db = openCache(cachePath(workspace));
      try {
        return db.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all();
      } finally {
        db.close();
      }
    };
    expect(dump(ahead)).toEqual(dump(plain));
    expect(readFileSync(join(ahead, 'quarantine/price-stream/dt=2026-11-21/b.csv'), 'utf8')).toBe(readFileSync(join(plain, 'quarantine/price-stream/dt=2026-11-21/b.csv'), 'utf8'));
  });

  it('runs in a worker thread and reports progress', async () => {
    const workspace = workspaceWith({ 'price-stream/dt=2026-11-20/a.csv': rows(9000) });
    const progress: number[] = [];
    const summary = await runLocalEtl({ workspace, now: NOW, onProgress: (p) => progress.push(p.rowsRead) });
    expect(summary).toEqual({ files: 1, read: 9000, cleaned: 3600, duplicates: 5400, quarantined: 0 });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe(9000);
  });

  it('serialises concurrent calls on one workspace: each file is counted once', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 5; i++) files[`price-stream/dt=2026-11-2${i}/f.csv`] = rows(200, 0, `2026-11-2${i}`);
    const workspace = workspaceWith(files);
    const results = await Promise.all([runLocalEtl({ workspace, now: NOW }), runLocalEtl({ workspace, now: NOW, inline: true }), runLocalEtl({ workspace, now: NOW })]);
    expect(results.reduce((n, r) => n + r.files, 0)).toBe(5);
    expect(results.reduce((n, r) => n + r.read, 0)).toBe(1000);
    expect(count(workspace, 'SELECT count(*) FROM observations')).toBe(1000);
    expect(existsSync(join(workspace, '.etl.lock'))).toBe(false);
  });

  it('leaves nothing half-applied when a file fails mid-way, and redoes it next time', async () => {
    const workspace = workspaceWith({
      'price-stream/dt=2026-11-20/a.csv': rows(10),
      'price-stream/dt=2026-11-21/b.csv': rows(5000, 0, '2026-11-21') + 'p1,Bad,home,abc,,EUR,shop,2026-11-21T00:00:00Z\r\n',
    });
    // A trigger that fails once half of b.csv's 3,600 rows are in stands in for a crash mid-file.
    const db = openCache(cachePath(workspace));
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON observation_records
             WHEN NEW.dt = '2026-11-21' AND (SELECT count(*) FROM observation_records WHERE dt = '2026-11-21') >= 1800
             BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    db.close();
    await expect(runLocalEtl({ workspace, now: NOW, inline: true })).rejects.toThrow('disk on fire');
    expect(count(workspace, 'SELECT count(*) FROM observations')).toBe(10);
    expect(count(workspace, "SELECT count(*) FROM observations WHERE dt = '2026-11-21'")).toBe(0);
    expect(count(workspace, 'SELECT count(*) FROM etl_manifest')).toBe(1);
    expect(existsSync(join(workspace, 'quarantine/price-stream/dt=2026-11-21/b.csv'))).toBe(false);

    const fix = openCache(cachePath(workspace));
    fix.exec('DROP TRIGGER boom');
    fix.close();
    expect(await runLocalEtl({ workspace, now: NOW, inline: true })).toEqual({ files: 1, read: 5001, cleaned: 3600, duplicates: 1400, quarantined: 1 });
    const quarantine = readFileSync(join(workspace, 'quarantine/price-stream/dt=2026-11-21/b.csv'), 'utf8');
    expect(quarantine).toBe('line,reason,raw\np1,INVALID_PRICE,"p1,Bad,home,abc,,EUR,shop,2026-11-21T00:00:00Z"\n'.replace('p1,INVALID', '5002,INVALID'));
  });

  it('loads a bulk run into a new cache with its day and category indexes built after the rows, rows and counts as an indexed run', async () => {
    // Over 4 MB (a bulk run): 500 products a minute, each key once; the second file repeats 300
    // of the first file's rows and has 300 new rows older than their product's latest (late).
    const lines = (from: number, to: number, day: string, second = 0) => {
      let out = '';
      for (let i = from; i < to; i++) {
        const minute = Math.floor(i / 500);
        out += `p${i % 500},Item ${i % 500},home,${10 + (i % 7)},,EUR,shop,${day}T${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}:${String(second).padStart(2, '0')}Z\r\n`;
      }
      return out;
    };
    const first = lines(0, 45000, '2026-11-20');
    const files = {
      'price-stream/dt=2026-11-20/a.csv': RAW_HEADER + '\r\n' + first,
      'price-stream/dt=2026-11-21/b.csv': RAW_HEADER + '\r\n' + lines(0, 45000, '2026-11-21') + first.split('\r\n').slice(1000, 1300).join('\r\n') + '\r\n' + lines(2000, 2300, '2026-11-20', 30),
    };
    expect(Object.values(files).reduce((n, text) => n + text.length, 0)).toBeGreaterThan(4 << 20);
    const bulk = workspaceWith(files);
    const indexed = workspaceWith(files);
    const summary = await runLocalEtl({ workspace: bulk, now: NOW, inline: true, parseAhead: false });
    const db = openCache(cachePath(indexed));
    const expected = processRawFiles(db, indexed, listRawFiles(join(indexed, 'lake')), { nowMs: NOW });
    db.close();
    expect(summary).toEqual(expected);
    expect(summary).toMatchObject({ read: 90600, cleaned: 90300, duplicates: 300 });
    const look = (workspace: string) => {
      const cache = openCache(cachePath(workspace));
      try {
        return {
          rows: cache.prepare('SELECT * FROM observations ORDER BY source, product_id, observed_at').all(),
          rollups: cache.prepare('SELECT dt, category, is_drop, observations FROM rollup_daily ORDER BY 1, 2, 3').all(),
          indexes: cache.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'observation_records' ORDER BY name").pluck().all(),
          deferred: cache.prepare("SELECT count(*) FROM meta WHERE key = 'bulk_load'").pluck().get(),
          integrity: cache.pragma('integrity_check', { simple: true }),
        };
      } finally {
        cache.close();
      }
    };
    const after = look(bulk);
    expect(after).toEqual(look(indexed));
    expect(after).toMatchObject({ indexes: ['observation_records_descriptor', 'observation_records_dt', 'observation_records_key'], deferred: 0, integrity: 'ok' });
  });

  it('commits bulk runs in groups of whole files, and a failure rolls back the whole open group', () => {
    const workspace = workspaceWith({
      'price-stream/dt=2026-11-20/a.csv': rows(3000),
      'price-stream/dt=2026-11-21/b.csv': rows(3000, 0, '2026-11-21') + 'p1,Bad,home,abc,,EUR,shop,2026-11-21T00:00:00Z\r\n',
      'price-stream/dt=2026-11-22/c.csv': rows(3000, 0, '2026-11-22'),
    });
    const db = openCache(cachePath(workspace));
    db.exec(`CREATE TRIGGER boom BEFORE INSERT ON observation_records WHEN NEW.dt = '2026-11-22' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    const files = listRawFiles(join(workspace, 'lake'));
    const grouped = { nowMs: NOW, parseAhead: true, commitEveryRows: 1e9, commitEveryMs: 1e9 };
    expect(() => processRawFiles(db, workspace, files, grouped)).toThrow('disk on fire');
    expect(db.prepare('SELECT count(*) FROM observations').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM etl_manifest').pluck().get()).toBe(0);
    expect(existsSync(join(workspace, 'quarantine/price-stream/dt=2026-11-21/b.csv'))).toBe(false);
    db.exec('DROP TRIGGER boom');
    expect(processRawFiles(db, workspace, files, grouped)).toEqual({ files: 3, read: 9001, cleaned: 9000, duplicates: 0, quarantined: 1 });
    expect(db.prepare('SELECT count(*) FROM etl_manifest').pluck().get()).toBe(3);
    expect(existsSync(join(workspace, 'quarantine/price-stream/dt=2026-11-21/b.csv'))).toBe(true);
    db.close();
  });

  it.each([false, true])('stops on abort, rolling back the file in progress (parse-ahead %s)', async (parseAhead) => {
    const workspace = workspaceWith({ 'price-stream/dt=2026-11-20/a.csv': rows(20000) });
    const controller = new AbortController();
    // Inline, so the abort lands synchronously after the first row batch (a worker may finish first).
    const run = runLocalEtl({ workspace, now: NOW, inline: true, parseAhead, signal: controller.signal, onProgress: (p) => p.rowsRead > 0 && controller.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(count(workspace, 'SELECT count(*) FROM observations')).toBe(0);
    expect(await runLocalEtl({ workspace, now: NOW, inline: true, parseAhead })).toMatchObject({ files: 1, read: 20000 });
  });

  it('reports an unreadable file as an error without recording it', async () => {
    if (process.getuid?.() === 0) return; // root reads everything; nothing to show here
    const workspace = workspaceWith({ 'price-stream/dt=2026-11-20/a.csv': rows(3) });
    chmodSync(join(workspace, 'lake/price-stream/dt=2026-11-20/a.csv'), 0o000);
    await expect(runLocalEtl({ workspace, now: NOW, inline: true })).rejects.toThrow(/EACCES/);
    expect(count(workspace, 'SELECT count(*) FROM etl_manifest')).toBe(0);
  });
});
