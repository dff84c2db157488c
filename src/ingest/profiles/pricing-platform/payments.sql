-- payments → payments (source 'db'; Stripe ids kept as external_id). A refund in this schema is the
-- whole payment (status 'refunded'), so refunded_amount is the amount.
SELECT {{tenant}} AS tenant_id, p.id::text AS payment_id, 'db' AS source, p.stripe_payment_id AS external_id,
       NULL AS order_id, p.user_id::text AS customer_id, p.product_id::text AS product_id,
       p.amount, upper(p.currency) AS currency,
       CASE lower(p.status)
         WHEN 'completed' THEN 'succeeded' WHEN 'succeeded' THEN 'succeeded' WHEN 'paid' THEN 'succeeded'
         WHEN 'failed' THEN 'failed' WHEN 'pending' THEN 'pending' WHEN 'processing' THEN 'pending'
         WHEN 'refunded' THEN 'refunded'
         ELSE lower(p.status) END AS status,
       p.status AS raw_status,
       CASE WHEN lower(p.status) = 'refunded' THEN p.amount ELSE 0 END AS refunded_amount,
       p.created_at, p.completed_at,
       greatest(p.created_at, p.completed_at, p.failed_at) AS _cursor_ts
FROM payments p
