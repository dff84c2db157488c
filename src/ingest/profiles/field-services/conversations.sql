-- call_sessions → conversations: every call (answered or not) is a conversation. The seed has no
-- columns for direction, handover or the human side, so these are read from call_sessions.metadata:
--   handled_by: 'human' for a call without an AI agent (agent_id NULL: a staff member's call through
--     the platform's number), 'mixed' for an AI call with metadata.escalated_to_human true, else 'ai';
--   customer: the caller (from_number) of an inbound call, the callee (to_number) of an outbound one
--     (metadata.direction, else outbound when the call belongs to a calling campaign), digits only as
--     in customers.sql;
--   first_response_at: answered_at (the AI agent or the person picked up); NULL for unanswered calls.
SELECT {{tenant}} AS tenant_id, c.id AS conversation_id,
       nullif(regexp_replace(CASE WHEN coalesce(lower(c.metadata->>'direction'), CASE WHEN c.campaign_id IS NOT NULL THEN 'outbound' END) = 'outbound'
         THEN c.to_number ELSE c.from_number END, '[^0-9]', '', 'g'), '') AS customer_id,
       CASE WHEN c.campaign_id IS NOT NULL THEN 'campaign_call' ELSE 'phone' END AS channel,
       CASE WHEN c.agent_id IS NULL THEN 'human'
         WHEN lower(coalesce(c.metadata->>'escalated_to_human', 'false')) IN ('true', '1', 'yes') THEN 'mixed'
         ELSE 'ai' END AS handled_by,
       c.created_at AT TIME ZONE 'UTC' AS started_at,
       c.answered_at AT TIME ZONE 'UTC' AS first_response_at,
       (c.agent_id IS NOT NULL AND lower(coalesce(c.metadata->>'escalated_to_human', 'false')) IN ('true', '1', 'yes')) AS escalated,
       greatest(c.created_at, c.answered_at, c.completed_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM call_sessions c
