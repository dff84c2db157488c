-- Two kinds of product events, neither counted twice:
-- * sales: each line of a CONFIRMED order (order_products) sells its quantity of the matched product,
--   at the order's received time (as orders.sql dates it);
-- * cart adds: each item collected in an order session (order_session_items, whatever became of it)
--   adds its quantity to the "cart", at added_at.
-- The source records no product or page views, so views are 0 (the funnel is ruled out in the manifest).
WITH d AS MATERIALIZED (
  -- Each distributor's time zone, checked once against the server's list (an unknown name falls back
  -- to UTC), rather than by an EXISTS over pg_timezone_names that the planner may run for every row.
  SELECT x.id, x.currency, CASE WHEN z.name IS NULL THEN 'UTC' ELSE x.timezone END AS tz
  FROM distributors x LEFT JOIN (SELECT DISTINCT name FROM pg_timezone_names) z ON z.name = x.timezone
)
SELECT o.distributor_id::text AS tenant_id, 'sale:' || op.id::text AS event_id,
       coalesce(((o.received_date + coalesce(o.received_time, TIME '00:00')) AT TIME ZONE d.tz) AT TIME ZONE 'UTC',
                o.created_at AT TIME ZONE 'UTC') AS ts,
       op.matched_product_id::text AS product_id, 0 AS views, 0 AS cart_adds, op.quantity AS sales,
       greatest(op.created_at, op.updated_at, o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM order_products op
JOIN orders o ON o.id = op.order_id
JOIN d ON d.id = o.distributor_id
WHERE lower(o.status) = 'confirmed'
UNION ALL
SELECT s.distributor_id::text AS tenant_id, 'cart:' || i.id::text AS event_id, i.added_at AT TIME ZONE 'UTC' AS ts,
       i.product_id::text AS product_id, 0 AS views, i.quantity AS cart_adds, 0 AS sales,
       greatest(i.added_at, i.confirmed_at, i.removed_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM order_session_items i
JOIN conversation_order_sessions s ON s.id = i.order_session_id
