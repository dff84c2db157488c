-- The seed has no payments table: the money the business received is mapped onto payments, from two
-- places that never describe the same money.
--  * An order paid in full (payment_method 'full') is one payment, 'order:<order id>', carrying the
--    order's payment_status; an order never paid ('unpaid', e.g. cancelled before paying) moved no
--    money and is left out. Time: when it was paid (paid_at), else when it was placed.
--  * An installment order's money arrives as installment_payments rows, each one payment
--    'installment:<row id>'; its order is never a payment itself. A row not yet due ('pending') or
--    dropped after a default ('cancelled') is a schedule, not money, and is left out; 'overdue' is a
--    payment still expected (pending). Time: paid_at, else the due date (UTC midnight).
-- A refund returns refund_amount (the whole total when it is NULL) of a full payment, and the whole
-- amount of a refunded installment. product_id is the order's product when it has exactly one line.
WITH single AS (
  SELECT order_id, min(product_id::text) AS product_id FROM order_items GROUP BY order_id HAVING count(*) = 1
)
SELECT {{tenant}} AS tenant_id, 'order:' || o.id::text AS payment_id, 'db' AS source, NULL::text AS external_id,
       o.id::text AS order_id, o.customer_id::text AS customer_id, s.product_id,
       o.total_amount AS amount, {{currency}} AS currency,
       CASE lower(o.payment_status)
         WHEN 'paid' THEN 'succeeded' WHEN 'pending' THEN 'pending' WHEN 'verifying' THEN 'pending'
         WHEN 'failed' THEN 'failed' WHEN 'refunded' THEN 'refunded' WHEN 'partially_refunded' THEN 'refunded'
         ELSE lower(o.payment_status) END AS status,
       o.payment_status AS raw_status,
       CASE WHEN lower(o.payment_status) IN ('refunded', 'partially_refunded') THEN coalesce(o.refund_amount, o.total_amount) ELSE 0 END AS refunded_amount,
       coalesce(o.paid_at, o.created_at) AT TIME ZONE 'UTC' AS created_at, o.paid_at AT TIME ZONE 'UTC' AS completed_at,
       o.updated_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
LEFT JOIN single s ON s.order_id = o.id
WHERE lower(o.payment_method) = 'full' AND lower(o.payment_status) <> 'unpaid'
UNION ALL
SELECT {{tenant}} AS tenant_id, 'installment:' || ip.id::text AS payment_id, 'db' AS source, ip.payment_reference AS external_id,
       pl.order_id::text AS order_id, pl.customer_id::text AS customer_id, s.product_id,
       ip.amount, {{currency}} AS currency,
       CASE lower(ip.status)
         WHEN 'paid' THEN 'succeeded' WHEN 'overdue' THEN 'pending' WHEN 'failed' THEN 'failed' WHEN 'refunded' THEN 'refunded'
         ELSE lower(ip.status) END AS status,
       ip.status AS raw_status,
       CASE WHEN lower(ip.status) = 'refunded' THEN ip.amount ELSE 0 END AS refunded_amount,
       coalesce(ip.paid_at AT TIME ZONE 'UTC', ip.due_date::timestamp) AS created_at, ip.paid_at AT TIME ZONE 'UTC' AS completed_at,
       ip.updated_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM installment_payments ip
JOIN installment_plans pl ON pl.id = ip.plan_id
LEFT JOIN single s ON s.order_id = pl.order_id
WHERE lower(ip.status) NOT IN ('pending', 'cancelled')
