-- products → products. The seed's products table has no category: it lives in revenue_breakdown
-- (product_id, category), so take the product's most recent breakdown row.
SELECT {{tenant}} AS tenant_id, p.id::text AS product_id, p.name, coalesce(rb.category, 'uncategorized') AS category,
       p.base_price, p.base_cost, p.current_price, {{currency}} AS currency,
       p.inventory_count AS inventory, p.reorder_point, true AS active, p.pricing_factors,
       p.last_price_update, p.created_at, p.updated_at,
       greatest(p.updated_at, p.created_at, p.last_price_update) AS _cursor_ts
FROM products p
LEFT JOIN LATERAL (
  SELECT category FROM revenue_breakdown r WHERE r.product_id = p.id AND r.category IS NOT NULL
  ORDER BY r.date DESC LIMIT 1
) rb ON true
