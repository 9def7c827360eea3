-- The headline figures over every cleaned observation (one row). Same names, columns and meaning
-- as the local cache's view of the same name (pipeline/cache/migrations.ts, 0501-powerbi-views).
-- is_drop is returned as 0/1 integers so one Power BI report works against Athena and SQLite.
CREATE OR REPLACE VIEW v_price_drop_kpis AS
SELECT
  COUNT(*)                                                     AS observations,
  COUNT_IF(is_drop)                                            AS drops,
  COUNT_IF(NOT is_drop)                                        AS no_drops,
  ROUND(AVG(CASE WHEN is_drop THEN drop_pct END), 2)           AS avg_drop_pct,
  COUNT(DISTINCT CONCAT(source, CHR(31), product_id))          AS products_analysed,
  COUNT(DISTINCT CASE WHEN is_drop THEN CONCAT(source, CHR(31), product_id) END) AS products_with_drop,
  MIN(dt)                                                      AS first_day,
  MAX(dt)                                                      AS last_day
FROM cleaned_observations
