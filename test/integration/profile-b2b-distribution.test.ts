import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { reconcileAll } from '../../src/ingest/reconcile.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { customerOptions } from '../../src/jobs/definitions.ts';
import { runCustomers } from '../../src/models/customers/run-customers.ts';
import { runForecasts } from '../../src/models/forecast/run-forecasts.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import type { ProfileTruth } from '../../src/synth/profile-generator.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedProfileSource, generatorDigest, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * b2b-distribution (seed 001, multi-tenant by distributor_id) end to end: generated source →
 * PostgreSQL → ingest → rollups and models → HTTP with one key per distributor. Every figure is
 * checked per distributor against SQL on the source schema in its own words (CONFIRMED orders, the
 * order's received date and time in the distributor's time zone, messages and ai_responses), never
 * against the canonical tables.
 */
const END = new Date('2026-11-01T00:00:00Z');
const FROM = '2026-08-01T00:00:00Z';
const TO = '2026-10-15T00:00:00Z';
/** When an order was received, as an instant: the seed's received_date + received_time in the distributor's zone. */
const RECEIVED = `((o.received_date + o.received_time) AT TIME ZONE d.timezone)`;
const IN_RANGE = `${RECEIVED} >= $2::timestamptz AND ${RECEIVED} < $3::timestamptz`;
/** A distributor message sent by the AI: a used AI response to the message it answers, with its text. */
const BY_AI = `EXISTS (SELECT 1 FROM ai_responses r WHERE r.message_id = m.reply_to_message_id AND r.was_used AND r.response_content = m.content)`;

describe('b2b-distribution profile end to end (per distributor)', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: ProfileTruth;
  let A: string;
  let B: string;
  let keyA: ReturnType<typeof generateApiKey>;
  let keyB: ReturnType<typeof generateApiKey>;
  const keyOf = (t: string) => (t === A ? keyA.key : keyB.key);

  const pgRows = async <T>(sql: string, params: unknown[]): Promise<T[]> => (await db.pool.query(sql, params)).rows as T[];
  const pgOne = async <T>(sql: string, params: unknown[]): Promise<T> => (await pgRows<T>(sql, params))[0]!;
  const api = async <T = Record<string, unknown>>(path: string, tenant: string): Promise<{ status: number; body: T }> => {
    const res = await http.get(path, keyOf(tenant));
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    ({ db, truth } = await generatedProfileSource('b2b-distribution', { seed: 5, orders: 4500, days: 150, tenants: 3, end: END }));
    [A, B] = truth.tenants as [string, string];
    keyA = generateApiKey(A, ['read']);
    keyB = generateApiKey(B, ['read']);
    tw = await openTestWarehouse(db.pool, { PROFILE: 'b2b-distribution', DEFAULT_CURRENCY: 'USD', API_KEYS: `${keyA.entry},${keyB.entry}` });
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(0);
    await refreshRollups(tw.warehouse);
    await runCustomers(tw.warehouse, customerOptions(tw.config));
    await runForecasts(tw.warehouse, { horizon: 30, levels: [0.8, 0.95], holidays: [] });
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  /** The summary's order and money figures for one distributor, from its CONFIRMED orders. */
  const pgSummary = (tenant: string, from = FROM, to = TO) => pgOne<{ n: string; value: string; aov: string; payers: string; fresh: string }>(`
    SELECT count(*)::text AS n, coalesce(sum(o.total_amount), 0)::text AS value, round(sum(o.total_amount) / count(*), 2)::text AS aov,
           count(DISTINCT o.customer_id)::text AS payers,
           (SELECT count(*) FROM (
              SELECT o2.customer_id, min((o2.received_date + o2.received_time) AT TIME ZONE d2.timezone) AS first
              FROM orders o2 JOIN distributors d2 ON d2.id = o2.distributor_id
              WHERE o2.distributor_id = $1 AND o2.status = 'CONFIRMED' GROUP BY 1) f
            WHERE f.first >= $2::timestamptz AND f.first < $3::timestamptz)::text AS fresh
    FROM orders o JOIN distributors d ON d.id = o.distributor_id
    WHERE o.distributor_id = $1 AND o.status = 'CONFIRMED' AND ${IN_RANGE}`, [tenant, from, to]);

  it('summary of each distributor matches SQL on its own orders, and differs between them', async () => {
    const seen: number[] = [];
    for (const t of [A, B]) {
      const { status, body } = await api<{ tenant: string; metrics: Record<string, unknown> }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`, t);
      expect(status).toBe(200);
      expect(body.tenant).toBe(t);
      const s = await pgSummary(t);
      const m = body.metrics;
      expect(Number(s.n)).toBeGreaterThan(100);
      expect(m.revenue_gross).toEqual([{ currency: 'USD', amount: s.value }]);
      expect(m.refunds).toEqual([{ currency: 'USD', amount: '0.00' }]);
      expect(m.revenue_net).toEqual([{ currency: 'USD', amount: s.value }]);
      expect(m.orders).toBe(Number(s.n));
      expect(m.order_value).toEqual([{ currency: 'USD', amount: s.value }]);
      expect(m.aov).toEqual([{ currency: 'USD', amount: s.aov }]);
      expect(m.paying_customers).toBe(Number(s.payers));
      expect(m.new_customers).toBe(Number(s.fresh));
      expect(m.payment_success_rate).toBe(1);
      seen.push(m.orders as number);
    }
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('compare=previous_period: the orders of the same-length window before, per distributor', async () => {
    for (const t of [A, B]) {
      const { body } = await api<{ metrics: { orders: number }; deltas: { orders: { previous: number; change: number } } }>(
        `/v1/kpis/summary?from=${FROM}&to=${TO}&compare=previous_period`, t);
      // [08-01, 10-15) is 75 days; the window before is [05-18, 08-01).
      const prev = await pgSummary(t, '2026-05-18T00:00:00Z', FROM);
      expect(body.deltas.orders.previous).toBe(Number(prev.n));
      expect(body.deltas.orders.change).toBe(body.metrics.orders - Number(prev.n));
    }
  });

  it('daily net revenue (in the distributor’s own zone) and daily orders match SQL, zero-filled', async () => {
    for (const t of [A, B]) {
      const { tz } = await pgOne<{ tz: string }>(`SELECT timezone AS tz FROM distributors WHERE id = $1`, [t]);
      const q = `granularity=day&from=2026-09-01&to=2026-10-01&tz=${encodeURIComponent(tz!)}`;
      const rev = await api<{ series: { currency: string; points: { bucket: string; value: string }[] }[] }>(`/v1/kpis/timeseries?metric=revenue_net&${q}`, t);
      const ord = await api<{ series: { points: { bucket: string; value: number }[] }[] }>(`/v1/kpis/timeseries?metric=orders&${q}`, t);
      expect(rev.status).toBe(200);
      const rows = await pgRows<{ d: string; net: string; n: string }>(`
        SELECT o.received_date::text AS d, sum(o.total_amount)::text AS net, count(*)::text AS n
        FROM orders o JOIN distributors d ON d.id = o.distributor_id
        WHERE o.distributor_id = $1 AND o.status = 'CONFIRMED' AND o.received_date >= '2026-09-01' AND o.received_date < '2026-10-01'
        GROUP BY 1`, [t]);
      const byDay = new Map(rows.map((r) => [r.d, r]));
      const points = rev.body.series.find((s) => s.currency === 'USD')!.points;
      expect(points).toHaveLength(30);
      for (const p of points) expect(`${p.bucket} ${Number(p.value).toFixed(2)}`).toBe(`${p.bucket} ${Number(byDay.get(p.bucket)?.net ?? 0).toFixed(2)}`);
      const counts = ord.body.series[0]!.points;
      expect(counts.map((p) => `${p.bucket} ${p.value}`)).toEqual(points.map((p) => `${p.bucket} ${Number(byDay.get(p.bucket)?.n ?? 0)}`));
    }
  });

  it('products: sales and session cart adds per product match SQL; funnel and pricing are not applicable', async () => {
    for (const t of [A, B]) {
      const { status, body } = await api<{ total: number; items: { product_id: string; purchases: number; cart_adds: number; current_price: { amount: string } }[] }>(
        `/v1/kpis/products?from=${FROM}&to=${TO}&sort=purchases&limit=5`, t);
      expect(status).toBe(200);
      const top = await pgRows<{ id: string; sold: string; carts: string; price: string }>(`
        WITH sold AS (
          SELECT op.matched_product_id AS id, sum(op.quantity) AS sold
          FROM order_products op JOIN orders o ON o.id = op.order_id JOIN distributors d ON d.id = o.distributor_id
          WHERE o.distributor_id = $1 AND o.status = 'CONFIRMED' AND ${IN_RANGE} AND op.matched_product_id IS NOT NULL GROUP BY 1),
        carts AS (
          SELECT i.product_id AS id, sum(i.quantity) AS carts
          FROM order_session_items i JOIN conversation_order_sessions s ON s.id = i.order_session_id
          WHERE s.distributor_id = $1 AND i.added_at >= $2::timestamptz AND i.added_at < $3::timestamptz GROUP BY 1)
        SELECT p.id::text AS id, coalesce(sold.sold, 0)::text AS sold, coalesce(carts.carts, 0)::text AS carts, p.unit_price::text AS price
        FROM products p LEFT JOIN sold ON sold.id = p.id LEFT JOIN carts ON carts.id = p.id
        WHERE p.distributor_id = $1 ORDER BY coalesce(sold.sold, 0) DESC, p.id::text COLLATE "C" LIMIT 5`, [t, FROM, TO]);
      expect(body.items.map((p) => [p.product_id, p.purchases, p.cart_adds, p.current_price.amount])).toEqual(top.map((r) => [r.id, Number(r.sold), Number(r.carts), r.price]));
      const { n } = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM products WHERE distributor_id = $1`, [t]);
      expect(body.total).toBe(Number(n));
    }
    expect((await api(`/v1/kpis/funnel?from=${FROM}&to=${TO}`, A)).status).toBe(404);
    expect((await api(`/v1/pricing/recommendations`, A)).status).toBe(404);
  });

  it('AI vs admin: conversations by first responder, conversion, escalation, response time and orders by closer match SQL', async () => {
    type Stats = { closer: 'ai' | 'human'; conversations: number; converted: number; escalations: number | null; median_first_response_seconds: number; orders_closed: number; orders_kept: number; revenue: { amount: string }[] };
    for (const t of [A, B]) {
      const { status, body } = await api<{ closers: Stats[] }>(`/v1/kpis/ai-vs-admin?from=${FROM}&to=${TO}`, t);
      expect(status).toBe(200);
      const conv = await pgRows<{ closer: string; n: string; converted: string; escalated: string; median: number }>(`
        WITH replies AS (
          SELECT m.order_session_id AS sid, m.created_at, ${BY_AI} AS by_ai
          FROM messages m WHERE NOT m.is_from_customer AND m.order_session_id IS NOT NULL),
        s AS (
          SELECT s.id, bool_or(NOT r.by_ai) AS any_human, bool_or(r.by_ai) AS any_ai,
                 extract(epoch FROM min(r.created_at) - s.started_at) AS response_s,
                 EXISTS (SELECT 1 FROM orders o WHERE o.order_session_id = s.id) AS converted
          FROM conversation_order_sessions s JOIN replies r ON r.sid = s.id
          WHERE s.distributor_id = $1 AND s.started_at >= $2::timestamptz AND s.started_at < $3::timestamptz GROUP BY s.id)
        SELECT CASE WHEN any_ai THEN 'ai' ELSE 'human' END AS closer, count(*)::text AS n, count(*) FILTER (WHERE converted)::text AS converted,
               count(*) FILTER (WHERE any_ai AND any_human)::text AS escalated,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY response_s) AS median
        FROM s GROUP BY 1`, [t, FROM, TO]);
      const ord = await pgRows<{ closer: string; n: string; kept: string; revenue: string }>(`
        SELECT CASE WHEN o.ai_generated THEN 'ai' ELSE 'human' END AS closer, count(*)::text AS n,
               count(*) FILTER (WHERE o.status = 'CONFIRMED')::text AS kept,
               coalesce(sum(o.total_amount) FILTER (WHERE o.status = 'CONFIRMED'), 0)::text AS revenue
        FROM orders o JOIN distributors d ON d.id = o.distributor_id WHERE o.distributor_id = $1 AND ${IN_RANGE} GROUP BY 1`, [t, FROM, TO]);
      for (const closer of ['ai', 'human'] as const) {
        const got = body.closers.find((c) => c.closer === closer)!;
        const c = conv.find((x) => x.closer === closer)!;
        const o = ord.find((x) => x.closer === closer)!;
        expect([got.conversations, got.converted]).toEqual([Number(c.n), Number(c.converted)]);
        if (closer === 'ai') expect(got.escalations).toBe(Number(c.escalated));
        expect(got.median_first_response_seconds).toBeCloseTo(Number(c.median), 3);
        expect([got.orders_closed, got.orders_kept, got.revenue[0]?.amount]).toEqual([Number(o.n), Number(o.kept), o.revenue]);
      }
    }
  });

  it("the generator's closers are visible in the source: conversion by first responder and AOV by closer within sampling error", async () => {
    const conv = await pgRows<{ closer: 'ai' | 'human'; n: string; converted: string }>(`
      WITH first AS (
        SELECT DISTINCT ON (m.order_session_id) m.order_session_id AS sid, ${BY_AI} AS by_ai
        FROM messages m WHERE NOT m.is_from_customer AND m.order_session_id IS NOT NULL ORDER BY m.order_session_id, m.created_at, m.id)
      SELECT CASE WHEN f.by_ai THEN 'ai' ELSE 'human' END AS closer, count(*)::text AS n,
             count(*) FILTER (WHERE s.outcome = 'CONFIRMED' AND s.consolidated_order_id IS NOT NULL)::text AS converted
      FROM conversation_order_sessions s JOIN first f ON f.sid = s.id GROUP BY 1`, []);
    const aov = await pgRows<{ closer: 'ai' | 'human'; n: string; mean: number; sd: number }>(`
      SELECT CASE WHEN ai_generated THEN 'ai' ELSE 'human' END AS closer, count(*)::text AS n, avg(total_amount)::float8 AS mean, stddev(total_amount)::float8 AS sd
      FROM orders WHERE status = 'CONFIRMED' GROUP BY 1`, []);
    for (const closer of ['ai', 'human'] as const) {
      const c = conv.find((x) => x.closer === closer)!;
      const p = truth.closers![closer].conversion!;
      const n = Number(c.n);
      expect(Math.abs(Number(c.converted) / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
      const a = aov.find((x) => x.closer === closer)!;
      expect(Math.abs(a.mean - truth.closers![closer].aov)).toBeLessThan(4 * (a.sd / Math.sqrt(Number(a.n))));
    }
    // Known different closers: people convert more often and sell bigger baskets here.
    expect(truth.closers!.human.conversion!).toBeGreaterThan(truth.closers!.ai.conversion!);
    expect(truth.closers!.human.aov).toBeGreaterThan(truth.closers!.ai.aov);
  });

  it('customers are scored per distributor: counts, statuses and each fit near its own BG/NBD truth', async () => {
    type Model = { customers: number; statuses: Record<string, number>; bgnbd: { params: Record<string, number>; se: Record<string, number> } };
    const runs = await tw.warehouse.query<{ tenant_id: string; d: string }>(`SELECT tenant_id, last_day::VARCHAR AS d FROM customer_model_runs`);
    expect(new Set(runs.map((r) => r.tenant_id))).toEqual(new Set(truth.tenants));
    const distributors = (truth.extra!.distributors as { id: string; bgnbd: Record<string, number> }[]);
    const fitted: number[] = [];
    for (const t of [A, B]) {
      const { status, body } = await api<Model>('/v1/customers/model', t);
      expect(status).toBe(200);
      const lastDay = runs.find((r) => r.tenant_id === t)!.d;
      const c = await pgOne<{ n: string; buyers: string }>(`
        SELECT count(*)::text AS n,
               (SELECT count(DISTINCT o.customer_id) FROM orders o JOIN distributors d ON d.id = o.distributor_id
                WHERE o.distributor_id = $1 AND o.status = 'CONFIRMED' AND (${RECEIVED} AT TIME ZONE 'UTC')::date <= $2::date)::text AS buyers
        FROM customers WHERE distributor_id = $1`, [t, lastDay]);
      expect(body.customers).toBe(Number(c.n));
      expect(body.statuses.NO_ORDERS_YET).toBe(Number(c.n) - Number(c.buyers));
      const own = distributors.find((d) => d.id === t)!.bgnbd;
      for (const k of ['r', 'alpha', 'a', 'b'] as const) {
        expect(body.bgnbd.se[k]).toBeGreaterThan(0);
        expect(Math.abs(body.bgnbd.params[k]! - own[k]!)).toBeLessThan(4 * body.bgnbd.se[k]!);
      }
      fitted.push(body.bgnbd.params.r! / body.bgnbd.params.alpha!);
    }
    // Distributor A's customers order more often than B's (mean rates r/α 0.10 vs 0.057 per day), and the fits see it.
    expect(fitted[0]!).toBeGreaterThan(fitted[1]!);
  });

  it("a key never sees another distributor's data", async () => {
    for (const path of [`/v1/kpis/summary?from=${FROM}&to=${TO}&tenant=${B}`, `/v1/customers/model?tenant=${B}`, `/v1/forecasts/revenue?tenant=${B}`]) {
      expect((await api(path, A)).status).toBe(404);
    }
    const page = await api<{ items: { customer_id: string }[] }>('/v1/customers/at-risk?limit=200', A);
    expect(page.status).toBe(200);
    const ids = page.body.items.map((i) => i.customer_id);
    expect(ids.length).toBeGreaterThan(0);
    const { foreign } = await pgOne<{ foreign: string }>(`SELECT count(*)::text AS foreign FROM customers WHERE id::text = ANY($1) AND distributor_id <> $2`, [ids, A]);
    expect(Number(foreign)).toBe(0);
    const { id: bCustomer } = await pgOne<{ id: string }>(`SELECT c.id::text AS id FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.distributor_id = $1 LIMIT 1`, [B]);
    expect((await api(`/v1/customers/${bCustomer}`, A)).status).toBe(404);
    expect((await api(`/v1/customers/${bCustomer}`, B)).status).toBe(200);
  });

  it('forecasts are fitted per distributor, each at its own revenue level', async () => {
    const runs = await tw.warehouse.query<{ tenant_id: string }>(`SELECT DISTINCT tenant_id FROM forecast_runs WHERE metric = 'revenue_net'`);
    expect(new Set(runs.map((r) => r.tenant_id))).toEqual(new Set(truth.tenants));
    const levels: number[] = [];
    for (const t of [A, B]) {
      const { status, body } = await api<{ tenant: string; series: { currency: string; periods: { point: number }[] }[] }>('/v1/forecasts/revenue?horizon=28', t);
      expect(status).toBe(200);
      expect(body.tenant).toBe(t);
      expect(body.series.map((s) => s.currency)).toEqual(['USD']);
      const forecast = body.series[0]!.periods.reduce((s, p) => s + p.point, 0) / 28;
      const { daily } = await pgOne<{ daily: number }>(`
        SELECT (coalesce(sum(o.total_amount), 0) / 56)::float8 AS daily FROM orders o JOIN distributors d ON d.id = o.distributor_id
        WHERE o.distributor_id = $1 AND o.status = 'CONFIRMED' AND ${RECEIVED} >= $2::timestamptz - interval '56 days' AND ${RECEIVED} < $2::timestamptz`,
      [t, END.toISOString()]);
      expect(forecast / daily!).toBeGreaterThan(0.6);
      expect(forecast / daily!).toBeLessThan(1.6);
      levels.push(forecast);
    }
    expect(levels[0]).not.toBeCloseTo(levels[1]!, 0);
  });

  it('reconciliation over the generated history finds every row hash equal (PostgreSQL and DuckDB agree)', async () => {
    const results = await reconcileAll(tw.ctx);
    expect(results.map((r) => [r.entity, r.deleted, r.changed])).toEqual(results.map((r) => [r.entity, 0, 0]));
  });

  it('the generator is deterministic: the same seed and options give byte-identical tables', async () => {
    const small = { seed: 77, orders: 300, days: 40, tenants: 2, end: END };
    const tables = ['distributors', 'customers', 'conversations', 'conversation_order_sessions', 'messages', 'ai_responses', 'orders', 'order_products',
      'order_session_items', 'order_session_events', 'products', 'customer_label_assignments'];
    const [a, b] = [await generatorDigest('b2b-distribution', small, tables), await generatorDigest('b2b-distribution', small, tables)];
    expect(a).toEqual(b);
    for (const t of tables) expect(a.tables[t], t).not.toBeNull();
  });

  it('an incremental ingest picks up an order confirmed at the source', async () => {
    const [pending] = await pgRows<{ id: string; total: string }>(`
      SELECT id::text AS id, total_amount::text AS total FROM orders WHERE distributor_id = $1 AND status IN ('PENDING', 'REVIEW') ORDER BY id LIMIT 1`, [A]);
    expect(pending).toBeDefined();
    const window = `from=2026-10-20T00:00:00Z&to=${END.toISOString()}`;
    const before = (await api<{ metrics: { orders: number } }>(`/v1/kpis/summary?${window}`, A)).body.metrics.orders;
    await db.pool.query(`UPDATE orders SET status = 'CONFIRMED', updated_at = $2::timestamptz + interval '1 hour' WHERE id = $1`, [pending!.id, END.toISOString()]);
    const run = await ingestAll(tw.ctx);
    expect(run.rejected).toBe(0);
    await refreshRollups(tw.warehouse);
    const after = await api<{ metrics: { orders: number; revenue_gross: { amount: string }[] } }>(`/v1/kpis/summary?${window}`, A);
    expect(after.body.metrics.orders).toBe(before + 1);
    const s = await pgSummary(A, '2026-10-20T00:00:00Z', END.toISOString());
    expect(after.body.metrics.orders).toBe(Number(s.n));
    expect(after.body.metrics.revenue_gross).toEqual([{ currency: 'USD', amount: s.value }]);
    const [pay] = await tw.warehouse.query<{ amount: string; status: string }>(`SELECT amount::VARCHAR AS amount, status FROM payments WHERE payment_id = $id`, { id: pending!.id });
    expect(pay).toEqual({ amount: Number(pending!.total).toFixed(2), status: 'succeeded' });
  });

  // Last: it writes bad rows into the source.
  it('bad source rows land in rejected_rows with their reason', async () => {
    const [order] = await pgRows<{ id: string; customer: string }>(`
      SELECT id::text AS id, customer_id::text AS customer FROM orders WHERE distributor_id = $1 AND status = 'CONFIRMED' ORDER BY id LIMIT 1`, [B]);
    const stamp = new Date(END.getTime() + 2 * 3_600_000).toISOString();
    await db.pool.query(`INSERT INTO order_products (order_id, product_name, quantity, unit_price, line_price, line_order, created_at, updated_at)
      VALUES ($1, 'Returned crates', -2, 5.00, -10.00, 99, $2, $2)`, [order!.id, stamp]);
    const { rows: [bad] } = await db.pool.query<{ id: string }>(`INSERT INTO orders (customer_id, distributor_id, status, received_date, received_time, total_amount, created_at, updated_at)
      VALUES ($1, $2, 'CONFIRMED', '2026-10-31', '10:00', -5.00, $3, $3) RETURNING id::text AS id`, [order!.customer, B, stamp]);
    const run = await ingestAll(tw.ctx);
    expect(run.rejected).toBeGreaterThan(0);
    const rejected = await tw.warehouse.query<{ entity: string; key: string; reason: string }>(
      `SELECT entity, key, reason FROM rejected_rows WHERE tenant_id = $t ORDER BY entity`, { t: B });
    expect(rejected).toEqual(expect.arrayContaining([
      expect.objectContaining({ entity: 'orders', key: `${B}|${bad!.id}`, reason: expect.stringMatching(/negative total/) }),
      expect.objectContaining({ entity: 'payments', key: `${B}|${bad!.id}`, reason: expect.stringMatching(/negative amount/) }),
      expect.objectContaining({ entity: 'order_items', reason: expect.stringMatching(/negative quantity/) }),
      expect.objectContaining({ entity: 'product_events', reason: expect.stringMatching(/negative sales/) }),
    ]));
    const others = await tw.warehouse.query<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM rejected_rows WHERE tenant_id <> $t`, { t: B });
    expect(others).toEqual([{ n: '0' }]);
  });
});
