-- subscriptions + subscription_plans → subscriptions, with the plan price normalised to a month.
-- external_id: the Stripe subscription, which supersedes this row when Stripe is also a source.
SELECT {{tenant}} AS tenant_id, s.id::text AS subscription_id, s.user_id::text AS customer_id,
       s.plan_id::text AS plan_id, sp.name AS plan_name,
       round(CASE lower(sp.interval)
         WHEN 'year' THEN sp.price / 12 WHEN 'yearly' THEN sp.price / 12 WHEN 'annual' THEN sp.price / 12
         WHEN 'week' THEN sp.price * 52 / 12 WHEN 'weekly' THEN sp.price * 52 / 12
         WHEN 'quarter' THEN sp.price / 3 WHEN 'quarterly' THEN sp.price / 3
         ELSE sp.price END, 2) AS monthly_amount,
       upper(sp.currency) AS currency,
       CASE lower(s.status)
         WHEN 'canceled' THEN 'cancelled' WHEN 'cancelled' THEN 'cancelled'
         WHEN 'trial' THEN 'trialing' ELSE lower(s.status) END AS status,
       s.status AS raw_status, s.created_at AS started_at, s.current_period_end, s.cancelled_at,
       'db' AS source, s.stripe_subscription_id AS external_id,
       greatest(s.created_at, s.cancelled_at, s.current_period_start) AS _cursor_ts
FROM subscriptions s
LEFT JOIN subscription_plans sp ON sp.id = s.plan_id
