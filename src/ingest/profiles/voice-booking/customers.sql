-- customers → customers, known by phone number (punctuation and spaces removed; see orders.sql).
-- segment from tags: 'vip' → vip, 'business'/'commercial'/'enterprise' → enterprise, else regular; the
-- tags are kept in raw_segment. The seed has no country and no lead score.
SELECT {{tenant}} AS tenant_id, regexp_replace(c.phone, '[^0-9+]', '', 'g') AS customer_id, c.email,
       NULL AS country,
       CASE
         WHEN EXISTS (SELECT 1 FROM unnest(c.tags) t WHERE lower(t) = 'vip') THEN 'vip'
         WHEN EXISTS (SELECT 1 FROM unnest(c.tags) t WHERE lower(t) IN ('business', 'commercial', 'enterprise')) THEN 'enterprise'
         ELSE 'regular' END AS segment,
       array_to_string(c.tags, ',') AS raw_segment, NULL::numeric AS lead_score,
       c.created_at AT TIME ZONE 'UTC' AS created_at, c.updated_at AT TIME ZONE 'UTC' AS updated_at,
       NULL AS external_id, -- no Stripe customer id in this schema
       greatest(c.created_at, c.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM customers c
