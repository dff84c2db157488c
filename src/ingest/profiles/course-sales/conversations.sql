-- conversations + messages + ai_interactions → conversations.
--  handled_by: who replied (messages.sender_type): only 'ai' → 'ai', only 'admin' → 'human', both → 'mixed',
--              nobody yet → NULL.
--  first_response_at: the first ai/admin message at or after the customer's first message.
--  escalated: an AI interaction of the conversation was escalated to an admin (ai_interactions.escalated).
-- The row changes when a message or an interaction is added, so the cursor is the latest of those and
-- the conversation's own updated_at.
WITH m AS (
  SELECT conversation_id, bool_or(sender_type = 'ai') AS ai_replied, bool_or(sender_type = 'admin') AS admin_replied,
         min(created_at) FILTER (WHERE sender_type = 'customer') AS first_customer, max(created_at) AS last_message
  FROM messages GROUP BY conversation_id
), r AS (
  SELECT x.conversation_id, min(x.created_at) AS first_response
  FROM messages x JOIN m ON m.conversation_id = x.conversation_id
  WHERE x.sender_type IN ('ai', 'admin') AND x.created_at >= m.first_customer
  GROUP BY x.conversation_id
), a AS (
  SELECT conversation_id, bool_or(escalated) AS escalated, max(created_at) AS last_interaction
  FROM ai_interactions WHERE conversation_id IS NOT NULL GROUP BY conversation_id
)
SELECT {{tenant}} AS tenant_id, c.id::text AS conversation_id, c.customer_id::text AS customer_id, lower(c.channel) AS channel,
       CASE WHEN m.ai_replied AND m.admin_replied THEN 'mixed' WHEN m.ai_replied THEN 'ai' WHEN m.admin_replied THEN 'human' END AS handled_by,
       c.created_at AT TIME ZONE 'UTC' AS started_at, r.first_response AT TIME ZONE 'UTC' AS first_response_at,
       coalesce(a.escalated, false) AS escalated,
       greatest(c.updated_at, m.last_message, a.last_interaction) AT TIME ZONE 'UTC' AS _cursor_ts
FROM conversations c
LEFT JOIN m ON m.conversation_id = c.id
LEFT JOIN r ON r.conversation_id = c.id
LEFT JOIN a ON a.conversation_id = c.id
