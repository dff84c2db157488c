-- page_views → page_views; a product page '/products/<id>' names its product.
SELECT {{tenant}} AS tenant_id, v.id::text AS page_view_id, v.timestamp AS ts, v.page, v.user_id::text AS user_id,
       substring(v.page FROM '^/products/([^/?#]+)') AS product_id, v.count AS views,
       v.timestamp AS _cursor_ts
FROM page_views v
