-- bookings → orders: every booking is an order. Its canonical status reads the booking status and the
-- payment status together (a booking is paid, fulfilled or refunded only if its payment went through):
--   completed + paid → fulfilled        completed, unpaid → pending (service done, money not in yet)
--   pending/confirmed/scheduled + paid → paid,   unpaid → pending
--   no-show + paid → paid (the prepayment is kept),   unpaid → cancelled
--   cancelled + paid → refunded (a cancelled prepaid booking is refunded),   unpaid → cancelled
-- Any other status is passed through lower-cased, so the loader rejects it with its reason.
-- closed_by: bookings the voice or SMS agent made (source voice/sms) are the AI's, manual ones staff's.
-- conversation_id: the booking's first call (calls.booking_id), else for an SMS booking the SMS thread
-- that was open when it was made (see conversations.sql for what a thread is).
-- Customers are known by their phone number (punctuation and spaces removed): customers, bookings,
-- calls and SMS all carry it, while customers.id appears nowhere else.
-- Times are timestamptz; AT TIME ZONE 'UTC' gives the UTC wall clock the warehouse keeps.
WITH first_call AS (
  SELECT DISTINCT ON (c.booking_id) c.booking_id, c.id, c.updated_at
  FROM calls c WHERE c.booking_id IS NOT NULL
  ORDER BY c.booking_id, c.created_at, c.id
), thread_start AS (
  SELECT s.id, s.phone_key, s.created_at FROM (
    SELECT m.id, m.created_at, m.direction, regexp_replace(m.phone_number, '[^0-9+]', '', 'g') AS phone_key,
           lag(m.created_at) OVER (PARTITION BY regexp_replace(m.phone_number, '[^0-9+]', '', 'g') ORDER BY m.created_at, m.id) AS prev_at
    FROM sms_messages m
    WHERE NOT (lower(m.direction) = 'outbound' AND m.booking_id IS NOT NULL)) s
  WHERE lower(s.direction) = 'inbound' AND (s.prev_at IS NULL OR s.created_at - s.prev_at > interval '6 hours')
), sms_thread AS (
  SELECT DISTINCT ON (b.id) b.id AS booking_id, t.id
  FROM bookings b JOIN thread_start t ON t.phone_key = regexp_replace(b.customer_phone, '[^0-9+]', '', 'g') AND t.created_at <= b.created_at
  WHERE lower(b.source) = 'sms'
  ORDER BY b.id, t.created_at DESC, t.id
)
SELECT {{tenant}} AS tenant_id, b.id::text AS order_id,
       regexp_replace(b.customer_phone, '[^0-9+]', '', 'g') AS customer_id,
       CASE
         WHEN lower(b.status) = 'completed' THEN CASE WHEN lower(b.payment_status) = 'paid' THEN 'fulfilled' ELSE 'pending' END
         WHEN lower(b.status) IN ('pending', 'confirmed', 'scheduled') THEN CASE WHEN lower(b.payment_status) = 'paid' THEN 'paid' ELSE 'pending' END
         WHEN lower(b.status) = 'no-show' THEN CASE WHEN lower(b.payment_status) = 'paid' THEN 'paid' ELSE 'cancelled' END
         WHEN lower(b.status) = 'cancelled' THEN CASE WHEN lower(b.payment_status) = 'paid' THEN 'refunded' ELSE 'cancelled' END
         ELSE lower(b.status) END AS status,
       b.status AS raw_status,
       -- A booking without a quoted amount still counts as an order, worth 0.
       coalesce(b.payment_amount, 0) AS total,
       upper(coalesce(b.payment_currency, {{currency}})) AS currency,
       lower(b.source) AS channel,
       CASE lower(b.source) WHEN 'voice' THEN 'ai' WHEN 'sms' THEN 'ai' WHEN 'manual' THEN 'human' END AS closed_by,
       coalesce(fc.id, st.id)::text AS conversation_id,
       b.created_at AT TIME ZONE 'UTC' AS created_at, b.updated_at AT TIME ZONE 'UTC' AS updated_at,
       -- Linking a call to the booking changes the call, not the booking: its time moves the row too.
       greatest(b.created_at, b.updated_at, fc.updated_at) AT TIME ZONE 'UTC' AS _cursor_ts
FROM bookings b
LEFT JOIN first_call fc ON fc.booking_id = b.id
LEFT JOIN sms_thread st ON st.booking_id = b.id
