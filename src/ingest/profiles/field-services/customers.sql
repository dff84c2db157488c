-- orders → customers. The seed has no customer table: a customer is the phone number orders are
-- booked under (orders.customer_phone), digits only, so '+1 555-010-0123' and '+15550100123' are one
-- customer. Email: the latest one given. The seed has no country, segment or lead score.
SELECT {{tenant}} AS tenant_id, c.customer_id, c.email, NULL::text AS country,
       NULL::text AS segment, NULL::text AS raw_segment, NULL::double precision AS lead_score,
       c.created_at, c.updated_at,
       NULL AS external_id, -- no Stripe customer id in this schema
       c.updated_at AS _cursor_ts
FROM (
  SELECT regexp_replace(o.customer_phone, '[^0-9]', '', 'g') AS customer_id,
         (array_agg(o.customer_email ORDER BY o.created_at DESC) FILTER (WHERE nullif(btrim(o.customer_email), '') IS NOT NULL))[1] AS email,
         min(o.created_at) AT TIME ZONE 'UTC' AS created_at,
         max(greatest(o.created_at, o.updated_at)) AT TIME ZONE 'UTC' AS updated_at
  FROM orders o
  GROUP BY 1
) c
