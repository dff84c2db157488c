-- order_items → order_items. The seed has no line number: lines are numbered per order by id (stable,
-- since item ids never change). Items are written once, with their order.
SELECT {{tenant}} AS tenant_id, i.order_id::text AS order_id,
       row_number() OVER (PARTITION BY i.order_id ORDER BY i.id) AS line_no,
       i.product_id::text AS product_id, i.quantity, i.unit_price,
       i.created_at AT TIME ZONE 'UTC' AS created_at,
       i.created_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM order_items i
