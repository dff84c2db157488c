-- user_subscriptions + subscription_plans → subscriptions. user_subscriptions is NOT in the seed (it
-- has plans but no record of who is on one; see test/fixtures/schemas/field-services.sql): a real
-- schema edits the FROM/JOIN lines and the s.* column names below. Subscribers are platform users
-- (user_profiles), not the service customers. Plan prices are in USD (price_usd); a yearly plan is
-- divided by 12, a quarterly one by 3. 'expired' is a subscription that ended: cancelled, at its
-- canceled_at or else at the end of its last period.
SELECT {{tenant}} AS tenant_id, s.id::text AS subscription_id, s.user_id::text AS customer_id,
       s.plan_id, p.name AS plan_name,
       round(CASE lower(p.billing_interval)
         WHEN 'yearly' THEN p.price_usd / 12 WHEN 'annual' THEN p.price_usd / 12 WHEN 'year' THEN p.price_usd / 12
         WHEN 'quarterly' THEN p.price_usd / 3 WHEN 'quarter' THEN p.price_usd / 3
         ELSE p.price_usd END, 2) AS monthly_amount,
       'USD' AS currency,
       CASE lower(s.status)
         WHEN 'trialing' THEN 'trialing' WHEN 'trial' THEN 'trialing'
         WHEN 'active' THEN 'active' WHEN 'past_due' THEN 'past_due' WHEN 'unpaid' THEN 'past_due'
         WHEN 'canceled' THEN 'cancelled' WHEN 'cancelled' THEN 'cancelled' WHEN 'expired' THEN 'cancelled'
         WHEN 'paused' THEN 'paused'
         ELSE lower(s.status) END AS status,
       s.status AS raw_status,
       s.created_at AT TIME ZONE 'UTC' AS started_at,
       s.current_period_end AT TIME ZONE 'UTC' AS current_period_end,
       coalesce(s.canceled_at, CASE WHEN lower(s.status) = 'expired' THEN s.current_period_end END) AT TIME ZONE 'UTC' AS cancelled_at,
       'db' AS source, NULL AS external_id, -- no Stripe subscription id in this schema
       greatest(s.created_at, s.updated_at, s.canceled_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM user_subscriptions s
LEFT JOIN subscription_plans p ON p.id = s.plan_id
