-- product_metrics → product_events. user_behavior holds a sample of the same actions one by one,
-- so it is not added on top (that would count them twice).
SELECT {{tenant}} AS tenant_id, m.id::text AS event_id, m.timestamp AS ts, m.product_id::text AS product_id,
       m.views, m.cart_adds, m.sales,
       m.timestamp AS _cursor_ts
FROM product_metrics m
