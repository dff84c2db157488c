-- bookings → payments. The seed has no payments table: a booking's payment_amount/payment_status is the
-- money the business takes for it, so each booking with a payment status and an amount is one payment
-- (payment_id = order_id = the booking's id; never counted twice). payment_status paid → succeeded, or
-- refunded (whole amount) when the booking was then cancelled; failed → failed; pending → pending.
-- The seed records no payment time: the booking's created_at stands in for it, and completed_at stays NULL.
-- product_id is the booking's service_type (see products.sql).
SELECT {{tenant}} AS tenant_id, b.id::text AS payment_id, 'db' AS source, NULL AS external_id,
       b.id::text AS order_id, regexp_replace(b.customer_phone, '[^0-9+]', '', 'g') AS customer_id,
       b.service_type AS product_id,
       b.payment_amount AS amount, upper(coalesce(b.payment_currency, {{currency}})) AS currency,
       CASE lower(b.payment_status)
         WHEN 'paid' THEN CASE WHEN lower(b.status) = 'cancelled' THEN 'refunded' ELSE 'succeeded' END
         WHEN 'failed' THEN 'failed' WHEN 'pending' THEN 'pending'
         ELSE lower(b.payment_status) END AS status,
       b.payment_status AS raw_status,
       CASE WHEN lower(b.payment_status) = 'paid' AND lower(b.status) = 'cancelled' THEN b.payment_amount ELSE 0 END AS refunded_amount,
       b.created_at AT TIME ZONE 'UTC' AS created_at, NULL::timestamp AS completed_at,
       greatest(b.created_at, b.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM bookings b
WHERE b.payment_status IS NOT NULL AND b.payment_amount IS NOT NULL
