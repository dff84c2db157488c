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
SELECT o.distributor_id::text AS tenant_id, o.id::text AS order_id, o.customer_id::text AS customer_id,
       CASE lower(o.status)
         WHEN 'confirmed' THEN 'paid' WHEN 'pending' THEN 'pending' WHEN 'review' THEN 'pending'
         ELSE lower(o.status) END AS status,
       o.status AS raw_status,
       coalesce(o.total_amount, (SELECT sum(op.line_price) FROM order_products op WHERE op.order_id = o.id)) AS total,
       upper(coalesce(d.currency, {{currency}})) AS currency,
       coalesce(lower(o.channel), 'manual') AS channel,
       CASE WHEN o.ai_generated THEN 'ai' ELSE 'human' END AS closed_by,
       coalesce(o.order_session_id, m.order_session_id)::text AS conversation_id,
       coalesce(((o.received_date + coalesce(o.received_time, TIME '00:00')) AT TIME ZONE d.tz) AT TIME ZONE 'UTC',
                o.created_at AT TIME ZONE 'UTC') AS created_at,
       o.updated_at AT TIME ZONE 'UTC' AS updated_at,
       greatest(o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
JOIN (SELECT x.id, x.currency,
             CASE WHEN EXISTS (SELECT 1 FROM pg_timezone_names z WHERE z.name = x.timezone) THEN x.timezone ELSE 'UTC' END AS tz
      FROM distributors x) d ON d.id = o.distributor_id
LEFT JOIN messages m ON m.id = o.ai_source_message_id
