-- orders (service orders) → orders. Order total = dealing_price, the price agreed when the job is
-- booked (estimated_value, then a numeric invoice final_price, stand in while it is unset; 0 when the
-- order has no price at all yet). The billed invoice final_price is the revenue: see payments.sql.
-- The seed stores no currency: the business bills in DEFAULT_CURRENCY.
-- closed_by from created_by_role: the AI calling agent's roles → 'ai', people (admin, staff, vendor)
-- → 'human', 'system' (web form, import) and anything else → NULL.
-- conversation_id: the call session whose metadata.order_id names this order (the calling agent, or
-- the staff member's dialer, records the order it booked); a call's metadata is written when the call
-- ends, so its completed_at moves the cursor too.
SELECT {{tenant}} AS tenant_id, o.id::text AS order_id,
       nullif(regexp_replace(o.customer_phone, '[^0-9]', '', 'g'), '') AS customer_id,
       CASE lower(o.status)
         WHEN 'new' THEN 'pending' WHEN 'accepted' THEN 'pending' WHEN 'on_way' THEN 'pending' WHEN 'processing' THEN 'pending'
         WHEN 'completed' THEN 'fulfilled'
         WHEN 'cancelled' THEN 'cancelled' WHEN 'canceled' THEN 'cancelled'
         ELSE lower(o.status) END AS status,
       o.status AS raw_status,
       coalesce(o.dealing_price, o.estimated_value,
         CASE WHEN btrim(o.invoice->>'final_price') ~ '^[0-9]+(\.[0-9]+)?$' THEN nullif((o.invoice->>'final_price')::numeric, 0) END,
         0) AS total,
       {{currency}} AS currency,
       CASE WHEN c.conversation_id IS NOT NULL THEN 'phone'
         ELSE CASE lower(o.created_by_role) WHEN 'system' THEN 'web' WHEN 'vendor' THEN 'vendor_app' ELSE lower(o.created_by_role) END
       END AS channel,
       CASE
         WHEN lower(o.created_by_role) IN ('ai', 'ai_agent', 'agent', 'voice_agent', 'calling_agent', 'bot', 'assistant') THEN 'ai'
         WHEN lower(o.created_by_role) IN ('admin', 'staff', 'human', 'vendor', 'user', 'operator') THEN 'human'
       END AS closed_by,
       c.conversation_id,
       o.created_at AT TIME ZONE 'UTC' AS created_at,
       o.updated_at AT TIME ZONE 'UTC' AS updated_at,
       greatest(o.created_at, o.updated_at, c.completed_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
LEFT JOIN (
  -- One call per order: the first that names it.
  SELECT DISTINCT ON (s.metadata->>'order_id') s.metadata->>'order_id' AS order_ref, s.id AS conversation_id, s.completed_at
  FROM call_sessions s
  WHERE s.metadata ? 'order_id'
  ORDER BY s.metadata->>'order_id', s.created_at, s.id
) c ON c.order_ref = o.order_id
