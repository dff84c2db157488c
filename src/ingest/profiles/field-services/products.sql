-- The seed sells services, not catalogue items: each service_type (a CHECK list: plumbing,
-- electrical, cleaning, repairs, maintenance, other) seen in orders is a product. Its price is
-- negotiated per job, so current_price = the mean agreed dealing_price of the type's completed orders
-- created in the 90 days before its latest order (all its priced orders when none is completed there).
SELECT {{tenant}} AS tenant_id, s.service_type AS product_id, initcap(s.service_type) AS name, s.service_type AS category,
       NULL::numeric AS base_price, NULL::numeric AS base_cost,
       coalesce(s.recent_price, s.any_price) AS current_price, {{currency}} AS currency,
       NULL::integer AS inventory, NULL::integer AS reorder_point, true AS active, NULL::jsonb AS pricing_factors,
       NULL::timestamp AS last_price_update, s.created_at, s.updated_at,
       s.updated_at AS _cursor_ts
FROM (
  SELECT o.service_type,
         round(avg(o.dealing_price) FILTER (WHERE lower(o.status) = 'completed' AND o.created_at > l.last_order - interval '90 days'), 2) AS recent_price,
         round(avg(o.dealing_price), 2) AS any_price,
         min(o.created_at) AT TIME ZONE 'UTC' AS created_at,
         max(greatest(o.created_at, o.updated_at)) AT TIME ZONE 'UTC' AS updated_at
  FROM orders o
  JOIN (SELECT service_type, max(created_at) AS last_order FROM orders GROUP BY service_type) l ON l.service_type = o.service_type
  GROUP BY o.service_type
) s
