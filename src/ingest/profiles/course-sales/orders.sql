-- orders → orders. The shop sells in one currency (DEFAULT_CURRENCY, THB) and stores none.
-- Status: 'installment' (an installment plan running: the sale is closed and the customer has access)
-- counts as paid; 'completed' (access granted / book delivered) is fulfilled.
-- closed_by: the seed's 'admin' is the canonical 'human'. The channel is the conversation's (LINE,
-- Facebook, ...); an order without a conversation came through the website checkout.
SELECT {{tenant}} AS tenant_id, o.id::text AS order_id, o.customer_id::text AS customer_id,
       CASE lower(o.status)
         WHEN 'pending' THEN 'pending' WHEN 'awaiting_payment' THEN 'pending' WHEN 'processing' THEN 'pending'
         WHEN 'paid' THEN 'paid' WHEN 'installment' THEN 'paid'
         WHEN 'completed' THEN 'fulfilled' WHEN 'delivered' THEN 'fulfilled' WHEN 'shipped' THEN 'fulfilled'
         WHEN 'cancelled' THEN 'cancelled' WHEN 'canceled' THEN 'cancelled' WHEN 'expired' THEN 'cancelled'
         WHEN 'refunded' THEN 'refunded'
         ELSE lower(o.status) END AS status,
       o.status AS raw_status, o.total_amount AS total, {{currency}} AS currency,
       coalesce(cv.channel, 'website') AS channel,
       CASE lower(o.closed_by) WHEN 'ai' THEN 'ai' WHEN 'admin' THEN 'human' WHEN 'human' THEN 'human'
         ELSE lower(o.closed_by) END AS closed_by,
       o.conversation_id::text AS conversation_id,
       o.created_at AT TIME ZONE 'UTC' AS created_at, o.updated_at AT TIME ZONE 'UTC' AS updated_at,
       o.updated_at AT TIME ZONE 'UTC' AS _cursor_ts
FROM orders o
LEFT JOIN conversations cv ON cv.id = o.conversation_id
