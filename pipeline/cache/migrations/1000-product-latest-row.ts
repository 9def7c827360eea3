import type { Migration } from '../migrations';
import { ensureKeyIndex } from '../bulk-load';

/**
 * Each product's latest observation as a column of its dictionary row (`product_keys.last_row`,
 * the rowid of that row in observation_records), kept by the one writer at each commit.
 * `products`, `v_product_latest` and the KPI view's product count read it: O(products) with no
 * index, where 0900's views ran a correlated MAX per observation through the key (the app's
 * product list, 3.3 s on a 2M-row cache; and no end while a bulk load defers the key,
 * bulk-load.ts). Same names, columns and meaning.
 */
export const migration: Migration = {
  id: '1000-product-latest-row',
  sql: `
    ALTER TABLE product_keys ADD COLUMN last_row INTEGER;  -- observation_records.rowid of the product's latest observation; NULL: none
    DROP VIEW IF EXISTS products;
    DROP VIEW IF EXISTS v_product_latest;
    DROP VIEW IF EXISTS v_price_drop_kpis;

    CREATE VIEW products AS
    SELECT k.source, k.product_id, d.title, d.category, d.currency, o.price AS last_price, o.observed_at AS last_observed_at
    FROM product_keys k
    JOIN observation_records o ON o.rowid = k.last_row
    JOIN descriptors d ON d.id = o.descriptor;

    CREATE VIEW v_price_drop_kpis AS
    SELECT
      COALESCE(SUM(r.observations), 0)                                         AS observations,
      COALESCE(SUM(CASE WHEN r.is_drop = 1 THEN r.observations END), 0)        AS drops,
      COALESCE(SUM(CASE WHEN r.is_drop = 0 THEN r.observations END), 0)        AS no_drops,
      ROUND(SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_sum_c END) / 100.0
            / SUM(CASE WHEN r.is_drop = 1 THEN r.drop_pct_n END), 2)           AS avg_drop_pct,
      (SELECT COUNT(*) FROM product_keys k WHERE k.last_row IS NOT NULL)       AS products_analysed,
      (SELECT COUNT(*) FROM (SELECT DISTINCT source, product_id FROM rollup_category_products WHERE dropped = 1)) AS products_with_drop,
      MIN(r.dt)                                                                AS first_day,
      MAX(r.dt)                                                                AS last_day
    FROM rollup_daily r;

    CREATE VIEW v_product_latest AS
    SELECT k.source, k.product_id, d.title, d.category, d.currency, o.price, o.old_price, o.drop_amount, o.drop_pct,
           o.is_drop, o.drop_label, o.observed_at, o.dt
    FROM product_keys k
    JOIN observation_records o ON o.rowid = k.last_row
    JOIN descriptors d ON d.id = o.descriptor;
  `,
  run(db) {
    // One seek of the key per product (a load that deferred it and is still running: built first).
    ensureKeyIndex(db);
    db.exec(`UPDATE product_keys SET last_row = (SELECT o.rowid FROM observation_records o WHERE o.product = product_keys.id ORDER BY o.observed_at DESC LIMIT 1)`);
  },
};
