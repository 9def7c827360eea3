import type { Migration } from '../migrations';

export const migration: Migration = {
  id: '0502-rollup-versions',
  sql: `
    -- rollup_daily rows carry the flush version that last changed them (readers reload only those),
    -- and rollup_state keeps the latest observed_at (the dashboard's "last observation").
    ALTER TABLE rollup_daily ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX rollup_daily_version ON rollup_daily (version);
    ALTER TABLE rollup_state ADD COLUMN last_observed_at TEXT;
    UPDATE rollup_state SET last_observed_at = (SELECT MAX(last_observed_at) FROM products);
  `,
};
