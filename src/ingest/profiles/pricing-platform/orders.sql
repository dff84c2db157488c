-- orders → orders. The seed's orders carry no currency (the shop sells in DEFAULT_CURRENCY) and no
-- updated_at, so status changes are picked up by the daily reconciliation (row hash), not the cursor.
SELECT {{tenant}} AS tenant_id, o.id::text AS order_id, o.user_id::text AS customer_id,
       CASE lower(o.status)
         WHEN 'pending' THEN 'pending' WHEN 'processing' THEN 'pending'
         WHEN 'completed' THEN 'paid' WHEN 'paid' THEN 'paid' WHEN 'succeeded' THEN 'paid'
         WHEN 'shipped' THEN 'fulfilled' WHEN 'delivered' THEN 'fulfilled' WHEN 'fulfilled' THEN 'fulfilled'
         WHEN 'cancelled' THEN 'cancelled' WHEN 'canceled' THEN 'cancelled'
         WHEN 'refunded' THEN 'refunded'
         ELSE lower(o.status) END AS status,
       o.status AS raw_status, o.total, {{currency}} AS currency, 'web' AS channel,
       NULL AS closed_by, NULL AS conversation_id, o.created_at, NULL::timestamp AS updated_at,
       o.created_at AS _cursor_ts
FROM orders o
