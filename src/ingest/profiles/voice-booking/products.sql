-- Distinct bookings.service_type → products (the seed has no service catalogue). current_price is the
-- mean amount of the service's bookings (the seed stores a price per booking, not per service), in the
-- currency most of them use; created_at/updated_at are its first booking and latest booking change.
SELECT {{tenant}} AS tenant_id, b.service_type AS product_id, b.service_type AS name, NULL AS category,
       NULL::numeric AS base_price, NULL::numeric AS base_cost,
       coalesce(round(avg(b.payment_amount), 2), 0) AS current_price,
       mode() WITHIN GROUP (ORDER BY upper(coalesce(b.payment_currency, {{currency}}))) AS currency,
       NULL::integer AS inventory, NULL::integer AS reorder_point, true AS active, NULL::jsonb AS pricing_factors,
       NULL::timestamp AS last_price_update,
       min(b.created_at) AT TIME ZONE 'UTC' AS created_at, max(b.updated_at) AT TIME ZONE 'UTC' AS updated_at,
       max(greatest(b.created_at, b.updated_at)) AT TIME ZONE 'UTC' AS _cursor_ts
FROM bookings b
GROUP BY b.service_type
