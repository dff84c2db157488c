-- bookings → order_items: one line per booking, the booked service_type as the product, at the booking's
-- amount. number_of_loads is not the quantity: the seed prices a booking as a whole (payment_amount), and
-- dividing it by the loads would not give back the amount to the cent.
SELECT {{tenant}} AS tenant_id, b.id::text AS order_id, 1 AS line_no, b.service_type AS product_id,
       1 AS quantity, coalesce(b.payment_amount, 0) AS unit_price,
       b.created_at AT TIME ZONE 'UTC' AS created_at,
       greatest(b.created_at, b.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM bookings b
