-- orders → orders, every status. Tenant = distributor. The order's time is when it was received
-- (received_date + received_time, the distributor's local wall clock in distributors.timezone), in
-- UTC; created_at (when the row was written) stands in only if received_date is missing. An unknown
-- time zone name falls back to UTC instead of failing the pull.
-- Statuses: CONFIRMED → paid (the order stands and is invoiced); PENDING and REVIEW → pending (not
-- yet confirmed, or waiting for a person to check the AI's extraction). The schema has no
-- cancelled or refunded order status: a cancelled ordering attempt is a session outcome
-- (conversations.sql), never an order.
-- closed_by: 'ai' when the AI created the order from a message (ai_generated), else 'human'.
-- conversation_id: the order-collection session the order came from (canonical conversations are
-- sessions), or the session of the message the AI built it from.
WITH d AS MATERIALIZED (
  -- Each distributor's time zone, checked once against the server's list (an unknown name falls back
  -- to UTC), rather than by an EXISTS over pg_timezone_names that the planner may run for every row.
  SELECT x.id, x.currency, CASE WHEN z.name IS NULL THEN 'UTC' ELSE x.timezone END AS tz
  FROM distributors x LEFT JOIN (SELECT DISTINCT name FROM pg_timezone_names) z ON z.name = x.timezone
)
SELECT o.distributor_id::text AS tenant_id, o.id::text AS order_id, o.customer_id::text AS customer_id,
       CASE lower(o.status)
         WHEN 'confirmed' THEN 'paid' WHEN 'pending' THEN 'pending' WHEN 'review' THEN 'pending'
         ELSE lower(o.status) END AS status,
       o.status AS raw_status,
       coalesce(o.total_amount, (SELECT sum(op.line_price) FROM order_products op WHERE op.order_id = o.id)) AS total,
       upper(coalesce(d.currency, {{currency}})) AS currency,
       coalesce(lower(o.channel), 'manual') AS channel,
       CASE WHEN o.ai_generated THEN 'ai' ELSE 'human' END AS closed_by,
       -- A lookup, not a LEFT JOIN of messages: PostgreSQL 18 planned the join as a parallel hash right
       -- join that, at 200k orders, ran for minutes and grew its backends to 8 GB each (killed by the OOM
       -- killer at 1M); the lookup by primary key takes about a second.
       coalesce(o.order_session_id, (SELECT m.order_session_id FROM messages m WHERE m.id = o.ai_source_message_id))::text AS conversation_id,
       coalesce(((o.received_date + coalesce(o.received_time, TIME '00:00')) AT TIME ZONE d.tz) AT TIME ZONE 'UTC',
                o.created_at AT TIME ZONE 'UTC') AS created_at,
       o.updated_at AT TIME ZONE 'UTC' AS updated_at,
       greatest(o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
JOIN d ON d.id = o.distributor_id
