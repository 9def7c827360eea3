import type { CacheDb } from './cache-db';
import { migration as m0001 } from './migrations/0001-observations';
import { migration as m0100 } from './migrations/0100-app-tasks-alerts';
import { migration as m0500 } from './migrations/0500-dashboard-rollups';
import { migration as m0501 } from './migrations/0501-powerbi-views';
import { migration as m0502 } from './migrations/0502-rollup-versions';
import { migration as m0600 } from './migrations/0600-observations-rowid-table';
import { migration as m0700 } from './migrations/0700-narrow-observations';
import { migration as m0800 } from './migrations/0800-observation-blocks';
import { migration as m0900 } from './migrations/0900-typed-observation-records';
import { migration as m0950 } from './migrations/0950-source-kinds';
import { migration as m1000 } from './migrations/1000-product-latest-row';

/**
 * Versioned schema migrations of the cache (`<workspace>/cache.db`).
 *
 * One file each in migrations/, named by its id, listed below in order. Append only: never edit
 * a migration that has shipped. The cache records the ids it has applied in `schema_migrations`,
 * and applies the missing ones in list order, each in its own transaction.
 */
export const MIGRATIONS: readonly Migration[] = [m0001, m0100, m0500, m0501, m0502, m0600, m0700, m0800, m0900, m0950, m1000];

/** How far a migration's long step is: `done` of `total` rows. */
export type MigrationProgress = (done: number, total: number) => void;

export interface Migration {
  id: string;
  sql: string;
  /**
   * Steps SQL cannot do, after `sql`, in the same transaction. `progress` is told how far a long
   * step is (rows done of total), for the console and the app.
   */
  run?: (db: CacheDb, progress: MigrationProgress) => void;
  /** What a user waiting for it should know (a migration that rewrites every row). */
  note?: string;
}
