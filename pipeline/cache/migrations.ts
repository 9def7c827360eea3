import type { CacheDb } from './cache-db';
import { rebuildRollups } from './dashboard-rollups';
import { backfillRollupColumns, copyObservationsIntoRecords, rollupsAddUp, type MigrationProgress } from './migration-steps';
import { SOURCE_KINDS_MIGRATION } from './source-kinds-migration';

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
  /**
   * Steps SQL cannot do, after `sql`, in the same transaction. `progress` is told how far a long
   * step is (rows done of total), for the console and the app.
   */
  run?: (db: CacheDb, progress: MigrationProgress) => void;
  /** What a user waiting for it should know (a migration that rewrites every row). */
  note?: string;
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
  {
    id: '0700-narrow-observations',
    sql: `
      -- Observations as narrow, dictionary-coded rows clustered by (hour, product, time): about 30
      -- bytes a row instead of 130, and a batch lands at the end of the B-tree (the current hours)
      -- instead of all over a product-major key. \`observations\` becomes a view with the same
      -- columns and meaning (what ODBC clients, tests and ad hoc SQL read), and
      -- \`product_observations\` the same view driven by one product (a seek per hour).
      -- docs/decisions/0008-narrow-observations.md.
      -- Each product once, with its latest observation (the \`products\` view): an update by
      -- integer key per product and transaction, where the text-keyed products upsert cost
      -- 3.3 us (a quarter of the 10M-row ingest).
      CREATE TABLE product_keys (
        id              INTEGER PRIMARY KEY,
        source          TEXT NOT NULL,
        product_id      TEXT NOT NULL,
        last_t          INTEGER,          -- observed_at (ms) of the latest observation; NULL when none
        last_price      REAL,
        last_descriptor INTEGER,          -- descriptors.id of the latest observation
        UNIQUE (source, product_id)
      );
      CREATE TABLE descriptors (
        id       INTEGER PRIMARY KEY,
        title    TEXT NOT NULL,
        category TEXT NOT NULL,
        currency TEXT NOT NULL,
        UNIQUE (title, category, currency)
      );
      -- The hours that hold observations (hours since 1970-01-01 UTC): the per-product seeks.
      CREATE TABLE observation_hours (hour INTEGER PRIMARY KEY);
      CREATE TABLE observation_rows (
        hour        INTEGER NOT NULL,   -- floor(t / 3600000): the hour of observed_at
        product     INTEGER NOT NULL,   -- product_keys.id (source, product_id)
        t           INTEGER NOT NULL,   -- observed_at in ms since 1970-01-01 UTC
        descriptor  INTEGER NOT NULL,   -- descriptors.id (title, category, currency)
        price       REAL    NOT NULL,
        old_price   REAL,
        drop_amount REAL,
        drop_pct    REAL,
        flags       INTEGER NOT NULL,   -- bit 0: is_drop; bit 1: origin 'athena'
        PRIMARY KEY (hour, product, t)  -- unique (source, product_id, observed_at): hour follows from t
      ) WITHOUT ROWID;

      INSERT INTO product_keys (source, product_id) SELECT DISTINCT source, product_id FROM observations ORDER BY source, product_id;
      INSERT INTO descriptors (title, category, currency)
        SELECT title, category, currency FROM observations UNION SELECT title, category, currency FROM products ORDER BY 1, 2, 3;
      INSERT OR IGNORE INTO product_keys (source, product_id) SELECT source, product_id FROM products ORDER BY source, product_id;
      UPDATE product_keys SET
        last_t = (SELECT CAST(strftime('%s', p.last_observed_at) AS INTEGER) * 1000 + CAST(substr(p.last_observed_at, 21, 3) AS INTEGER)
                  FROM products p WHERE p.source = product_keys.source AND p.product_id = product_keys.product_id),
        last_price = (SELECT p.last_price FROM products p WHERE p.source = product_keys.source AND p.product_id = product_keys.product_id),
        last_descriptor = (SELECT d.id FROM products p JOIN descriptors d ON d.title = p.title AND d.category = p.category AND d.currency = p.currency
                           WHERE p.source = product_keys.source AND p.product_id = product_keys.product_id);
      INSERT INTO observation_rows (hour, product, t, descriptor, price, old_price, drop_amount, drop_pct, flags)
        SELECT CAST(strftime('%s', substr(o.observed_at, 1, 13) || ':00:00') AS INTEGER) / 3600,
               k.id,
               CAST(strftime('%s', o.observed_at) AS INTEGER) * 1000 + CAST(substr(o.observed_at, 21, 3) AS INTEGER),
               d.id, o.price, o.old_price, o.drop_amount, o.drop_pct,
               (o.is_drop = 1) | ((o.origin = 'athena') << 1)
        FROM observations o
        JOIN product_keys k ON k.source = o.source AND k.product_id = o.product_id
        JOIN descriptors d ON d.title = o.title AND d.category = o.category AND d.currency = o.currency
        ORDER BY 1, 2, 3;
      INSERT INTO observation_hours (hour) SELECT DISTINCT hour FROM observation_rows;

      DROP VIEW v_price_drop_kpis;
      DROP VIEW v_drop_trend_daily;
      DROP VIEW v_category_drops;
      DROP VIEW v_product_latest;
      DROP TABLE observations;
      DROP TABLE products;

      -- The latest known state of each product, as the table of 0001 was (same columns).
      CREATE VIEW products AS
      SELECT k.source, k.product_id, d.title, d.category, d.currency, k.last_price,
             strftime('%Y-%m-%dT%H:%M:%fZ', k.last_t / 1000.0, 'unixepoch') AS last_observed_at
      FROM product_keys k JOIN descriptors d ON d.id = k.last_descriptor
      WHERE k.last_t IS NOT NULL;

      CREATE TRIGGER products_insert INSTEAD OF INSERT ON products
      BEGIN
        INSERT OR IGNORE INTO product_keys (source, product_id) VALUES (NEW.source, NEW.product_id);
        INSERT OR IGNORE INTO descriptors (title, category, currency) VALUES (NEW.title, NEW.category, NEW.currency);
        UPDATE product_keys SET
          last_t = CAST(strftime('%s', NEW.last_observed_at) AS INTEGER) * 1000 + CAST(substr(NEW.last_observed_at, 21, 3) AS INTEGER),
          last_price = NEW.last_price,
          last_descriptor = (SELECT id FROM descriptors WHERE title = NEW.title AND category = NEW.category AND currency = NEW.currency)
        WHERE source = NEW.source AND product_id = NEW.product_id
          AND (last_t IS NULL OR last_t < CAST(strftime('%s', NEW.last_observed_at) AS INTEGER) * 1000 + CAST(substr(NEW.last_observed_at, 21, 3) AS INTEGER));
      END;

      -- Plain SQL of SQLite 3.40 (Debian's libsqlite3, which the SQLite ODBC driver loads).
      CREATE VIEW observations AS
      SELECT k.source, k.product_id,
             strftime('%Y-%m-%dT%H:%M:%fZ', o.t / 1000.0, 'unixepoch') AS observed_at,
             date(o.hour * 3600, 'unixepoch') AS dt,
             d.title, d.category, o.price, o.old_price, d.currency, o.drop_amount, o.drop_pct,
             o.flags & 1 AS is_drop,
             CASE WHEN o.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
             CASE WHEN o.flags & 2 THEN 'athena' ELSE 'local' END AS origin
      FROM observation_rows o
      JOIN product_keys k ON k.id = o.product
      JOIN descriptors d ON d.id = o.descriptor;

      -- The same rows, for WHERE source = ? AND product_id = ?: CROSS JOIN fixes the order
      -- (the product, then one primary-key seek per hour), where \`observations\` would scan.
      CREATE VIEW product_observations AS
      SELECT k.source, k.product_id,
             strftime('%Y-%m-%dT%H:%M:%fZ', o.t / 1000.0, 'unixepoch') AS observed_at,
             date(o.hour * 3600, 'unixepoch') AS dt,
             d.title, d.category, o.price, o.old_price, d.currency, o.drop_amount, o.drop_pct,
             o.flags & 1 AS is_drop,
             CASE WHEN o.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
             CASE WHEN o.flags & 2 THEN 'athena' ELSE 'local' END AS origin,
             o.t AS t
      FROM product_keys k
      CROSS JOIN observation_hours s
      CROSS JOIN observation_rows o ON o.hour = s.hour AND o.product = k.id
      JOIN descriptors d ON d.id = o.descriptor;

      -- Rows written through the view (ad hoc SQL, tests) land in the tables. Only the observation
      -- writer keeps products and the dashboard rollups current.
      CREATE TRIGGER observations_insert INSTEAD OF INSERT ON observations
      BEGIN
        INSERT OR IGNORE INTO product_keys (source, product_id) VALUES (NEW.source, NEW.product_id);
        INSERT OR IGNORE INTO descriptors (title, category, currency) VALUES (NEW.title, NEW.category, NEW.currency);
        INSERT OR IGNORE INTO observation_hours (hour) VALUES (CAST(strftime('%s', substr(NEW.observed_at, 1, 13) || ':00:00') AS INTEGER) / 3600);
        INSERT INTO observation_rows (hour, product, t, descriptor, price, old_price, drop_amount, drop_pct, flags)
        VALUES (
          CAST(strftime('%s', substr(NEW.observed_at, 1, 13) || ':00:00') AS INTEGER) / 3600,
          (SELECT id FROM product_keys WHERE source = NEW.source AND product_id = NEW.product_id),
          CAST(strftime('%s', NEW.observed_at) AS INTEGER) * 1000 + CAST(substr(NEW.observed_at, 21, 3) AS INTEGER),
          (SELECT id FROM descriptors WHERE title = NEW.title AND category = NEW.category AND currency = NEW.currency),
          NEW.price, NEW.old_price, NEW.drop_amount, NEW.drop_pct,
          (NEW.is_drop = 1) | ((COALESCE(NEW.origin, 'local') = 'athena') << 1)
        );
      END;

      -- The Power BI views of 0501, same names, columns and meaning, over the narrow rows.
      CREATE VIEW v_price_drop_kpis AS
      SELECT
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(o.flags & 1), 0)                                AS drops,
        COUNT(*) - COALESCE(SUM(o.flags & 1), 0)                     AS no_drops,
        ROUND(AVG(CASE WHEN o.flags & 1 THEN o.drop_pct END), 2)     AS avg_drop_pct,
        COUNT(DISTINCT o.product)                                    AS products_analysed,
        COUNT(DISTINCT CASE WHEN o.flags & 1 THEN o.product END)     AS products_with_drop,
        date(MIN(o.hour) * 3600, 'unixepoch')                        AS first_day,
        date(MAX(o.hour) * 3600, 'unixepoch')                        AS last_day
      FROM observation_rows o;

      CREATE VIEW v_drop_trend_daily AS
      SELECT
        date(o.hour * 3600, 'unixepoch')                             AS dt,
        d.category                                                   AS category,
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(o.flags & 1), 0)                                AS drops,
        ROUND(AVG(CASE WHEN o.flags & 1 THEN o.drop_pct END), 2)     AS avg_drop_pct,
        COUNT(DISTINCT o.product)                                    AS products_analysed,
        COUNT(DISTINCT CASE WHEN o.flags & 1 THEN o.product END)     AS products_with_drop
      FROM observation_rows o JOIN descriptors d ON d.id = o.descriptor
      GROUP BY date(o.hour * 3600, 'unixepoch'), d.category;

      CREATE VIEW v_category_drops AS
      SELECT
        d.category                                                   AS category,
        COUNT(*)                                                     AS observations,
        COALESCE(SUM(o.flags & 1), 0)                                AS drops,
        ROUND(AVG(CASE WHEN o.flags & 1 THEN o.drop_pct END), 2)     AS avg_drop_pct,
        COUNT(DISTINCT o.product)                                    AS products_analysed,
        COUNT(DISTINCT CASE WHEN o.flags & 1 THEN o.product END)     AS products_with_drop
      FROM observation_rows o JOIN descriptors d ON d.id = o.descriptor
      GROUP BY d.category;

      -- product_keys.last_t is each product's latest observed_at (observation-writer invariant):
      -- its row is found by the primary key (hour, product, t).
      CREATE VIEW v_product_latest AS
      SELECT k.source, k.product_id, d.title, d.category, d.currency, o.price, o.old_price, o.drop_amount, o.drop_pct,
             o.flags & 1 AS is_drop,
             CASE WHEN o.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
             strftime('%Y-%m-%dT%H:%M:%fZ', o.t / 1000.0, 'unixepoch') AS observed_at,
             date(o.hour * 3600, 'unixepoch') AS dt
      FROM product_keys k
      JOIN observation_rows o
        ON o.hour = (k.last_t - (((k.last_t % 3600000) + 3600000) % 3600000)) / 3600000
       AND o.product = k.id
       AND o.t = k.last_t
      JOIN descriptors d ON d.id = o.descriptor
      WHERE k.last_t IS NOT NULL;
    `,
  },
  {
    id: '0800-observation-blocks',
    // No note any more: since 0900 it leaves the rows where they are (0900 converts them, and says so).
    sql: `
      -- Observations in blocks: one row holds up to 512 observations of one product, in time order,
      -- as fixed-width decimal columns (the format: decision 0010; its module went with 0900). A
      -- row per observation cost a B-tree insert each: more than the whole ingest budget at 10M
      -- rows. The views keep their names, columns and meaning and read the blocks with plain SQL
      -- (SQLite 3.40, as the SQLite ODBC driver loads it). docs/decisions/0010-observation-blocks.md.
      DROP VIEW IF EXISTS observations;
      DROP VIEW IF EXISTS product_observations;
      DROP VIEW IF EXISTS products;
      DROP VIEW IF EXISTS v_price_drop_kpis;
      DROP VIEW IF EXISTS v_drop_trend_daily;
      DROP VIEW IF EXISTS v_category_drops;
      DROP VIEW IF EXISTS v_product_latest;

      CREATE TABLE observation_blocks (
        id              INTEGER PRIMARY KEY,
        product         INTEGER NOT NULL,   -- product_keys.id
        t_first         INTEGER NOT NULL,   -- observed_at (ms since 1970-01-01 UTC) of the first row
        t_last          INTEGER NOT NULL,   -- of the last row; a product's blocks never overlap
        n               INTEGER NOT NULL,   -- rows, 1 to 512, in strictly increasing time
        last_price      REAL    NOT NULL,   -- the last row's price and descriptor (the products view)
        last_descriptor INTEGER NOT NULL,   -- descriptors.id; every row's when w_descriptor = 0
        w_t             INTEGER NOT NULL,   -- field widths of the columns of data, in bytes
        w_descriptor    INTEGER NOT NULL,
        w_price         INTEGER NOT NULL,
        w_old_price     INTEGER NOT NULL,
        w_drop_amount   INTEGER NOT NULL,
        w_drop_pct      INTEGER NOT NULL,
        d_price         REAL    NOT NULL,   -- divisors: value = CAST(field AS REAL) / divisor
        d_old_price     REAL    NOT NULL,
        d_drop_amount   REAL    NOT NULL,   -- 0: the drop values are derived (observation_values)
        d_drop_pct      REAL    NOT NULL,
        data            BLOB    NOT NULL
      );
      -- A product's blocks in time order, and its latest one, without reading block rows.
      CREATE INDEX observation_blocks_product ON observation_blocks (product, t_first, t_last, last_price, last_descriptor);
      -- The positions of a block's rows: the views join blocks to slots.
      CREATE TABLE observation_slots (i INTEGER PRIMARY KEY);
      WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 511)
      INSERT INTO observation_slots (i) SELECT i FROM s;

      -- Distinct products per (day, category, kind) and whether a category's product ever dropped
      -- there: the Power BI views read these (rebuilt below with the rest of the rollups).
      ALTER TABLE rollup_presence ADD COLUMN products INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE rollup_category_products ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
      -- For the conversion: the narrow rows in product and time order, every column in the index
      -- (a scan of it reads no table rows: with (product, t) alone, 2M rows took 16 s).
      CREATE INDEX observation_rows_by_product ON observation_rows (product, t, descriptor, price, old_price, drop_amount, drop_pct, flags);
    `,
    run(db) {
      // The block encoder is gone (migration 0900, decision 0012): a 0700 cache keeps its narrow
      // rows in observation_rows, and 0900 copies them with the blocks of any 0800 cache. The
      // views below read the (empty) blocks until 0900 replaces them, in the same open.
      // Rebuilding rollups that match would cost 2 us a row: the new columns come from what they hold.
      if (rollupsAddUp(db)) backfillRollupColumns(db);
      // Else built = 0: rebuilt from the rows on first use, once 0900 has them.
      else db.exec('UPDATE rollup_state SET built = 0 WHERE id = 1');
      db.exec(`
        DROP TABLE observation_hours;
        -- Each product's latest observation is the last row of its latest block.
        ALTER TABLE product_keys DROP COLUMN last_t;
        ALTER TABLE product_keys DROP COLUMN last_price;
        ALTER TABLE product_keys DROP COLUMN last_descriptor;

        -- Every stored observation with its numbers decoded from its block: row i of a block is
        -- bytes [i * r, (i + 1) * r) of data, r the sum of the widths plus one (the flags byte;
        -- its last). A block with drop divisors 0 stores no drop fields: drop_amount and drop_pct
        -- are the rules' rounding of old_price - price and 100 * drop_amount / old_price
        -- (half away from zero, 4 and 2 decimals: derivedDropAmount / derivedDropPct).
        CREATE VIEW observation_values AS
        SELECT block, slot, product, t, descriptor, price,
               CASE WHEN f & 4 THEN NULL ELSE old_price END AS old_price,
               CASE WHEN f & 8 THEN NULL ELSE drop_amount END AS drop_amount,
               CASE WHEN f & 16 THEN NULL
                    WHEN derived THEN (CASE WHEN drop_amount < 0 THEN -1 ELSE 1 END) * (CAST(abs(100 * drop_amount / old_price) * 100 + 0.5 AS INTEGER) / 100.0) + 0.0
                    ELSE drop_pct END AS drop_pct,
               f & 3 AS flags                -- bit 0: is_drop; bit 1: origin 'athena'
        FROM (
          SELECT block, slot, product, t, descriptor, price, old_price, drop_pct, f, derived,
                 CASE WHEN f & 8 THEN NULL
                      WHEN derived THEN (CASE WHEN old_price - price < 0 THEN -1 ELSE 1 END) * (CAST(abs(old_price - price) * 10000 + 0.5 AS INTEGER) / 10000.0) + 0.0
                      ELSE drop_amount END AS drop_amount
          FROM (
            SELECT b.id AS block, s.i AS slot, b.product AS product, b.d_drop_amount = 0 AS derived,
                   b.t_first + CAST(substr(b.data, s.i * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) + 1, b.w_t) AS INTEGER) AS t,
                   CASE WHEN b.w_descriptor = 0 THEN b.last_descriptor
                        ELSE CAST(substr(b.data, s.i * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) + b.w_t + 1, b.w_descriptor) AS INTEGER) END AS descriptor,
                   CAST(substr(b.data, s.i * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) + b.w_t + b.w_descriptor + 1, b.w_price) AS REAL) / b.d_price AS price,
                   CAST(substr(b.data, s.i * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) + b.w_t + b.w_descriptor + b.w_price + 1, b.w_old_price) AS REAL) / b.d_old_price AS old_price,
                   CAST(substr(b.data, s.i * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) + b.w_t + b.w_descriptor + b.w_price + b.w_old_price + 1, b.w_drop_amount) AS REAL) / b.d_drop_amount AS drop_amount,
                   CAST(substr(b.data, (s.i + 1) * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1) - b.w_drop_pct, b.w_drop_pct) AS REAL) / b.d_drop_pct AS drop_pct,
                   unicode(substr(b.data, (s.i + 1) * (b.w_t + b.w_descriptor + b.w_price + b.w_old_price + b.w_drop_amount + b.w_drop_pct + 1), 1)) - 48 AS f
            FROM observation_blocks b JOIN observation_slots s ON s.i < b.n
          )
        );

        -- The cleaned observations, as the Athena table has them (same columns and meaning as before).
        CREATE VIEW observations AS
        SELECT k.source, k.product_id,
               strftime('%Y-%m-%dT%H:%M:%fZ', v.t / 1000.0, 'unixepoch') AS observed_at,
               date(v.t / 1000.0, 'unixepoch') AS dt,
               d.title, d.category, v.price, v.old_price, d.currency, v.drop_amount, v.drop_pct,
               v.flags & 1 AS is_drop,
               CASE WHEN v.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
               CASE WHEN v.flags & 2 THEN 'athena' ELSE 'local' END AS origin
        FROM observation_values v
        JOIN product_keys k ON k.id = v.product
        JOIN descriptors d ON d.id = v.descriptor;

        -- The same rows plus t (observed_at in ms), for WHERE source = ? AND product_id = ?.
        CREATE VIEW product_observations AS
        SELECT k.source, k.product_id,
               strftime('%Y-%m-%dT%H:%M:%fZ', v.t / 1000.0, 'unixepoch') AS observed_at,
               date(v.t / 1000.0, 'unixepoch') AS dt,
               d.title, d.category, v.price, v.old_price, d.currency, v.drop_amount, v.drop_pct,
               v.flags & 1 AS is_drop,
               CASE WHEN v.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
               CASE WHEN v.flags & 2 THEN 'athena' ELSE 'local' END AS origin,
               v.t AS t
        FROM product_keys k
        JOIN observation_values v ON v.product = k.id
        JOIN descriptors d ON d.id = v.descriptor;

        -- Each product's latest observation (the table of 0001 had these columns): its latest block's last row.
        CREATE VIEW products AS
        SELECT k.source, k.product_id, d.title, d.category, d.currency, b.last_price,
               strftime('%Y-%m-%dT%H:%M:%fZ', b.t_last / 1000.0, 'unixepoch') AS last_observed_at
        FROM product_keys k
        JOIN observation_blocks b ON b.product = k.id AND b.t_first = (SELECT MAX(x.t_first) FROM observation_blocks x WHERE x.product = k.id)
        JOIN descriptors d ON d.id = b.last_descriptor;

        -- The Power BI views of 0501, same names, columns and meaning. The three aggregates read
        -- the dashboard rollups, which the observation writer keeps exactly consistent with the
        -- rows (pipeline/cache/dashboard-rollups.ts): a Power BI refresh does not scan every row.
        CREATE VIEW v_price_drop_kpis AS
        SELECT
          COALESCE(SUM(r.observations), 0)                                         AS observations,
          COALESCE(SUM(CASE WHEN r.is_drop = 1 THEN r.observations END), 0)        AS drops,
          COALESCE(SUM(CASE WHEN r.is_drop = 0 THEN r.observations END), 0)        AS no_drops,
          ROUND(SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_sum_c END) / 100.0
                / SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_n END), 2)           AS avg_drop_pct,
          (SELECT COUNT(*) FROM product_keys k WHERE EXISTS (SELECT 1 FROM observation_blocks b WHERE b.product = k.id)) AS products_analysed,
          (SELECT COUNT(*) FROM (SELECT DISTINCT source, product_id FROM rollup_category_products WHERE dropped = 1)) AS products_with_drop,
          MIN(r.dt)                                                                AS first_day,
          MAX(r.dt)                                                                AS last_day
        FROM rollup_daily r;

        CREATE VIEW v_drop_trend_daily AS
        SELECT
          r.dt                                                                     AS dt,
          r.category                                                               AS category,
          SUM(r.observations)                                                      AS observations,
          COALESCE(SUM(CASE WHEN r.is_drop = 1 THEN r.observations END), 0)        AS drops,
          ROUND(SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_sum_c END) / 100.0
                / SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_n END), 2)           AS avg_drop_pct,
          COALESCE((SELECT p.products FROM rollup_presence p WHERE p.dt = r.dt AND p.category = r.category AND p.kind = 0), 0) AS products_analysed,
          COALESCE((SELECT p.products FROM rollup_presence p WHERE p.dt = r.dt AND p.category = r.category AND p.kind = 1), 0) AS products_with_drop
        FROM rollup_daily r
        GROUP BY r.dt, r.category;

        CREATE VIEW v_category_drops AS
        SELECT
          r.category                                                               AS category,
          SUM(r.observations)                                                      AS observations,
          COALESCE(SUM(CASE WHEN r.is_drop = 1 THEN r.observations END), 0)        AS drops,
          ROUND(SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_sum_c END) / 100.0
                / SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_n END), 2)           AS avg_drop_pct,
          (SELECT COUNT(*) FROM rollup_category_products c WHERE c.category = r.category) AS products_analysed,
          (SELECT COUNT(*) FROM rollup_category_products c WHERE c.category = r.category AND c.dropped = 1) AS products_with_drop
        FROM rollup_daily r
        GROUP BY r.category;

        CREATE VIEW v_product_latest AS
        SELECT k.source, k.product_id, d.title, d.category, d.currency, v.price, v.old_price, v.drop_amount, v.drop_pct,
               v.flags & 1 AS is_drop,
               CASE WHEN v.flags & 1 THEN 'drop' ELSE 'no drop' END AS drop_label,
               strftime('%Y-%m-%dT%H:%M:%fZ', v.t / 1000.0, 'unixepoch') AS observed_at,
               date(v.t / 1000.0, 'unixepoch') AS dt
        FROM product_keys k
        JOIN observation_blocks b ON b.product = k.id AND b.t_first = (SELECT MAX(x.t_first) FROM observation_blocks x WHERE x.product = k.id)
        JOIN observation_values v ON v.block = b.id AND v.slot = b.n - 1
        JOIN descriptors d ON d.id = v.descriptor;
      `);
    },
  },
  {
    id: '0900-typed-observation-records',
    note: 'stores the cached observations as typed rows, readable by SQL and ODBC at plain-table speed: once, about 10 to 30 s per million observations on a 2-core machine',
    sql: `
      -- One observation per row, numbers in columns of declared types, no decoding in SQL: the
      -- blocks of 0800 made each query of an analyst decode every row (63 s for a GROUP BY over
      -- 10M rows). Products and descriptors stay dictionaries (product_keys, descriptors); every
      -- column of \`observations\` is a plain column of a table. docs/decisions/0012-typed-cache-rows.md.
      DROP VIEW IF EXISTS observations;
      DROP VIEW IF EXISTS product_observations;
      DROP VIEW IF EXISTS products;
      DROP VIEW IF EXISTS v_price_drop_kpis;
      DROP VIEW IF EXISTS v_product_latest;

      CREATE TABLE observation_records (
        product     INTEGER NOT NULL,   -- product_keys.id (source, product_id)
        descriptor  INTEGER NOT NULL,   -- descriptors.id (title, category, currency)
        observed_at TEXT    NOT NULL,   -- UTC ISO 8601, YYYY-MM-DDTHH:MM:SS.sssZ
        dt          TEXT    NOT NULL,   -- YYYY-MM-DD (UTC) of observed_at
        price       REAL    NOT NULL,
        old_price   REAL,
        drop_amount REAL,
        drop_pct    REAL,
        is_drop     INTEGER NOT NULL,
        drop_label  TEXT    NOT NULL,   -- 'drop' | 'no drop'
        origin      TEXT    NOT NULL    -- 'local' (desktop ETL) | 'athena' (cloud sync)
      );
    `,
    run(db, progress) {
      // Rows first, indexes after: one sort per index instead of a B-tree insert per row and index.
      copyObservationsIntoRecords(db, progress);
      const rebuild = db.prepare('SELECT built FROM rollup_state WHERE id = 1').pluck().get() === 0;
      db.exec(`
        -- A product's rows in time order, and the key: (source, product_id, observed_at) is unique.
        CREATE UNIQUE INDEX observation_records_key ON observation_records (product, observed_at);
        CREATE INDEX observation_records_dt ON observation_records (dt);
        -- Category filters: the category's descriptors, then their rows.
        CREATE INDEX observation_records_descriptor ON observation_records (descriptor);
        CREATE INDEX descriptors_category ON descriptors (category);
        DROP VIEW IF EXISTS observation_values;
        DROP TABLE IF EXISTS observation_blocks;
        DROP TABLE IF EXISTS observation_slots;
        DROP TABLE IF EXISTS observation_rows;

        -- The cleaned observations with the Athena table's columns and meaning.
        CREATE VIEW observations AS
        SELECT k.source, k.product_id, o.observed_at, o.dt, d.title, d.category, o.price, o.old_price, d.currency,
               o.drop_amount, o.drop_pct, o.is_drop, o.drop_label, o.origin
        FROM observation_records o
        JOIN product_keys k ON k.id = o.product
        JOIN descriptors d ON d.id = o.descriptor;

        -- Each product's latest observation (the table of 0001 had these columns): one seek of the key index.
        CREATE VIEW products AS
        SELECT k.source, k.product_id, d.title, d.category, d.currency, o.price AS last_price, o.observed_at AS last_observed_at
        FROM product_keys k
        JOIN observation_records o ON o.product = k.id AND o.observed_at = (SELECT MAX(x.observed_at) FROM observation_records x WHERE x.product = k.id)
        JOIN descriptors d ON d.id = o.descriptor;

        -- The Power BI views that read the rows, same names, columns and meaning as 0800's;
        -- v_drop_trend_daily and v_category_drops read only the rollups and stay as 0800 made them.
        CREATE VIEW v_price_drop_kpis AS
        SELECT
          COALESCE(SUM(r.observations), 0)                                         AS observations,
          COALESCE(SUM(CASE WHEN r.is_drop = 1 THEN r.observations END), 0)        AS drops,
          COALESCE(SUM(CASE WHEN r.is_drop = 0 THEN r.observations END), 0)        AS no_drops,
          ROUND(SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_sum_c END) / 100.0
                / SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_n END), 2)           AS avg_drop_pct,
          (SELECT COUNT(*) FROM product_keys k WHERE EXISTS (SELECT 1 FROM observation_records o WHERE o.product = k.id)) AS products_analysed,
          (SELECT COUNT(*) FROM (SELECT DISTINCT source, product_id FROM rollup_category_products WHERE dropped = 1)) AS products_with_drop,
          MIN(r.dt)                                                                AS first_day,
          MAX(r.dt)                                                                AS last_day
        FROM rollup_daily r;

        CREATE VIEW v_product_latest AS
        SELECT k.source, k.product_id, d.title, d.category, d.currency, o.price, o.old_price, o.drop_amount, o.drop_pct,
               o.is_drop, o.drop_label, o.observed_at, o.dt
        FROM product_keys k
        JOIN observation_records o ON o.product = k.id AND o.observed_at = (SELECT MAX(x.observed_at) FROM observation_records x WHERE x.product = k.id)
        JOIN descriptors d ON d.id = o.descriptor;
      `);
      // Rollups 0800 found not to add up (a 0700 cache written around the writer): from the rows, as 0800 did.
      if (rebuild) rebuildRollups(db);
    },
  },
  SOURCE_KINDS_MIGRATION,
];
