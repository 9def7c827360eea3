import type { Migration } from '../migrations';

export const migration: Migration = {
  id: '0001-observations',
  sql: `
    -- Cleaned, labelled observations: what the local ETL and the Athena sync both write.
    CREATE TABLE observations (
      source       TEXT    NOT NULL,
      product_id   TEXT    NOT NULL,
      observed_at  TEXT    NOT NULL,            -- UTC ISO 8601
      dt           TEXT    NOT NULL,            -- YYYY-MM-DD (UTC) of observed_at
      title        TEXT    NOT NULL,
      category     TEXT    NOT NULL,
      price        REAL    NOT NULL,
      old_price    REAL,                        -- list/was price, or the previous observed price
      currency     TEXT    NOT NULL,
      drop_amount  REAL,                        -- old_price - price; NULL when old_price is unknown
      drop_pct     REAL,                        -- 100 * drop_amount / old_price, 2 decimals
      is_drop      INTEGER NOT NULL,            -- 1 when drop_pct >= the configured minimum
      drop_label   TEXT    NOT NULL,            -- 'drop' | 'no drop'
      origin       TEXT    NOT NULL DEFAULT 'local', -- 'local' (desktop ETL) | 'athena' (cloud sync)
      PRIMARY KEY (source, product_id, observed_at)
    ) WITHOUT ROWID;
    CREATE INDEX observations_dt ON observations (dt, category);

    -- The latest known state of each product: the previous price for rows without old_price.
    CREATE TABLE products (
      source       TEXT NOT NULL,
      product_id   TEXT NOT NULL,
      title        TEXT NOT NULL,
      category     TEXT NOT NULL,
      currency     TEXT NOT NULL,
      last_price   REAL NOT NULL,
      last_observed_at TEXT NOT NULL,
      PRIMARY KEY (source, product_id)
    ) WITHOUT ROWID;

    -- Raw files the local ETL has committed: re-runs skip them.
    CREATE TABLE etl_manifest (
      file_key     TEXT PRIMARY KEY,
      size         INTEGER NOT NULL,
      read         INTEGER NOT NULL,
      cleaned      INTEGER NOT NULL,
      duplicates   INTEGER NOT NULL,
      quarantined  INTEGER NOT NULL,
      processed_at TEXT NOT NULL
    );

    -- Small key/value facts: watermarks, "data as of" per origin.
    CREATE TABLE meta (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
};
