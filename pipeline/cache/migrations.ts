/**
 * Versioned schema migrations of the cache (`<workspace>/cache.db`).
 *
 * Append only: never edit a migration that has shipped. Each has a unique id; the cache records
 * the ids it has applied in `schema_migrations`, and applies the missing ones in list order, each
 * in its own transaction.
 */
export interface Migration {
  id: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
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
  },
  {
    id: '0100-app-tasks-alerts',
    sql: `
      -- The desktop app's long actions (ETL run, crawl, sync, training...): a persisted run history.
      CREATE TABLE task_runs (
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        label        TEXT NOT NULL,
        status       TEXT NOT NULL,             -- running | succeeded | failed | cancelled
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        done         REAL NOT NULL DEFAULT 0,
        total        REAL,
        message      TEXT,                      -- the last progress label, or the error's message
        result       TEXT                       -- JSON summary of a finished run
      );
      CREATE INDEX task_runs_started ON task_runs (started_at);

      -- Alert rules: per product or per category.
      CREATE TABLE alert_rules (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        scope        TEXT NOT NULL,             -- product | category
        source       TEXT,                      -- the product's source (scope product)
        target       TEXT NOT NULL,             -- product_id or category
        kind         TEXT NOT NULL,             -- price_below | drop_pct | predicted_drop
        threshold    REAL NOT NULL,             -- price, percent, or confidence (0..1)
        enabled      INTEGER NOT NULL DEFAULT 1,
        created_at   TEXT NOT NULL
      );

      -- Alerts that fired: one per rule, product and UTC day at most.
      CREATE TABLE alert_events (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id      INTEGER NOT NULL,
        source       TEXT NOT NULL,
        product_id   TEXT NOT NULL,
        day          TEXT NOT NULL,             -- YYYY-MM-DD (UTC) of firing
        fired_at     TEXT NOT NULL,
        title        TEXT NOT NULL,
        message      TEXT NOT NULL,
        price        REAL,
        seen         INTEGER NOT NULL DEFAULT 0,
        UNIQUE (rule_id, source, product_id, day)
      );
      CREATE INDEX alert_events_day ON alert_events (day);
    `,
  },
  {
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
  },
  {
    id: '0501-powerbi-views',
    sql: `
      -- The Athena views of pipeline/athena/sql/*.sql, with the same names, columns and meaning,
      -- so one Power BI report reads either Athena or this cache (through the SQLite ODBC driver).
      CREATE VIEW v_price_drop_kpis AS
      SELECT
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(is_drop), 0)                                    AS drops,
        COUNT(*) - COALESCE(SUM(is_drop), 0)                         AS no_drops,
        ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2)       AS avg_drop_pct,
        COUNT(DISTINCT source || char(31) || product_id)             AS products_analysed,
        COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop,
        MIN(dt)                                                      AS first_day,
        MAX(dt)                                                      AS last_day
      FROM observations;

      CREATE VIEW v_drop_trend_daily AS
      SELECT
        dt,
        category,
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(is_drop), 0)                                    AS drops,
        ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2)       AS avg_drop_pct,
        COUNT(DISTINCT source || char(31) || product_id)             AS products_analysed,
        COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop
      FROM observations
      GROUP BY dt, category;

      CREATE VIEW v_category_drops AS
      SELECT
        category,
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(is_drop), 0)                                    AS drops,
        ROUND(AVG(CASE WHEN is_drop = 1 THEN drop_pct END), 2)       AS avg_drop_pct,
        COUNT(DISTINCT source || char(31) || product_id)             AS products_analysed,
        COUNT(DISTINCT CASE WHEN is_drop = 1 THEN source || char(31) || product_id END) AS products_with_drop
      FROM observations
      GROUP BY category;

      -- products.last_observed_at is each product's latest observed_at (observation-writer invariant).
      CREATE VIEW v_product_latest AS
      SELECT o.source, o.product_id, o.title, o.category, o.currency, o.price, o.old_price, o.drop_amount, o.drop_pct,
             o.is_drop, o.drop_label, o.observed_at, o.dt
      FROM products p
      JOIN observations o ON o.source = p.source AND o.product_id = p.product_id AND o.observed_at = p.last_observed_at;
    `,
  },
  {
    id: '0502-rollup-versions',
    sql: `
      -- rollup_daily rows carry the flush version that last changed them (readers reload only those),
      -- and rollup_state keeps the latest observed_at (the dashboard's "last observation").
      ALTER TABLE rollup_daily ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX rollup_daily_version ON rollup_daily (version);
      ALTER TABLE rollup_state ADD COLUMN last_observed_at TEXT;
      UPDATE rollup_state SET last_observed_at = (SELECT MAX(last_observed_at) FROM products);
    `,
  },
  {
    id: '0600-observations-rowid-table',
    sql: `
      -- observations as a rowid table plus a unique index on its key, instead of WITHOUT ROWID
      -- (same columns, same uniqueness, same indexes by name). Producers write time-major while
      -- the key starts with the product, so every batch lands all over the key's B-tree: a key
      -- index of ~45-byte entries has 3x fewer pages to dirty than full ~130-byte rows, and the
      -- rows themselves append. Measured (1M rows, 20k products, 100k-row commits): inserts 5.9 s
      -- of CPU instead of 11.2 s. docs/decisions/0004-observations-rowid-table.md.
      -- legacy_alter_table: the rename must not re-check the views over observations (0501).
      PRAGMA legacy_alter_table = ON;
      CREATE TABLE observations_next (
        source       TEXT    NOT NULL,
        product_id   TEXT    NOT NULL,
        observed_at  TEXT    NOT NULL,
        dt           TEXT    NOT NULL,
        title        TEXT    NOT NULL,
        category     TEXT    NOT NULL,
        price        REAL    NOT NULL,
        old_price    REAL,
        currency     TEXT    NOT NULL,
        drop_amount  REAL,
        drop_pct     REAL,
        is_drop      INTEGER NOT NULL,
        drop_label   TEXT    NOT NULL,
        origin       TEXT    NOT NULL DEFAULT 'local'
      );
      INSERT INTO observations_next (source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin)
        SELECT source, product_id, observed_at, dt, title, category, price, old_price, currency, drop_amount, drop_pct, is_drop, drop_label, origin
        FROM observations ORDER BY dt, source, product_id, observed_at;
      DROP TABLE observations;
      ALTER TABLE observations_next RENAME TO observations;
      CREATE UNIQUE INDEX observations_key ON observations (source, product_id, observed_at);
      CREATE INDEX observations_dt ON observations (dt, category);
      PRAGMA legacy_alter_table = OFF;
    `,
  },
];
