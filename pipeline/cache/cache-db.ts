import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repairBulkLoad } from './bulk-load';
import { MIGRATIONS, type Migration } from './migrations';

export type CacheDb = Database.Database;

/** The cache file inside a workspace. */
export function cachePath(workspace: string): string {
  return join(workspace, 'cache.db');
}

export interface OpenCacheOptions {
  readonly?: boolean;
  /**
   * Told before each pending migration of an existing cache runs (its id and what it does: some
   * rewrite every row). A new cache, with nothing to convert, tells nothing.
   */
  onMigration?: (migration: Pick<Migration, 'id' | 'note'>) => void;
  /** Told how far a migration that rewrites every row is (rows done of total), as it goes. */
  onMigrationProgress?: (id: string, done: number, total: number) => void;
}

/** Progress lines at most this often (ms), and the last one always. */
const PROGRESS_EVERY_MS = 2000;

/**
 * Options that log the migrations that say what they do (the slow ones) and, every few seconds,
 * how far they are: for CLI and app logs (the app's log events).
 */
export function logMigrations(log: (line: string) => void): Pick<OpenCacheOptions, 'onMigration' | 'onMigrationProgress'> {
  let logged = 0;
  return {
    onMigration(migration) {
      if (migration.note) log(`cache: migration ${migration.id} ${migration.note}`);
    },
    onMigrationProgress(id, done, total) {
      const now = Date.now();
      if (done < total && now - logged < PROGRESS_EVERY_MS) return;
      logged = now;
      log(`cache: migration ${id}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} observations (${Math.floor((100 * done) / total)} %)`);
    },
  };
}

/**
 * Opens (creating if needed) the SQLite cache in WAL mode and applies pending migrations.
 * WAL lets other processes (the ODBC driver, Power BI, a second PriceDrop) read while we write.
 * A bulk load whose process died is finished here (bulk-load.ts).
 */
export function openCache(file: string, options: OpenCacheOptions = {}): CacheDb {
  if (!options.readonly) mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma('busy_timeout = 5000');
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A bulk load that died with its indexes deferred is finished first (migrations may use them).
    repairBulkLoad(db);
    migrate(db, MIGRATIONS, options);
  }
  return db;
}

/** Applies the migrations whose ids are not yet recorded, in list order. Returns the ids applied. */
export function migrate(db: CacheDb, migrations: readonly Migration[], tell: Pick<OpenCacheOptions, 'onMigration' | 'onMigrationProgress'> = {}): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const applied = new Set(db.prepare('SELECT id FROM schema_migrations').pluck().all() as string[]);
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  const existing = applied.size > 0;
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    if (existing) tell.onMigration?.(migration);
    db.transaction(() => {
      db.exec(migration.sql);
      migration.run?.(db, (done, total) => tell.onMigrationProgress?.(migration.id, done, total));
      record.run(migration.id, new Date().toISOString());
    })();
    done.push(migration.id);
  }
  return done;
}

export function getMeta(db: CacheDb, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: CacheDb, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
