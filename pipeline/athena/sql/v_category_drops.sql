-- Drops per category over all days: the top-categories panel (rank by avg_drop_pct).
CREATE OR REPLACE VIEW v_category_drops AS
SELECT
  category,
  COUNT(*)                                                     AS observations,
  COUNT_IF(is_drop)                                            AS drops,
  ROUND(AVG(CASE WHEN is_drop THEN drop_pct END), 2)           AS avg_drop_pct,
  COUNT(DISTINCT CONCAT(source, CHR(31), product_id))          AS products_analysed,
  COUNT(DISTINCT CASE WHEN is_drop THEN CONCAT(source, CHR(31), product_id) END) AS products_with_drop
FROM cleaned_observations
GROUP BY category
