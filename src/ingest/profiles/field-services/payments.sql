-- The seed has no payments table. The money the business receives is the invoice of a completed
-- service order, so each order with status 'completed' is one succeeded payment (payment_id = the
-- order's id): amount = invoice.final_price, the billed price, or dealing_price while the invoice still
-- holds its default 0. Orders in any other status have received nothing and give no payment; the seed
-- records no refunds or failed charges.
-- The amount stays text here, so a final_price that is not a number is rejected by the loader with
-- its reason instead of failing the whole pull.
-- created_at = the service date (scheduled_date, else the order's creation): revenue is earned when
-- the job is done; completed_at = updated_at, the last change of a completed order (its completion).
SELECT {{tenant}} AS tenant_id, o.id::text AS payment_id, 'db' AS source,
       nullif(btrim(o.invoice->>'invoice_url'), '') AS external_id,
       o.id::text AS order_id,
       nullif(regexp_replace(o.customer_phone, '[^0-9]', '', 'g'), '') AS customer_id,
       o.service_type AS product_id,
       CASE WHEN coalesce(btrim(o.invoice->>'final_price'), '') ~ '^0*(\.0*)?$' THEN o.dealing_price::text
         ELSE btrim(o.invoice->>'final_price') END AS amount,
       {{currency}} AS currency,
       'succeeded' AS status, o.status AS raw_status, 0 AS refunded_amount,
       coalesce(o.scheduled_date, o.created_at) AT TIME ZONE 'UTC' AS created_at,
       o.updated_at AT TIME ZONE 'UTC' AS completed_at,
       greatest(o.created_at, o.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
WHERE lower(o.status) = 'completed'
