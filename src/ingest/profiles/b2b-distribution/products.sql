-- products → products. category: the structured category's name (product_categories), else the
-- deprecated free-text products.category. unit_price is both the base and the current price (the seed
-- keeps no price history or cost); inventory is stock_quantity; products are priced in their
-- distributor's currency. Variants (product_variants) are not separate products here.
SELECT p.distributor_id::text AS tenant_id, p.id::text AS product_id, p.name,
       coalesce(pc.name, p.category, 'uncategorized') AS category,
       p.unit_price AS base_price, NULL::numeric AS base_cost, p.unit_price AS current_price,
       upper(coalesce(d.currency, {{currency}})) AS currency,
       p.stock_quantity AS inventory, NULL::integer AS reorder_point, p.active, NULL::jsonb AS pricing_factors,
       NULL::timestamp AS last_price_update,
       p.created_at AT TIME ZONE 'UTC' AS created_at, p.updated_at AT TIME ZONE 'UTC' AS updated_at,
       greatest(p.created_at, p.updated_at, pc.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM products p
JOIN distributors d ON d.id = p.distributor_id
LEFT JOIN product_categories pc ON pc.id = p.category_id
