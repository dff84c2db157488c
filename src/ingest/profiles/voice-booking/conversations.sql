-- Calls and SMS threads → conversations.
--
-- Calls: one conversation per call (conversation_id = calls.id, channel 'voice'). Who spoke comes from
-- the transcript, whose lines read "[mm:ss] Speaker: text" with the AI agent as "AI:" and a person of
-- the business as "Staff:" (the customer's lines are ignored): AI lines only → 'ai', Staff lines only →
-- 'human', both → 'mixed'; no transcript (unanswered, failed) → NULL. first_response_at = the call's
-- start plus the offset of the first AI/Staff line. escalated = the AI handed the call to staff (both
-- speak) or the notes say it was transferred. Another transcript format: edit the two speaker
-- patterns and the offset pattern below.
--
-- SMS: an inbound message more than 6 hours after the phone's previous message (either direction)
-- opens a thread (conversation_id = that message's id, channel 'sms'); first_response_at = the first
-- outbound message not failed after it and before the phone's next thread. Outbound messages with a
-- booking_id (confirmations, reminders) are notifications, left out of both. The seed does not record
-- who wrote an outbound SMS: the SMS agent answers, so a thread with a reply is 'ai', one without is
-- NULL. The 6-hour gap is the `interval '6 hours'` below (and in orders.sql).
WITH call_conv AS (
  SELECT c.id, c.phone_number, c.created_at, c.updated_at, c.notes,
         c.transcript ~ '(^|\n)\[\d+:\d{2}\] AI:' AS ai_spoke,
         c.transcript ~ '(^|\n)\[\d+:\d{2}\] Staff:' AS staff_spoke,
         regexp_match(c.transcript, '(?:^|\n)\[(\d+):(\d{2})\] (?:AI|Staff):') AS first_reply
  FROM calls c
), sms AS (
  SELECT m.id, m.created_at, lower(m.direction) AS direction, lower(m.status) AS status,
         regexp_replace(m.phone_number, '[^0-9+]', '', 'g') AS phone_key,
         lag(m.created_at) OVER (PARTITION BY regexp_replace(m.phone_number, '[^0-9+]', '', 'g') ORDER BY m.created_at, m.id) AS prev_at
  FROM sms_messages m
  -- Booking notifications (outbound messages tied to a booking: confirmations, reminders) are no part
  -- of a conversation: they neither separate threads nor answer them.
  WHERE NOT (lower(m.direction) = 'outbound' AND m.booking_id IS NOT NULL)
), thread AS (
  SELECT s.id, s.phone_key, s.created_at,
         lead(s.created_at) OVER (PARTITION BY s.phone_key ORDER BY s.created_at, s.id) AS next_start
  FROM sms s
  WHERE s.direction = 'inbound' AND (s.prev_at IS NULL OR s.created_at - s.prev_at > interval '6 hours')
), thread_reply AS (
  SELECT t.id, min(r.created_at) AS first_reply_at
  FROM thread t JOIN sms r ON r.phone_key = t.phone_key AND r.direction = 'outbound' AND r.status IS DISTINCT FROM 'failed'
    AND r.created_at > t.created_at AND (t.next_start IS NULL OR r.created_at < t.next_start)
  GROUP BY t.id
)
SELECT {{tenant}} AS tenant_id, cc.id::text AS conversation_id,
       regexp_replace(cc.phone_number, '[^0-9+]', '', 'g') AS customer_id, 'voice' AS channel,
       CASE WHEN cc.ai_spoke AND cc.staff_spoke THEN 'mixed' WHEN cc.ai_spoke THEN 'ai' WHEN cc.staff_spoke THEN 'human' END AS handled_by,
       cc.created_at AT TIME ZONE 'UTC' AS started_at,
       (cc.created_at + make_interval(secs => cc.first_reply[1]::int * 60 + cc.first_reply[2]::int)) AT TIME ZONE 'UTC' AS first_response_at,
       coalesce(cc.ai_spoke AND cc.staff_spoke, false) OR coalesce(cc.notes ~* 'transferred', false) AS escalated,
       greatest(cc.created_at, cc.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM call_conv cc
UNION ALL
SELECT {{tenant}}, t.id::text, t.phone_key, 'sms',
       CASE WHEN tr.first_reply_at IS NOT NULL THEN 'ai' END,
       t.created_at AT TIME ZONE 'UTC', tr.first_reply_at AT TIME ZONE 'UTC', false,
       greatest(t.created_at, tr.first_reply_at) AT TIME ZONE 'UTC'
FROM thread t LEFT JOIN thread_reply tr ON tr.id = t.id
