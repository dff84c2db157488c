-- products → products. category is the seed's product type (course/book/bundle); the free-text
-- products.category (subject) is not used because the seed does not guarantee it. The price a customer
-- pays now is sale_price when set, else price. Courses are digital: stock_quantity is NULL for them.
SELECT {{tenant}} AS tenant_id, p.id::text AS product_id, p.name, lower(p.product_type) AS category,
       p.price AS base_price, p.cost AS base_cost, coalesce(p.sale_price, p.price) AS current_price,
       {{currency}} AS currency, p.stock_quantity AS inventory, NULL::integer AS reorder_point, p.is_active AS active,
       NULL::jsonb AS pricing_factors, NULL::timestamp AS last_price_update,
       p.created_at AT TIME ZONE 'UTC' AS created_at, p.updated_at AT TIME ZONE 'UTC' AS updated_at,
       p.updated_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM products p
