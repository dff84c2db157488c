-- conversation_order_sessions → conversations. A source conversation is a customer's whole thread on
-- one channel (months of messages); one ordering attempt within it is an order-collection session,
-- which is what converts or not, so each session is one canonical conversation (the orders point at
-- it through order_session_id).
-- Who replied: the seed's messages name no sender beyond is_from_customer. A distributor message was
-- sent by the AI when an AI response to the customer message it replies to was used
-- (ai_responses.was_used) with exactly its text; any other distributor message was written by a person.
-- handled_by: 'ai' (only AI replies), 'human' (only people), 'mixed' (both), NULL (no reply yet).
-- first_response_at: the first distributor message at or after the customer's first message.
-- escalated: the AI replied first and a person replied later.
SELECT s.distributor_id::text AS tenant_id, s.id::text AS conversation_id, c.customer_id::text AS customer_id,
       lower(c.channel) AS channel,
       CASE WHEN rep.ai_replies > 0 AND rep.human_replies > 0 THEN 'mixed'
            WHEN rep.ai_replies > 0 THEN 'ai' WHEN rep.human_replies > 0 THEN 'human' END AS handled_by,
       s.started_at AT TIME ZONE 'UTC' AS started_at,
       rep.first_reply AT TIME ZONE 'UTC' AS first_response_at,
       coalesce(rep.first_by_ai AND rep.human_replies > 0, false) AS escalated,
       greatest(s.created_at, s.updated_at, ask.last_change) AT TIME ZONE 'UTC' AS _cursor_ts
FROM conversation_order_sessions s
JOIN conversations c ON c.id = s.conversation_id
LEFT JOIN LATERAL (
  SELECT min(m.created_at) FILTER (WHERE m.is_from_customer) AS first_ask, max(m.updated_at) AS last_change
  FROM messages m WHERE m.order_session_id = s.id
) ask ON true
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE x.by_ai) AS ai_replies, count(*) FILTER (WHERE NOT x.by_ai) AS human_replies,
         min(x.created_at) FILTER (WHERE x.created_at >= ask.first_ask) AS first_reply,
         (array_agg(x.by_ai ORDER BY x.created_at, x.id))[1] AS first_by_ai
  FROM (
    SELECT m.id, m.created_at,
           EXISTS (SELECT 1 FROM ai_responses r
                   WHERE r.message_id = m.reply_to_message_id AND r.was_used AND r.response_content = m.content) AS by_ai
    FROM messages m WHERE m.order_session_id = s.id AND NOT m.is_from_customer
  ) x
) rep ON true
