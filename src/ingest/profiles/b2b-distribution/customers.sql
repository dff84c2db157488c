-- customers → customers. The seed's customers have no country (address is free text), no lead score
-- and no size tier, so segment stays NULL; raw_segment keeps the customer's labels (customer_labels
-- through customer_label_assignments, e.g. "Bar, Restaurant (Large)"). The behaviour status
-- (ORDERING/AT_RISK/STOPPED_ORDERING/NO_ORDERS_YET) and expected_order_date have no canonical column:
-- the customers job computes the same statuses from the orders.
SELECT c.distributor_id::text AS tenant_id, c.id::text AS customer_id, c.email, NULL::text AS country,
       NULL::text AS segment, l.labels AS raw_segment, NULL::double precision AS lead_score,
       c.created_at AT TIME ZONE 'UTC' AS created_at, c.updated_at AT TIME ZONE 'UTC' AS updated_at,
       NULL AS external_id, -- no Stripe customer id in this schema
       greatest(c.created_at, c.updated_at, l.changed) AT TIME ZONE 'UTC' AS _cursor_ts
FROM customers c
LEFT JOIN LATERAL (
  SELECT string_agg(cl.name || coalesce(' (' || a.value || ')', ''), ', ' ORDER BY cl.name) AS labels,
         max(greatest(a.assigned_at, cl.updated_at)) AS changed
  FROM customer_label_assignments a JOIN customer_labels cl ON cl.id = a.label_id
  WHERE a.customer_id = c.id
) l ON true
