import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { customerOptions } from '../../src/jobs/definitions.ts';
import { runCustomers } from '../../src/models/customers/run-customers.ts';
import { readDailySeries, runForecasts } from '../../src/models/forecast/run-forecasts.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { generateFieldServices, PLANS } from '../../src/synth/field-services.ts';
import type { ProfileTruth } from '../../src/synth/profile-generator.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedProfileSource, generatorDigest, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * The field-services profile (seed 002) end to end: generated source → ingest → rollups and models →
 * HTTP, every figure compared with the same metric computed in PostgreSQL on the seed's own tables and
 * status words ('completed', 'cancelled', created_by_role, call_sessions.metadata).
 */
const END = '2026-09-15T00:00:00Z';
const FROM = '2026-07-01T00:00:00Z';
const TO = '2026-09-01T00:00:00Z';
/** Completed service orders: the jobs billed and paid. */
const COMPLETED = `lower(o.status) = 'completed'`;
/** What a completed job was billed: the invoice's final price, or the agreed price while the invoice holds 0. */
const BILLED = `CASE WHEN coalesce(btrim(o.invoice->>'final_price'), '') ~ '^0*(\\.0*)?$' THEN o.dealing_price ELSE (o.invoice->>'final_price')::numeric END`;
const SERVICE_DAY = `coalesce(o.scheduled_date, o.created_at)`;
const PHONE = `regexp_replace(o.customer_phone, '[^0-9]', '', 'g')`;
const IN_RANGE = (col: string) => `${col} >= $1::timestamptz AND ${col} < $2::timestamptz`;

describe('field-services profile end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: ProfileTruth;
  const mine = generateApiKey('default', ['read']);

  const pgOne = async <T>(sql: string, params: unknown[] = [FROM, TO]): Promise<T> => (await db.pool.query(sql, params)).rows[0] as T;
  const api = async <T>(path: string): Promise<T> => {
    const res = await http.get(path, mine.key);
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  };
  const usd = (amount: string) => [{ currency: 'USD', amount }];

  beforeAll(async () => {
    ({ db, truth } = await generatedProfileSource('field-services', { seed: 7, orders: 5000, days: 150, end: new Date(END) }));
    tw = await openTestWarehouse(db.pool, { PROFILE: 'field-services', DEFAULT_CURRENCY: 'USD', API_KEYS: mine.entry });
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(0);
    const { rows: [counts] } = await db.pool.query<{ orders: string; calls: string }>(`SELECT (SELECT count(*) FROM orders)::text AS orders, (SELECT count(*) FROM call_sessions)::text AS calls`);
    expect([truth.orders, (truth.extra!.tables as Record<string, number>).call_sessions]).toEqual([Number(counts!.orders), Number(counts!.calls)]);
    await refreshRollups(tw.warehouse);
    await runCustomers(tw.warehouse, customerOptions(tw.config));
    await runForecasts(tw.warehouse, { horizon: 14, levels: [0.8, 0.95], holidays: [] });
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  const pgMrr = (at: string) => pgOne<{ mrr: string | null }>(`
    SELECT sum(round(CASE p.billing_interval WHEN 'yearly' THEN p.price_usd / 12 ELSE p.price_usd END, 2))::text AS mrr
    FROM user_subscriptions s JOIN subscription_plans p ON p.id = s.plan_id
    WHERE s.created_at <= $1::timestamptz AND (s.canceled_at IS NULL OR s.canceled_at > $1::timestamptz) AND s.status <> 'trialing'`, [at]);

  it('summary matches PostgreSQL on the seed tables', async () => {
    const body = await api<{ metrics: Record<string, unknown> }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`);
    const pay = await pgOne<{ gross: string; payers: string }>(`
      SELECT sum(${BILLED})::text AS gross, count(DISTINCT ${PHONE})::text AS payers
      FROM orders o WHERE ${COMPLETED} AND ${IN_RANGE(SERVICE_DAY)}`);
    const ord = await pgOne<{ n: string; value: string; aov: string }>(`
      SELECT count(*)::text AS n, sum(o.dealing_price)::text AS value, round(sum(o.dealing_price) / count(*), 2)::text AS aov
      FROM orders o WHERE ${COMPLETED} AND ${IN_RANGE('o.created_at')}`);
    const fresh = await pgOne<{ n: string }>(`
      SELECT count(*)::text AS n FROM (SELECT ${PHONE} AS c, min(${SERVICE_DAY}) AS first FROM orders o WHERE ${COMPLETED} GROUP BY 1) f
      WHERE ${IN_RANGE('f.first')}`);
    const churn = await pgOne<{ cancels: string; active: string }>(`
      SELECT count(*) FILTER (WHERE ${IN_RANGE('s.canceled_at')})::text AS cancels,
             count(*) FILTER (WHERE s.status <> 'trialing' AND s.created_at <= $1::timestamptz
               AND (s.canceled_at IS NULL OR s.canceled_at > $1::timestamptz))::text AS active
      FROM user_subscriptions s`);
    const m = body.metrics;
    expect(m.revenue_gross).toEqual(usd(pay.gross));
    expect(m.revenue_net).toEqual(usd(pay.gross));
    expect((m.refunds as { amount: string }[]).map((r) => Number(r.amount))).toEqual([0]);
    expect(m.orders).toBe(Number(ord.n));
    expect(m.order_value).toEqual(usd(ord.value));
    expect(m.aov).toEqual(usd(ord.aov));
    expect(m.paying_customers).toBe(Number(pay.payers));
    expect(m.new_customers).toBe(Number(fresh.n));
    expect(m.payment_success_rate).toBe(1);
    expect(m.mrr).toEqual(usd((await pgMrr(TO)).mrr!));
    expect(m.subscription_churn).toBeCloseTo(Number(churn.cancels) / Number(churn.active), 12);
    // The two prices differ: revenue is billed final prices, order value agreed dealing prices.
    expect(Number(pay.gross)).toBeGreaterThan(0);
    expect(pay.gross).not.toBe(ord.value);
  });

  it('compare=previous_period counts the orders of the window before', async () => {
    const body = await api<{ metrics: { orders: number }; deltas: { orders: { previous: number; change: number } } }>(
      `/v1/kpis/summary?from=${FROM}&to=${TO}&compare=previous_period`);
    const prev = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM orders o WHERE ${COMPLETED}
      AND o.created_at >= '2026-04-30T00:00:00Z' AND o.created_at < '2026-07-01T00:00:00Z'`, []);
    expect(body.deltas.orders.previous).toBe(Number(prev.n));
    expect(body.deltas.orders.change).toBe(body.metrics.orders - Number(prev.n));
  });

  it('daily revenue and daily orders match PostgreSQL, zero-filled', async () => {
    type Series = { series: { currency: string | null; points: { bucket: string; value: string | number }[] }[] };
    const revenue = await api<Series>(`/v1/kpis/timeseries?metric=revenue_net&granularity=day&from=${FROM}&to=${TO}`);
    const orders = await api<Series>(`/v1/kpis/timeseries?metric=orders&granularity=day&from=${FROM}&to=${TO}`);
    const { rows: rev } = await db.pool.query<{ d: string; v: string }>(`
      SELECT to_char(${SERVICE_DAY}, 'YYYY-MM-DD') AS d, sum(${BILLED})::text AS v
      FROM orders o WHERE ${COMPLETED} AND ${IN_RANGE(SERVICE_DAY)} GROUP BY 1`, [FROM, TO]);
    const { rows: ord } = await db.pool.query<{ d: string; n: string }>(`
      SELECT to_char(o.created_at, 'YYYY-MM-DD') AS d, count(*)::text AS n
      FROM orders o WHERE ${COMPLETED} AND ${IN_RANGE('o.created_at')} GROUP BY 1`, [FROM, TO]);
    const revBy = new Map(rev.map((r) => [r.d, Number(r.v)]));
    const ordBy = new Map(ord.map((r) => [r.d, Number(r.n)]));
    const revPoints = revenue.series.find((s) => s.currency === 'USD')!.points;
    expect(revPoints).toHaveLength(62);
    for (const p of revPoints) expect(`${p.bucket} ${Number(p.value).toFixed(2)}`).toBe(`${p.bucket} ${(revBy.get(p.bucket) ?? 0).toFixed(2)}`);
    const ordPoints = orders.series[0]!.points;
    expect(ordPoints).toHaveLength(62);
    for (const p of ordPoints) expect(`${p.bucket} ${Number(p.value)}`).toBe(`${p.bucket} ${ordBy.get(p.bucket) ?? 0}`);
  });

  it('products are the service types: units, revenue and current price match PostgreSQL', async () => {
    const body = await api<{ items: { product_id: string; name: string; units: number; revenue_gross: { amount: string }[]; current_price: { amount: string } | null }[] }>(
      `/v1/kpis/products?from=${FROM}&to=${TO}&limit=10`);
    const { rows } = await db.pool.query<{ id: string; units: string; gross: string }>(`
      SELECT o.service_type AS id, count(*)::text AS units, sum(${BILLED})::text AS gross
      FROM orders o WHERE ${COMPLETED} AND ${IN_RANGE(SERVICE_DAY)} GROUP BY 1 ORDER BY sum(${BILLED}) DESC, 1`, [FROM, TO]);
    expect(body.items.map((p) => [p.product_id, String(p.units), p.revenue_gross[0]?.amount])).toEqual(rows.map((r) => [r.id, r.units, r.gross]));
    const { rows: prices } = await db.pool.query<{ id: string; price: string }>(`
      SELECT o.service_type AS id, round(avg(o.dealing_price) FILTER (WHERE ${COMPLETED} AND o.created_at > l.last - interval '90 days'), 2)::text AS price
      FROM orders o JOIN (SELECT service_type, max(created_at) AS last FROM orders GROUP BY 1) l USING (service_type) GROUP BY 1`);
    const price = new Map(prices.map((p) => [p.id, p.price]));
    for (const p of body.items) expect([p.product_id, p.current_price?.amount]).toEqual([p.product_id, price.get(p.product_id)]);
  });

  it('customers are the phone numbers that booked: the model scores each one', async () => {
    const model = await api<{ customers: number; statuses: Record<string, number> }>('/v1/customers/model');
    const [run] = await tw.warehouse.query<{ d: string }>(`SELECT last_day::VARCHAR AS d FROM customer_model_runs`);
    const c = await pgOne<{ n: string; buyers: string }>(`
      SELECT count(DISTINCT ${PHONE})::text AS n,
             count(DISTINCT ${PHONE}) FILTER (WHERE ${COMPLETED} AND o.created_at < $1::date + 1)::text AS buyers FROM orders o`, [run!.d]);
    expect(model.customers).toBe(Number(c.n));
    expect(model.statuses.NO_ORDERS_YET ?? 0).toBe(Number(c.n) - Number(c.buyers));
    expect(Object.values(model.statuses).reduce((a, b) => a + b, 0)).toBe(model.customers);
  });

  it('the revenue forecast is fitted on the billed revenue of PostgreSQL', async () => {
    const body = await api<{ series: { currency: string; periods: { point: number }[] }[] }>('/v1/forecasts/revenue?horizon=14&currency=USD');
    expect(body.series.map((s) => [s.currency, s.periods.length])).toEqual([['USD', 14]]);
    const [state] = await tw.warehouse.query<{ d: string }>(`SELECT max(last_day)::VARCHAR AS d FROM forecast_runs`);
    const lastDay = Math.floor(Date.parse(state!.d) / 86_400_000);
    const series = (await readDailySeries(tw.warehouse, lastDay)).find((s) => s.metric === 'revenue_net' && s.currency === 'USD')!;
    const { rows } = await db.pool.query<{ d: string; v: string }>(`
      SELECT to_char(${SERVICE_DAY}, 'YYYY-MM-DD') AS d, sum(${BILLED})::text AS v FROM orders o
      WHERE ${COMPLETED} AND ${SERVICE_DAY} < $1::date + 1 GROUP BY 1`, [state!.d]);
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows) {
      const day = Math.floor(Date.parse(r.d) / 86_400_000);
      expect(series.values[day - series.startDay]).toBeCloseTo(Number(r.v), 6);
    }
  });

  it('conversations and closers in the warehouse match call_sessions and created_by_role', async () => {
    const { rows: calls } = await db.pool.query<{ k: string; n: string }>(`
      SELECT CASE WHEN agent_id IS NULL THEN 'human' WHEN (metadata->>'escalated_to_human')::boolean THEN 'mixed' ELSE 'ai' END AS k, count(*)::text AS n
      FROM call_sessions GROUP BY 1`);
    const conv = await tw.warehouse.query<{ k: string; n: string }>(`SELECT handled_by AS k, count(*)::VARCHAR AS n FROM conversations GROUP BY 1`);
    expect(Object.fromEntries(conv.map((r) => [r.k, r.n]))).toEqual(Object.fromEntries(calls.map((r) => [r.k, r.n])));
    const { rows: roles } = await db.pool.query<{ k: string; n: string; linked: string }>(`
      SELECT CASE o.created_by_role WHEN 'ai_agent' THEN 'ai' WHEN 'admin' THEN 'human' ELSE 'none' END AS k, count(*)::text AS n,
             count(c.ref)::text AS linked
      FROM orders o LEFT JOIN (SELECT DISTINCT metadata->>'order_id' AS ref FROM call_sessions) c ON c.ref = o.order_id GROUP BY 1`);
    const closers = await tw.warehouse.query<{ k: string; n: string; linked: string }>(`
      SELECT coalesce(closed_by, 'none') AS k, count(*)::VARCHAR AS n, count(conversation_id)::VARCHAR AS linked FROM orders GROUP BY 1`);
    expect(Object.fromEntries(closers.map((r) => [r.k, `${r.n}/${r.linked}`]))).toEqual(Object.fromEntries(roles.map((r) => [r.k, `${r.n}/${r.linked}`])));
  });

  it('AI vs admin: conversations, conversion, closers, revenue, AOV and cancel rate match PostgreSQL', async () => {
    type Stats = { closer: 'ai' | 'human'; conversations: number; converted: number; escalations: number | null; median_first_response_seconds: number;
      orders_closed: number; orders_kept: number; revenue: { amount: string }[]; aov: { amount: string }[]; cancel_refund_rate: number };
    const body = await api<{ currency: string; closers: Stats[] }>(`/v1/kpis/ai-vs-admin?from=${FROM}&to=${TO}`);
    const { rows: calls } = await db.pool.query<{ k: string; n: string; won: string; esc: string; med: number }>(`
      SELECT CASE WHEN c.agent_id IS NULL THEN 'human' ELSE 'ai' END AS k, count(*)::text AS n, count(o.order_id)::text AS won,
             count(*) FILTER (WHERE (c.metadata->>'escalated_to_human')::boolean)::text AS esc,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM c.answered_at - c.created_at)) AS med
      FROM call_sessions c LEFT JOIN orders o ON o.order_id = c.metadata->>'order_id'
      WHERE ${IN_RANGE('c.created_at')} GROUP BY 1`, [FROM, TO]);
    const { rows: closed } = await db.pool.query<{ k: string; n: string; kept: string; revenue: string; aov: string; undone: string; decided: string }>(`
      SELECT CASE o.created_by_role WHEN 'ai_agent' THEN 'ai' ELSE 'human' END AS k, count(*)::text AS n,
             count(*) FILTER (WHERE ${COMPLETED})::text AS kept, sum(o.dealing_price) FILTER (WHERE ${COMPLETED})::text AS revenue,
             round(sum(o.dealing_price) FILTER (WHERE ${COMPLETED}) / count(*) FILTER (WHERE ${COMPLETED}), 2)::text AS aov,
             count(*) FILTER (WHERE o.status = 'cancelled')::text AS undone, count(*) FILTER (WHERE o.status IN ('completed', 'cancelled'))::text AS decided
      FROM orders o WHERE o.created_by_role IN ('ai_agent', 'admin') AND ${IN_RANGE('o.created_at')} GROUP BY 1`, [FROM, TO]);
    expect(body.currency).toBe('USD');
    for (const c of body.closers) {
      const call = calls.find((r) => r.k === c.closer)!;
      const ord = closed.find((r) => r.k === c.closer)!;
      expect([c.conversations, c.converted], `${c.closer} conversations`).toEqual([Number(call.n), Number(call.won)]);
      if (c.closer === 'ai') expect(c.escalations).toBe(Number(call.esc));
      expect(c.median_first_response_seconds).toBeCloseTo(call.med, 3);
      expect([c.orders_closed, c.orders_kept, c.revenue[0]?.amount, c.aov[0]?.amount], `${c.closer} orders`).toEqual([Number(ord.n), Number(ord.kept), ord.revenue, ord.aov]);
      expect(c.cancel_refund_rate).toBeCloseTo(Number(ord.undone) / Number(ord.decided), 12);
    }
    // Ruled out in the manifest: no country in the seed, no list prices to optimise.
    for (const path of [`/v1/kpis/countries?from=${FROM}&to=${TO}`, '/v1/pricing/recommendations']) expect((await http.get(path, mine.key)).status, path).toBe(404);
  });

  it('the generator truth is visible in the source: conversion, AOV, price ratio, answer times, churn', async () => {
    // Conversion per first responder: AI-agent calls (escalated ones included) and staff calls with an order naming them.
    const { rows: conv } = await db.pool.query<{ k: string; n: string; won: string }>(`
      SELECT CASE WHEN agent_id IS NULL THEN 'human' ELSE 'ai' END AS k, count(*)::text AS n,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM orders o WHERE o.order_id = c.metadata->>'order_id'))::text AS won
      FROM call_sessions c GROUP BY 1`);
    for (const r of conv) {
      const p = truth.closers![r.k as 'ai' | 'human'].conversion!;
      const n = Number(r.n);
      expect(Math.abs(Number(r.won) / n - p), `${r.k} conversion`).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
    // AOV per closer: the agreed price of the orders each created.
    const { rows: aov } = await db.pool.query<{ k: string; n: string; mean: string; sd: string }>(`
      SELECT CASE created_by_role WHEN 'ai_agent' THEN 'ai' ELSE 'human' END AS k, count(*)::text AS n,
             avg(dealing_price)::text AS mean, stddev_samp(dealing_price)::text AS sd
      FROM orders WHERE created_by_role IN ('ai_agent', 'admin') GROUP BY 1`);
    for (const r of aov) {
      const se = Number(r.sd) / Math.sqrt(Number(r.n));
      expect(Math.abs(Number(r.mean) - truth.closers![r.k as 'ai' | 'human'].aov), `${r.k} AOV`).toBeLessThan(4 * se);
    }
    expect(truth.closers!.human.aov).toBeGreaterThan(truth.closers!.ai.aov);
    // final_price / dealing_price of completed jobs.
    const ratio = await pgOne<{ n: string; mean: string; sd: string; same: string }>(`
      SELECT count(*)::text AS n, avg(r)::text AS mean, stddev_samp(r)::text AS sd, avg((r = 1)::int)::text AS same
      FROM (SELECT (o.invoice->>'final_price')::numeric / o.dealing_price AS r FROM orders o WHERE ${COMPLETED}) x`, []);
    const pr = truth.extra!.price_ratio as { mean: number; same: number };
    expect(Math.abs(Number(ratio.mean) - pr.mean)).toBeLessThan(4 * Number(ratio.sd) / Math.sqrt(Number(ratio.n)));
    // "same" is exact up to cent rounding of tiny ratios: allow the binomial error.
    expect(Math.abs(Number(ratio.same) - pr.same)).toBeLessThan(4 * Math.sqrt(pr.same * (1 - pr.same) / Number(ratio.n)) + 0.01);
    // Median answer time per closer (lognormal: median = mean × exp(−σ²/2)), within 10 %.
    const { rows: answer } = await db.pool.query<{ k: string; med: string }>(`
      SELECT CASE WHEN agent_id IS NULL THEN 'human' ELSE 'ai' END AS k,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - created_at))::text AS med
      FROM call_sessions WHERE answered_at IS NOT NULL GROUP BY 1`);
    const med = (truth.extra!.answer_seconds as { median: Record<string, number> }).median;
    for (const r of answer) expect(Number(r.med) / med[r.k]!, `${r.k} median answer`).toBeCloseTo(1, 0.9);
    // Churn per monthly plan: cancellations per renewal reached.
    const { rows: churn } = await db.pool.query<{ plan: string; renewals: string; cancels: string }>(`
      SELECT s.plan_id AS plan, sum((SELECT count(*) FROM generate_series(1, 60) k
               WHERE s.created_at + make_interval(months => k) <= coalesce(s.canceled_at, $1::timestamptz))) ::text AS renewals,
             count(*) FILTER (WHERE s.canceled_at IS NOT NULL)::text AS cancels
      FROM user_subscriptions s WHERE s.plan_id IN ('basic', 'pro') GROUP BY 1`, [END]);
    for (const r of churn) {
      const h = PLANS.find((p) => p.id === r.plan)!.cancelAtRenewal;
      const n = Number(r.renewals);
      expect(Math.abs(Number(r.cancels) / n - h), `${r.plan} churn`).toBeLessThan(4 * Math.sqrt((h * (1 - h)) / n));
    }
  });

  it('the generator is deterministic: same seed and options, byte-identical tables', async () => {
    const small = { seed: 3, orders: 400, days: 60, end: new Date(END) };
    const tables = ['user_profiles', 'user_subscriptions', 'orders', 'call_sessions', 'ai_agents', 'calling_campaigns'];
    const [a, b] = [await generatorDigest('field-services', small, tables), await generatorDigest('field-services', small, tables)];
    expect(a).toEqual(b);
    expect(a.truth.orders).toBeGreaterThanOrEqual(400);
    for (const t of tables) expect(a.tables[t], t).not.toBeNull();
  });

  // Last: these change the source.
  it('bad source rows are rejected with a reason; an incremental run picks up a completed job', async () => {
    await db.pool.query(`INSERT INTO orders (order_id, customer_name, customer_phone, service_type, status, dealing_price, created_by_role, created_at, updated_at)
      VALUES ('BAD-NEG', 'Bad', '+15559999999', 'plumbing', 'new', -50, 'admin', '2026-09-15 01:00+00', '2026-09-15 01:00+00')`);
    await db.pool.query(`INSERT INTO orders (order_id, customer_name, customer_phone, service_type, status, dealing_price, invoice, created_by_role, created_at, updated_at, scheduled_date)
      VALUES ('BAD-MONEY', 'Bad', '+15559999998', 'cleaning', 'completed', 120, '{"final_price": "n/a"}', 'admin', '2026-09-15 01:00+00', '2026-09-15 02:00+00', '2026-09-15 01:30+00')`);
    const { rows: [open] } = await db.pool.query<{ id: string }>(`SELECT id::text FROM orders WHERE status IN ('accepted', 'processing', 'on_way') ORDER BY created_at LIMIT 1`);
    await db.pool.query(`UPDATE orders SET status = 'completed', invoice = jsonb_set(invoice, '{final_price}', '333.33'), updated_at = '2026-09-15 03:00+00' WHERE id = $1`, [open!.id]);

    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBeGreaterThanOrEqual(2);
    const rejected = await tw.warehouse.query<{ entity: string; reason: string }>(`SELECT entity, reason FROM rejected_rows ORDER BY entity, reason`);
    const { rows: ids } = await db.pool.query<{ id: string; order_id: string }>(`SELECT id::text, order_id FROM orders WHERE order_id LIKE 'BAD-%'`);
    const keyOf = (ref: string) => `default|${ids.find((r) => r.order_id === ref)!.id}`;
    const keyed = await tw.warehouse.query<{ entity: string; key: string; reason: string }>(`SELECT entity, key, reason FROM rejected_rows`);
    expect(keyed).toEqual(expect.arrayContaining([
      { entity: 'orders', key: keyOf('BAD-NEG'), reason: 'negative total: -50.00' },
      { entity: 'payments', key: keyOf('BAD-MONEY'), reason: 'unparsable number amount: n/a' },
    ]));
    expect(rejected.length).toBeGreaterThanOrEqual(2);

    const [order] = await tw.warehouse.query<{ status: string; raw_status: string }>(`SELECT status, raw_status FROM orders WHERE order_id = $id`, { id: open!.id });
    expect(order).toEqual({ status: 'fulfilled', raw_status: 'completed' });
    const [payment] = await tw.warehouse.query<{ amount: string; status: string }>(`SELECT amount::VARCHAR AS amount, status FROM payments WHERE payment_id = $id`, { id: open!.id });
    expect(payment).toEqual({ amount: '333.33', status: 'succeeded' });
  });
});
