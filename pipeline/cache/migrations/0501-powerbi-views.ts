import type { Migration } from '../migrations';

export const migration: Migration = {
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
};
