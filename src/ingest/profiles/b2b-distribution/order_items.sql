-- order_products → order_items. line_no numbers an order's lines by line_order (then id), so lines
-- without a position or sharing one keep distinct keys. product_id is the catalogue product the line
-- was matched to (matched_product_id; NULL when nothing matched). unit_price falls back to
-- line_price ÷ quantity when the line has only a total.
SELECT o.distributor_id::text AS tenant_id, op.order_id::text AS order_id,
       row_number() OVER (PARTITION BY op.order_id ORDER BY op.line_order NULLS LAST, op.id) AS line_no,
       op.matched_product_id::text AS product_id, op.quantity,
       coalesce(op.unit_price, round(op.line_price / nullif(op.quantity, 0), 2)) AS unit_price,
       op.created_at AT TIME ZONE 'UTC' AS created_at,
       greatest(op.created_at, op.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM order_products op
JOIN orders o ON o.id = op.order_id
