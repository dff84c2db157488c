import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { customerOptions } from '../../src/jobs/definitions.ts';
import { runCustomers } from '../../src/models/customers/run-customers.ts';
import { readDailySeries, runForecasts } from '../../src/models/forecast/run-forecasts.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import type { ProfileTruth } from '../../src/synth/profile-generator.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedProfileSource, generatorDigest, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';
import { expectSummaryMatches } from '../helpers/summary-checks.ts';

/**
 * The voice-booking profile (seed 003) end to end: generated bookings, calls and SMS in PostgreSQL →
 * ingest → rollups and models → HTTP, every figure compared with the same metric computed in SQL on
 * the source tables in the seed's own words (booking status, payment_status, transcripts), and the
 * generator's ground truth measured on the source.
 */
const FROM = '2026-06-01T00:00:00Z';
const TO = '2026-09-01T00:00:00Z';
const END = new Date('2026-09-15T00:00:00Z');
/** The money the business took: a booking's payment went through (refunded if the booking was then cancelled). */
const PAID = `payment_status = 'paid' AND payment_amount IS NOT NULL`;
const REFUNDED = `${PAID} AND status = 'cancelled'`;
/** Bookings the customer models count as purchases: paid and not cancelled. */
const PURCHASED = `${PAID} AND status IN ('pending', 'confirmed', 'scheduled', 'completed', 'no-show')`;
const IN_RANGE = `created_at >= $1::timestamptz AND created_at < $2::timestamptz`;
/** Who spoke on a call, from its transcript lines ("[mm:ss] AI: …", "[mm:ss] Staff: …"). */
const AI_SPOKE = `transcript ~ '(^|\\n)\\[\\d+:\\d{2}\\] AI:'`;
const STAFF_SPOKE = `transcript ~ '(^|\\n)\\[\\d+:\\d{2}\\] Staff:'`;

describe('voice-booking profile end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: ProfileTruth;
  const mine = generateApiKey('default', ['read']);

  const pgRows = async <T>(sql: string, params: unknown[] = [FROM, TO]): Promise<T[]> => (await db.pool.query(sql, params)).rows as T[];
  const pgOne = async <T>(sql: string, params: unknown[] = [FROM, TO]): Promise<T> => (await pgRows<T>(sql, params))[0]!;
  const api = async <T>(path: string): Promise<T> => {
    const res = await http.get(path, mine.key);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };

  beforeAll(async () => {
    ({ db, truth } = await generatedProfileSource('voice-booking', { seed: 3, orders: 4000, days: 150, end: END }));
    tw = await openTestWarehouse(db.pool, { PROFILE: 'voice-booking', DEFAULT_CURRENCY: 'USD', API_KEYS: mine.entry });
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(0);
    await refreshRollups(tw.warehouse);
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  it('the generator wrote the bookings it reports, deterministically', async () => {
    const { n } = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM bookings`, []);
    expect(Number(n)).toBe(truth.orders);
    expect(truth.orders).toBeGreaterThanOrEqual(4000);
    const small = { seed: 3, orders: 300, days: 30, end: END };
    const tables = ['bookings', 'calls', 'sms_messages', 'customers'];
    const [a, b] = [await generatorDigest('voice-booking', small, tables), await generatorDigest('voice-booking', small, tables)];
    expect(a).toEqual(b);
    for (const t of tables) expect(a.tables[t], t).not.toBeNull();
  });

  it('summary matches PostgreSQL, and compare=previous_period the window before', async () => {
    const body = await api<{ metrics: Record<string, unknown>; deltas: { orders: { previous: number; change: number } } }>(
      `/v1/kpis/summary?from=${FROM}&to=${TO}&compare=previous_period`);
    const pay = await pgOne<{ gross: string; refunds: string; net: string; ok: string; failed: string; payers: string }>(`
      SELECT sum(payment_amount) FILTER (WHERE ${PAID})::text AS gross,
             coalesce(sum(payment_amount) FILTER (WHERE ${REFUNDED}), 0)::text AS refunds,
             (sum(payment_amount) FILTER (WHERE ${PAID}) - coalesce(sum(payment_amount) FILTER (WHERE ${REFUNDED}), 0))::text AS net,
             count(*) FILTER (WHERE ${PAID})::text AS ok,
             count(*) FILTER (WHERE payment_status = 'failed' AND payment_amount IS NOT NULL)::text AS failed,
             count(DISTINCT customer_phone) FILTER (WHERE ${PAID})::text AS payers
      FROM bookings WHERE ${IN_RANGE}`);
    // Orders placed and paid: every booking whose payment went through, whatever became of it.
    const ord = await pgOne<{ n: string; value: string; aov: string }>(`
      SELECT count(*)::text AS n, sum(payment_amount)::text AS value, round(sum(payment_amount) / count(*), 2)::text AS aov
      FROM bookings WHERE ${PAID} AND ${IN_RANGE}`);
    const fresh = await pgOne<{ n: string }>(`
      SELECT count(*)::text AS n FROM (SELECT customer_phone, min(created_at) AS first FROM bookings WHERE ${PAID} GROUP BY 1) f
      WHERE first >= $1::timestamptz AND first < $2::timestamptz`);
    const m = body.metrics;
    expect(Number(pay.refunds)).toBeGreaterThan(0);
    expectSummaryMatches(m, { pay, ord, fresh }, 'USD');
    // No page views or subscriptions in this source: null, with the reason, never a zero.
    expect(m.page_views).toBeNull();
    expect(m.mrr).toBeNull();
    expect((body as unknown as { unavailable: Record<string, string> }).unavailable.mrr).toMatch(/maps no subscriptions/);
    // [2026-06-01, 2026-09-01) is 92 days; the window before is [2026-03-01, 2026-06-01).
    const prev = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM bookings WHERE ${PAID} AND ${IN_RANGE}`, ['2026-03-01T00:00:00Z', FROM]);
    expect(body.deltas.orders.previous).toBe(Number(prev.n));
    expect(body.deltas.orders.change).toBe((m.orders as number) - Number(prev.n));
  });

  it('daily net revenue and daily orders match PostgreSQL, dense and zero-filled', async () => {
    type Series = { series: { currency: string | null; points: { bucket: string; value: string | number }[] }[] };
    const revenue = await api<Series>(`/v1/kpis/timeseries?metric=revenue_net&granularity=day&from=${FROM}&to=${TO}`);
    const orders = await api<Series>(`/v1/kpis/timeseries?metric=orders&granularity=day&from=${FROM}&to=${TO}`);
    const rows = await pgRows<{ d: string; net: string; n: string }>(`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d,
             (coalesce(sum(payment_amount) FILTER (WHERE ${PAID}), 0) - coalesce(sum(payment_amount) FILTER (WHERE ${REFUNDED}), 0))::text AS net,
             count(*) FILTER (WHERE ${PAID})::text AS n
      FROM bookings WHERE ${IN_RANGE} GROUP BY 1`);
    const net = new Map(rows.map((r) => [r.d, Number(r.net).toFixed(2)]));
    const count = new Map(rows.map((r) => [r.d, Number(r.n)]));
    const points = revenue.series.find((s) => s.currency === 'USD')!.points;
    expect(points).toHaveLength(92);
    for (const p of points) expect(`${p.bucket} ${Number(p.value).toFixed(2)}`).toBe(`${p.bucket} ${net.get(p.bucket) ?? '0.00'}`);
    const orderPoints = orders.series[0]!.points;
    expect(orderPoints).toHaveLength(92);
    for (const p of orderPoints) expect(`${p.bucket} ${Number(p.value)}`).toBe(`${p.bucket} ${count.get(p.bucket) ?? 0}`);
  });

  it('products (service types) match PostgreSQL', async () => {
    const body = await api<{ total: number; items: { product_id: string; units: number; revenue_gross: { amount: string }[]; revenue_net: { amount: string }[]; current_price: { amount: string } | null }[] }>(
      `/v1/kpis/products?from=${FROM}&to=${TO}&limit=10&sort=revenue_gross&order=desc`);
    const rows = await pgRows<{ id: string; units: string; gross: string; net: string; price: string }>(`
      SELECT service_type AS id, count(*) FILTER (WHERE ${IN_RANGE})::text AS units,
             sum(payment_amount) FILTER (WHERE ${IN_RANGE})::text AS gross,
             (sum(payment_amount) FILTER (WHERE ${IN_RANGE}) - coalesce(sum(payment_amount) FILTER (WHERE ${IN_RANGE} AND status = 'cancelled'), 0))::text AS net,
             (SELECT round(avg(payment_amount), 2)::text FROM bookings a WHERE a.service_type = b.service_type) AS price
      FROM bookings b WHERE ${PAID} GROUP BY service_type ORDER BY sum(payment_amount) FILTER (WHERE ${IN_RANGE}) DESC NULLS LAST, 1`);
    expect(body.total).toBe(rows.length);
    expect(body.items.map((p) => [p.product_id, String(p.units), p.revenue_gross[0]?.amount, p.revenue_net[0]?.amount, p.current_price?.amount]))
      .toEqual(rows.map((r) => [r.id, r.units, r.gross, r.net, r.price]));
  });

  it('the forecast job reads the daily series the source holds and serves a forecast', async () => {
    const r = await runForecasts(tw.warehouse, { horizon: 28, levels: [0.8, 0.95], holidays: [] });
    expect(r.runs).toBe(2); // USD net revenue and orders
    const lastDay = Math.floor(Date.parse(r.lastDay!) / 86_400_000);
    const series = await readDailySeries(tw.warehouse, lastDay);
    const rows = await pgRows<{ d: string; net: string; n: string }>(`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d,
             (coalesce(sum(payment_amount) FILTER (WHERE ${PAID}), 0) - coalesce(sum(payment_amount) FILTER (WHERE ${REFUNDED}), 0))::text AS net,
             count(*) FILTER (WHERE ${PAID})::text AS n
      FROM bookings WHERE created_at < $1::date + 1 GROUP BY 1`, [r.lastDay]);
    const revenue = series.find((s) => s.metric === 'revenue_net' && s.currency === 'USD')!;
    const orders = series.find((s) => s.metric === 'orders')!;
    for (const row of rows) {
      const day = Math.floor(Date.parse(row.d) / 86_400_000);
      expect(`${row.d} ${revenue.values[day - revenue.startDay]!.toFixed(2)}`).toBe(`${row.d} ${Number(row.net).toFixed(2)}`);
      expect(`${row.d} ${orders.values[day - orders.startDay]}`).toBe(`${row.d} ${Number(row.n)}`);
    }
    const body = await api<{ series: { currency: string; last_day: string; periods: { point: number }[] }[] }>(`/v1/forecasts/revenue?horizon=28&currency=USD`);
    expect(body.series).toHaveLength(1);
    expect(body.series[0]!.last_day).toBe(r.lastDay);
    expect(body.series[0]!.periods).toHaveLength(28);
    for (const p of body.series[0]!.periods) expect(p.point).toBeGreaterThanOrEqual(0);
  });

  it('the customers job scores every customer; purchase counts agree with SQL on the source', async () => {
    await runCustomers(tw.warehouse, customerOptions(tw.config));
    const [run] = await tw.warehouse.query<{ d: string }>(`SELECT last_day::VARCHAR AS d FROM customer_model_runs`);
    const model = await api<{ customers: number; statuses: Record<string, number> }>('/v1/customers/model');
    const c = await pgOne<{ n: string; buyers: string }>(`
      SELECT (SELECT count(*) FROM (SELECT regexp_replace(phone, '[^0-9+]', '', 'g') FROM customers
                                    UNION SELECT regexp_replace(customer_phone, '[^0-9+]', '', 'g') FROM bookings) u)::text AS n,
             (SELECT count(DISTINCT customer_phone) FROM bookings WHERE ${PURCHASED} AND created_at < $1::date + 1)::text AS buyers`, [run!.d]);
    expect(model.customers).toBe(Number(c.n));
    expect(model.statuses.NO_ORDERS_YET).toBe(Number(c.n) - Number(c.buyers));
    // The most frequent booker, through the per-customer route.
    const top = await pgOne<{ phone: string; n: string }>(`
      SELECT customer_phone AS phone, count(DISTINCT (created_at AT TIME ZONE 'UTC')::date)::text AS n FROM bookings
      WHERE ${PURCHASED} AND created_at < $1::date + 1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1`, [run!.d]);
    const one = await api<{ orders: number }>(`/v1/customers/${encodeURIComponent(top.phone)}`);
    expect(one.orders).toBe(Number(top.n));
  });

  it('conversations: calls and SMS threads with who handled them, first responses and escalations, as the source records them', async () => {
    const wh = await tw.warehouse.query<{ channel: string; handled_by: string | null; escalated: boolean; n: string; secs: string | null }>(`
      SELECT channel, handled_by, escalated, count(*)::VARCHAR AS n, sum(date_diff('second', started_at, first_response_at))::VARCHAR AS secs
      FROM conversations GROUP BY ALL ORDER BY ALL`);
    const calls = await pgRows<{ handled_by: string | null; escalated: boolean; n: string; secs: string | null }>(`
      SELECT CASE WHEN ${AI_SPOKE} AND ${STAFF_SPOKE} THEN 'mixed' WHEN ${AI_SPOKE} THEN 'ai' WHEN ${STAFF_SPOKE} THEN 'human' END AS handled_by,
             coalesce(${AI_SPOKE} AND ${STAFF_SPOKE}, false) OR coalesce(notes ILIKE '%transferred%', false) AS escalated, count(*)::text AS n,
             sum((regexp_match(transcript, '\\[(\\d+):(\\d{2})\\] (?:AI|Staff):'))[1]::int * 60 + (regexp_match(transcript, '\\[(\\d+):(\\d{2})\\] (?:AI|Staff):'))[2]::int)::text AS secs
      FROM calls GROUP BY 1, 2`, []);
    const threads = await pgOne<{ n: string }>(`
      SELECT count(*)::text AS n FROM (
        SELECT direction, created_at - lag(created_at) OVER (PARTITION BY phone_number ORDER BY created_at, id) AS gap FROM sms_messages
                WHERE NOT (direction = 'outbound' AND booking_id IS NOT NULL)) m
      WHERE direction = 'inbound' AND (gap IS NULL OR gap > interval '6 hours')`, []);
    const key = (r: { handled_by: string | null; escalated: boolean; n: string; secs: string | null }) => `${r.handled_by} ${r.escalated} ${r.n} ${r.secs ?? ''}`;
    expect(wh.filter((r) => r.channel === 'voice').map(key).sort()).toEqual(calls.map(key).sort());
    const sms = wh.filter((r) => r.channel === 'sms');
    expect(sms.map((r) => [r.handled_by, r.escalated])).toEqual([['ai', false]]);
    expect(Number(sms[0]!.n)).toBe(Number(threads.n));

    // Orders closed by the AI (voice/sms) and by staff (manual), and those pointing at a conversation.
    const ord = await tw.warehouse.query<{ closed_by: string; n: string; linked: string }>(`
      SELECT closed_by, count(*)::VARCHAR AS n, count(*) FILTER (WHERE conversation_id IN (SELECT conversation_id FROM conversations))::VARCHAR AS linked
      FROM orders GROUP BY ALL ORDER BY ALL`);
    const src = await pgRows<{ closed_by: string; n: string; linked: string }>(`
      SELECT CASE WHEN source IN ('voice', 'sms') THEN 'ai' ELSE 'human' END AS closed_by, count(*)::text AS n,
             count(*) FILTER (WHERE source = 'sms' OR EXISTS (SELECT 1 FROM calls c WHERE c.booking_id = b.id))::text AS linked
      FROM bookings b GROUP BY 1 ORDER BY 1`, []);
    expect(ord).toEqual(src);
  });

  it('AI vs admin: orders per closer and staff-answered calls match SQL on bookings and calls', async () => {
    const body = await api<{ closers: { closer: string; conversations: number; converted: number; orders_closed: number; orders_kept: number;
      revenue: { amount: string }[]; cancel_refund_rate: number | null }[] }>(`/v1/kpis/ai-vs-admin?from=${FROM}&to=${TO}`);
    // Kept = paid and not cancelled; undone = cancelled, or a no-show never paid; pending = unpaid and not yet cancelled or missed.
    const orders = await pgRows<{ closer: string; closed: number; kept: number; revenue: string; undone: number; decided: number }>(`
      WITH o AS (SELECT CASE WHEN lower(source) IN ('voice', 'sms') THEN 'ai' ELSE 'human' END AS closer, lower(payment_status) = 'paid' AS paid,
                        lower(status) AS st, coalesce(payment_amount, 0) AS amt FROM bookings WHERE ${IN_RANGE})
      SELECT closer, count(*)::int AS closed, count(*) FILTER (WHERE paid AND st <> 'cancelled')::int AS kept,
             coalesce(sum(amt) FILTER (WHERE paid AND st <> 'cancelled'), 0)::text AS revenue,
             count(*) FILTER (WHERE st = 'cancelled' OR (st = 'no-show' AND NOT paid))::int AS undone,
             count(*) FILTER (WHERE paid OR st IN ('cancelled', 'no-show'))::int AS decided
      FROM o GROUP BY 1 ORDER BY 1`);
    for (const o of orders) {
      const c = body.closers.find((x) => x.closer === o.closer)!;
      expect(c).toMatchObject({ orders_closed: o.closed, orders_kept: o.kept, revenue: [{ amount: o.revenue }], cancel_refund_rate: o.undone / o.decided });
    }
    // Calls only staff spoke on are the human's conversations; converted when they are a booking's first call.
    const staff = await pgOne<{ n: number; converted: number }>(`
      WITH first_call AS (SELECT DISTINCT ON (booking_id) id FROM calls WHERE booking_id IS NOT NULL ORDER BY booking_id, created_at, id)
      SELECT count(*)::int AS n, count(*) FILTER (WHERE c.id IN (SELECT id FROM first_call))::int AS converted
      FROM calls c WHERE ${STAFF_SPOKE} AND NOT ${AI_SPOKE} AND ${IN_RANGE}`);
    expect(body.closers.find((x) => x.closer === 'human')).toMatchObject({ conversations: staff.n, converted: staff.converted });
  });

  it('the generator\'s ground truth shows in the source: conversion, AOV per channel, escalation, first response, cancellations', async () => {
    const within = (measured: number, expected: number, se: number) => {
      expect(se).toBeGreaterThan(0);
      expect(Math.abs(measured - expected)).toBeLessThan(4 * se);
    };
    const rate = (k: number, n: number, p: number) => within(k / n, p, Math.sqrt((p * (1 - p)) / n));
    const calls = await pgOne<{ ai: string; ai_booked: string; staff: string; staff_booked: string; mixed: string; mixed_booked: string; ai_first: string; staff_first: string }>(`
      SELECT count(*) FILTER (WHERE ${AI_SPOKE} AND NOT ${STAFF_SPOKE})::text AS ai,
             count(booking_id) FILTER (WHERE ${AI_SPOKE} AND NOT ${STAFF_SPOKE})::text AS ai_booked,
             count(*) FILTER (WHERE ${STAFF_SPOKE} AND NOT ${AI_SPOKE})::text AS staff,
             count(booking_id) FILTER (WHERE ${STAFF_SPOKE} AND NOT ${AI_SPOKE})::text AS staff_booked,
             count(*) FILTER (WHERE ${AI_SPOKE} AND ${STAFF_SPOKE})::text AS mixed,
             count(booking_id) FILTER (WHERE ${AI_SPOKE} AND ${STAFF_SPOKE})::text AS mixed_booked,
             avg((regexp_match(transcript, '^\\[00:(\\d{2})\\] AI:'))[1]::int)::text AS ai_first,
             avg((regexp_match(transcript, '^\\[00:(\\d{2})\\] Staff:'))[1]::int)::text AS staff_first
      FROM calls WHERE status = 'completed'`, []);
    const sms = await pgOne<{ threads: string; booked: string }>(`
      SELECT (SELECT count(*) FROM (
                SELECT direction, created_at - lag(created_at) OVER (PARTITION BY phone_number ORDER BY created_at, id) AS gap FROM sms_messages
                WHERE NOT (direction = 'outbound' AND booking_id IS NOT NULL)) m
              WHERE direction = 'inbound' AND (gap IS NULL OR gap > interval '6 hours'))::text AS threads,
             (SELECT count(*) FROM bookings WHERE source = 'sms')::text AS booked`, []);
    const x = truth.extra as { conversion: Record<string, number>; escalation_rate_of_ai_calls: number; aov_by_source: Record<string, number>;
      outcome: { cancelled_share_of_past_appointments: number; no_show_share_of_past_appointments: number } };
    // The AI: AI-only calls and SMS threads pooled, as the closers' truth defines it.
    const aiN = Number(calls.ai) + Number(sms.threads);
    rate(Number(calls.ai_booked) + Number(sms.booked), aiN, truth.closers!.ai.conversion!);
    rate(Number(calls.staff_booked), Number(calls.staff), truth.closers!.human.conversion!);
    rate(Number(calls.mixed_booked), Number(calls.mixed), x.conversion.mixed!);
    rate(Number(sms.booked), Number(sms.threads), x.conversion.ai_sms!);
    rate(Number(calls.mixed), Number(calls.ai) + Number(calls.mixed), x.escalation_rate_of_ai_calls);
    // First responses: the AI answers in 1–3 s (mean 2), staff after 4 s + Gamma(2, 8 s) (mean ~20).
    expect(Number(calls.ai_first)).toBeGreaterThan(1.9);
    expect(Number(calls.ai_first)).toBeLessThan(2.1);
    expect(Number(calls.staff_first)).toBeGreaterThan(17);
    expect(Number(calls.staff_first)).toBeLessThan(23);

    const aov = await pgRows<{ source: string; n: string; mean: string; sd: string }>(`
      SELECT source, count(*)::text AS n, avg(payment_amount)::text AS mean, stddev_samp(payment_amount)::text AS sd FROM bookings GROUP BY 1`, []);
    for (const a of aov) within(Number(a.mean), x.aov_by_source[a.source]!, Number(a.sd) / Math.sqrt(Number(a.n)));
    const bySource = Object.fromEntries(aov.map((a) => [a.source, a]));
    // AOV of the AI's bookings (voice + SMS) and of staff's, the closers' truth.
    const aiMean = (Number(bySource.voice!.mean) * Number(bySource.voice!.n) + Number(bySource.sms!.mean) * Number(bySource.sms!.n)) / (Number(bySource.voice!.n) + Number(bySource.sms!.n));
    within(aiMean, truth.closers!.ai.aov, Number(bySource.voice!.sd) / Math.sqrt(Number(bySource.voice!.n) + Number(bySource.sms!.n)));
    within(Number(bySource.manual!.mean), truth.closers!.human.aov, Number(bySource.manual!.sd) / Math.sqrt(Number(bySource.manual!.n)));
    expect(truth.closers!.human.aov).toBeGreaterThan(truth.closers!.ai.aov);

    const past = await pgOne<{ n: string; cancelled: string; no_show: string }>(`
      SELECT count(*)::text AS n, count(*) FILTER (WHERE status = 'cancelled')::text AS cancelled, count(*) FILTER (WHERE status = 'no-show')::text AS no_show
      FROM bookings WHERE scheduled_at < $1::timestamptz`, [truth.end]);
    rate(Number(past.cancelled), Number(past.n), x.outcome.cancelled_share_of_past_appointments);
    rate(Number(past.no_show), Number(past.n), x.outcome.no_show_share_of_past_appointments);
  });

  // Last: these change the source.
  it('rejects a booking in an unknown currency and one with a negative amount, with reasons', async () => {
    const base = `INSERT INTO bookings (id, customer_name, customer_phone, service_type, appointment_date, appointment_time, status, source, payment_amount, payment_currency, payment_status)
      VALUES ($1, 'Bad Row', '+15550000000', 'Wash & Fold Pickup', '2026-12-01', '10:00 AM', 'confirmed', 'voice', $2, $3, 'paid')`;
    const currency = '00000000-0000-4000-8000-000000000001';
    const negative = '00000000-0000-4000-8000-000000000002';
    await db.pool.query(base, [currency, '40.00', 'XYZ']);
    await db.pool.query(base, [negative, '-40.00', 'USD']);
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBeGreaterThan(0);
    const rejected = await tw.warehouse.query<{ entity: string; key: string; reason: string }>(
      `SELECT entity, key, reason FROM rejected_rows WHERE key LIKE '%00000000-0000-4000-8000-00000000000%' ORDER BY entity, key`);
    expect(rejected).toEqual([
      { entity: 'order_items', key: `default|${negative}|1`, reason: 'negative unit_price: -40.00' },
      { entity: 'orders', key: `default|${currency}`, reason: 'unknown currency (currency): XYZ' },
      { entity: 'orders', key: `default|${negative}`, reason: 'negative total: -40.00' },
      { entity: 'payments', key: `default|${currency}`, reason: 'unknown currency (currency): XYZ' },
      { entity: 'payments', key: `default|${negative}`, reason: 'negative amount: -40.00' },
    ]);
    const [n] = await tw.warehouse.query<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM orders WHERE order_id IN ('${currency}', '${negative}')`);
    expect(n!.n).toBe('0');
  });

  it('an incremental ingest picks up a paid booking cancelled at the source: a refund in the summary', async () => {
    const { id } = await pgOne<{ id: string }>(`SELECT id::text AS id FROM bookings WHERE ${PAID} AND status = 'completed' AND ${IN_RANGE} ORDER BY id LIMIT 1`);
    const refunds = async () => (await api<{ metrics: { refunds: { amount: string }[] } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`)).metrics.refunds[0]!.amount;
    const before = await refunds();
    // The seed's trigger stamps updated_at = now(), which moves the booking past the watermark.
    await db.pool.query(`UPDATE bookings SET status = 'cancelled' WHERE id = $1`, [id]);
    await ingestAll(tw.ctx);
    await refreshRollups(tw.warehouse);
    const expected = await pgOne<{ refunds: string }>(`SELECT sum(payment_amount)::text AS refunds FROM bookings WHERE ${REFUNDED} AND ${IN_RANGE}`);
    expect(await refunds()).toBe(expected.refunds);
    expect(await refunds()).not.toBe(before);
    const [o] = await tw.warehouse.query<{ status: string; raw_status: string }>(`SELECT status, raw_status FROM orders WHERE order_id = $id`, { id });
    expect(o).toEqual({ status: 'refunded', raw_status: 'cancelled' });
  });
});
