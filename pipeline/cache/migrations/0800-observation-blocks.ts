import type { CacheDb } from '../cache-db';
import { Bitset, KIND_DROP } from '../dashboard-rollups';
import type { Migration } from '../migrations';

export const migration: Migration = {
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
};

/**
 * Whether the rollups match the rows they sum (built, and as many observations): then the
 * migration keeps them and fills their new columns (backfillRollupColumns), else (a cache written
 * around the writer) it rebuilds them from the blocks. Call before observation_rows is dropped.
 */
function rollupsAddUp(db: CacheDb): boolean {
  const built = db.prepare('SELECT built FROM rollup_state WHERE id = 1').pluck().get() === 1;
  const rows = db.prepare('SELECT COUNT(*) FROM observation_rows').pluck().get() as number;
  const rolled = db.prepare('SELECT COALESCE(SUM(observations), 0) FROM rollup_daily').pluck().get() as number;
  return built && rows === rolled;
}

/**
 * rollup_presence.products (the popcount of each bitmap) and rollup_category_products.dropped
 * (the products with a drop bit on some day of the category), as the writer's flush keeps them.
 */
export function backfillRollupColumns(db: CacheDb): void {
  const setProducts = db.prepare('UPDATE rollup_presence SET products = ? WHERE dt = ? AND category = ? AND kind = ?');
  const markDropped = db.prepare('UPDATE rollup_category_products SET dropped = 1 WHERE category = ? AND n = ?');
  const dropped = new Map<string, Bitset>();
  for (const [dt, category, kind, bits] of db.prepare('SELECT dt, category, kind, bits FROM rollup_presence').raw().all() as [string, string, number, Buffer][]) {
    const set = new Bitset();
    set.orBlob(bits);
    setProducts.run(set.count(), dt, category, kind);
    if (kind !== KIND_DROP) continue;
    let marked = dropped.get(category);
    if (marked === undefined) dropped.set(category, (marked = new Bitset()));
    set.eachNewIn(marked, (n) => markDropped.run(category, n));
  }
}
