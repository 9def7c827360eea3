-- Drops per day and category: the trend panel. observations and drops add up across rows;
-- products_analysed / products_with_drop are distinct counts per (day, category) and do not.
CREATE OR REPLACE VIEW v_drop_trend_daily AS
SELECT
  dt,
  category,
  COUNT(*)                                                     AS observations,
  COUNT_IF(is_drop)                                            AS drops,
  ROUND(AVG(CASE WHEN is_drop THEN drop_pct END), 2)           AS avg_drop_pct,
  COUNT(DISTINCT CONCAT(source, CHR(31), product_id))          AS products_analysed,
  COUNT(DISTINCT CASE WHEN is_drop THEN CONCAT(source, CHR(31), product_id) END) AS products_with_drop
FROM cleaned_observations
GROUP BY dt, category
