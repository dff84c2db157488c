-- orders → order_items: a service order is one line, the service type (see products.sql) at the
-- order's total (the agreed dealing_price, same fallbacks as orders.sql), quantity 1.
SELECT {{tenant}} AS tenant_id, o.id::text AS order_id, 1 AS line_no, o.service_type AS product_id,
       1 AS quantity,
       coalesce(o.dealing_price, o.estimated_value,
         CASE WHEN btrim(o.invoice->>'final_price') ~ '^[0-9]+(\.[0-9]+)?$' THEN nullif((o.invoice->>'final_price')::numeric, 0) END,
         0) AS unit_price,
       o.created_at AT TIME ZONE 'UTC' AS created_at,
       greatest(o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
