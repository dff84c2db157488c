-- users → customers. The seed has no segment or lead score. external_id: the Stripe customer, by
-- which Stripe's payments and subscriptions find their customer.
SELECT {{tenant}} AS tenant_id, u.id::text AS customer_id, u.email, upper(u.country) AS country,
       NULL AS segment, NULL AS raw_segment, NULL AS lead_score,
       u.created_at, u.updated_at, u.stripe_customer_id AS external_id,
       coalesce(u.updated_at, u.created_at) AS _cursor_ts
FROM users u
