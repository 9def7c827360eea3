-- Each product's latest observation (ties on observed_at cannot happen: it is part of the key).
CREATE OR REPLACE VIEW v_product_latest AS
SELECT source, product_id, title, category, currency, price, old_price, drop_amount, drop_pct,
       is_drop, drop_label, observed_at, dt
FROM (
  SELECT source, product_id, title, category, currency, price, old_price, drop_amount, drop_pct,
         CAST(is_drop AS INTEGER) AS is_drop, drop_label, observed_at, dt,
         ROW_NUMBER() OVER (PARTITION BY source, product_id ORDER BY observed_at DESC) AS rn
  FROM cleaned_observations
) latest
WHERE rn = 1
