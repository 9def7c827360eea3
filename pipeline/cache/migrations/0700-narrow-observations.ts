import type { Migration } from '../migrations';

export const migration: Migration = {
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
};
