import type { Migration } from '../migrations';

export const migration: Migration = {
  id: '0500-dashboard-rollups',
  sql: `
    -- Dashboard rollups (pipeline/cache/dashboard-rollups.ts), kept exactly consistent with
    -- observations by the observation writer. Sums of drop_pct are integer hundredths.
    CREATE TABLE rollup_daily (
      dt             TEXT    NOT NULL,
      category       TEXT    NOT NULL,
      is_drop        INTEGER NOT NULL,
      observations   INTEGER NOT NULL,
      drop_pct_n     INTEGER NOT NULL,   -- rows with a non-null drop_pct
      drop_pct_sum_c INTEGER NOT NULL,   -- sum of round(100 * drop_pct)
      PRIMARY KEY (dt, category, is_drop)
    ) WITHOUT ROWID;
    -- Each category numbers its products densely (0, 1, 2...): the bit positions of rollup_presence.
    CREATE TABLE rollup_category_products (
      category   TEXT    NOT NULL,
      n          INTEGER NOT NULL,
      source     TEXT    NOT NULL,
      product_id TEXT    NOT NULL,
      version    INTEGER NOT NULL,     -- rollup_state.version of the flush that added it
      PRIMARY KEY (category, n)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX rollup_category_products_key ON rollup_category_products (category, source, product_id);
    CREATE INDEX rollup_category_products_version ON rollup_category_products (version);
    -- Per day, category and kind (0 any, 1 drop, 2 no drop): bitmap of the category's product
    -- numbers observed that day (bit n of byte n >> 3, little-endian 32-bit words).
    CREATE TABLE rollup_presence (
      dt       TEXT    NOT NULL,
      category TEXT    NOT NULL,
      kind     INTEGER NOT NULL,
      bits     BLOB    NOT NULL,
      version  INTEGER NOT NULL,       -- rollup_state.version of the flush that last changed it
      PRIMARY KEY (dt, category, kind)
    ) WITHOUT ROWID;
    CREATE INDEX rollup_presence_version ON rollup_presence (version);
    CREATE TABLE rollup_state (
      id      INTEGER PRIMARY KEY CHECK (id = 1),
      version INTEGER NOT NULL,
      built   INTEGER NOT NULL,          -- 0: observations predate the rollups; rebuilt on first use
      generation INTEGER NOT NULL DEFAULT 0  -- bumped by each rebuild from scratch
    );
    INSERT INTO rollup_state (id, version, built) VALUES (1, 0, CASE WHEN EXISTS (SELECT 1 FROM observations) THEN 0 ELSE 1 END);
  `,
};
