import type { CacheDb } from '../cache-db';
import type { Migration, MigrationProgress } from '../migrations';
import { rebuildRollups } from '../dashboard-rollups';

export const migration: Migration = {
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
};

/** Products per INSERT … SELECT of the copy: progress about every 1 % of a 50k-product cache. */
const PRODUCTS_PER_STEP = 512;

/**
 * Migration 0900: copies the observations of an 0800 cache (its blocks, decoded by the
 * observation_values view of 0800) and of a 0700 cache (the narrow observation_rows, which 0800
 * now leaves in place) into observation_records, with INSERT … SELECT inside SQLite, a range of
 * product ids at a time so that `progress` can tell. Decoding in SQL and writing in one pass took
 * half the time of decoding in JavaScript (10M rows: 73 s instead of 144 s). A new cache has no
 * rows, and this costs two empty reads.
 */
function copyObservationsIntoRecords(db: CacheDb, progress: MigrationProgress): void {
  const has = (name: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?").pluck().get(name) === 1;
  const sources: { total: string; copy: string }[] = [];
  if (has('observation_blocks')) {
    sources.push({
      total: 'SELECT COALESCE(SUM(n), 0) FROM observation_blocks',
      copy: `SELECT v.product, v.descriptor, strftime('%Y-%m-%dT%H:%M:%fZ', v.t / 1000.0, 'unixepoch'), date(v.t / 1000.0, 'unixepoch'),
                    v.price, v.old_price, v.drop_amount, v.drop_pct, v.flags & 1,
                    CASE WHEN v.flags & 1 THEN 'drop' ELSE 'no drop' END, CASE WHEN v.flags & 2 THEN 'athena' ELSE 'local' END
               FROM observation_values v WHERE v.product >= ? AND v.product < ? ORDER BY v.product, v.t`,
    });
  }
  if (has('observation_rows')) {
    sources.push({
      total: 'SELECT COUNT(*) FROM observation_rows',
      copy: `SELECT product, descriptor, strftime('%Y-%m-%dT%H:%M:%fZ', t / 1000.0, 'unixepoch'), date(t / 1000.0, 'unixepoch'),
                    price, old_price, drop_amount, drop_pct, flags & 1,
                    CASE WHEN flags & 1 THEN 'drop' ELSE 'no drop' END, CASE WHEN flags & 2 THEN 'athena' ELSE 'local' END
               FROM observation_rows INDEXED BY observation_rows_by_product WHERE product >= ? AND product < ? ORDER BY product, t`,
    });
  }
  const total = sources.reduce((sum, s) => sum + (db.prepare(s.total).pluck().get() as number), 0);
  if (total === 0) return;
  const maxProduct = (db.prepare('SELECT COALESCE(MAX(id), 0) FROM product_keys').pluck().get() as number) + 1;
  let done = 0;
  progress(0, total);
  for (const source of sources) {
    const copy = db.prepare(`INSERT INTO observation_records (product, descriptor, observed_at, dt, price, old_price, drop_amount, drop_pct, is_drop, drop_label, origin) ${source.copy}`);
    for (let from = 0; from < maxProduct; from += PRODUCTS_PER_STEP) {
      done += copy.run(from, from + PRODUCTS_PER_STEP).changes;
      progress(done, total);
    }
  }
}
