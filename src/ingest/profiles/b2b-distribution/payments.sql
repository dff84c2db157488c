-- The seed has no payments or invoices table: the money a distributor invoices is its CONFIRMED
-- orders' total_amount, so each CONFIRMED order is one succeeded payment (payment_id = order id),
-- dated like the order (received time, UTC). PENDING and REVIEW orders are not money yet and get no
-- payment; nothing is ever refunded in this schema. Orders carry several products, so a payment
-- names none (product_id NULL): per-product sales come from order_items and product_events.
WITH d AS MATERIALIZED (
  -- Each distributor's time zone, checked once against the server's list (an unknown name falls back
  -- to UTC), rather than by an EXISTS over pg_timezone_names that the planner may run for every row.
  SELECT x.id, x.currency, CASE WHEN z.name IS NULL THEN 'UTC' ELSE x.timezone END AS tz
  FROM distributors x LEFT JOIN (SELECT DISTINCT name FROM pg_timezone_names) z ON z.name = x.timezone
)
SELECT o.distributor_id::text AS tenant_id, o.id::text AS payment_id, 'db' AS source, o.external_order_id AS external_id,
       o.id::text AS order_id, o.customer_id::text AS customer_id, NULL::text AS product_id,
       coalesce(o.total_amount, (SELECT sum(op.line_price) FROM order_products op WHERE op.order_id = o.id)) AS amount,
       upper(coalesce(d.currency, {{currency}})) AS currency,
       CASE lower(o.status) WHEN 'confirmed' THEN 'succeeded' ELSE lower(o.status) END AS status,
       o.status AS raw_status, 0::numeric AS refunded_amount,
       coalesce(((o.received_date + coalesce(o.received_time, TIME '00:00')) AT TIME ZONE d.tz) AT TIME ZONE 'UTC',
                o.created_at AT TIME ZONE 'UTC') AS created_at,
       coalesce(o.reviewed_at, o.updated_at) AT TIME ZONE 'UTC' AS completed_at,
       greatest(o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
JOIN d ON d.id = o.distributor_id
WHERE lower(o.status) = 'confirmed'
