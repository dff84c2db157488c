-- customers → customers. customer_type is the seed's segment (regular/vip/enterprise); lead_score is
-- the current score (0-100). timestamptz columns become UTC timestamps (canonical times are UTC).
SELECT {{tenant}} AS tenant_id, c.id::text AS customer_id, c.email, upper(c.country) AS country,
       CASE lower(c.customer_type)
         WHEN 'regular' THEN 'regular' WHEN 'vip' THEN 'vip' WHEN 'enterprise' THEN 'enterprise'
         ELSE lower(c.customer_type) END AS segment,
       c.customer_type AS raw_segment, c.lead_score,
       c.created_at AT TIME ZONE 'UTC' AS created_at, c.updated_at AT TIME ZONE 'UTC' AS updated_at,
       NULL AS external_id, -- no Stripe customer id in this schema
       c.updated_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM customers c
