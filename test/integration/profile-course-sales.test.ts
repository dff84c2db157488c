import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { customerOptions } from '../../src/jobs/definitions.ts';
import { reconcileAll } from '../../src/ingest/reconcile.ts';
import { checkProfileColumns, configuredProfile } from '../../src/ingest/profile.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { runCustomers } from '../../src/models/customers/run-customers.ts';
import { readDailySeries, runForecasts } from '../../src/models/forecast/run-forecasts.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import type { ProfileTruth } from '../../src/synth/profile-generator.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedProfileSource, generatorDigest, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';
import { expectSummaryMatches } from '../helpers/summary-checks.ts';

/**
 * The course-sales profile (seed 000) end to end: generated history in PostgreSQL → profile SQL →
 * ingest → rollups and models → HTTP. Every figure is checked against the same metric computed in
 * PostgreSQL on the seed's own tables and status words (orders.status 'installment'/'completed',
 * payment_status 'paid'/'partially_refunded', installment_payments, messages.sender_type 'admin', ...),
 * and the generator's ground truth (AI vs human closers, lead scores) is checked against the source.
 */

/** Money received, in the seed's terms: full-payment orders and installment rows (never both for one order). */
const MONEY = `
  WITH single AS (SELECT order_id, min(product_id::text) AS product_id FROM order_items GROUP BY order_id HAVING count(*) = 1)
  SELECT o.customer_id, s.product_id, o.total_amount AS amount, lower(o.payment_status) AS st,
         CASE WHEN lower(o.payment_status) IN ('refunded', 'partially_refunded') THEN coalesce(o.refund_amount, o.total_amount) ELSE 0 END AS refunded,
         coalesce(o.paid_at, o.created_at) AS at
  FROM orders o LEFT JOIN single s ON s.order_id = o.id WHERE o.payment_method = 'full'
  UNION ALL
  SELECT pl.customer_id, s.product_id, ip.amount, lower(ip.status),
         CASE WHEN ip.status = 'refunded' THEN ip.amount ELSE 0 END,
         coalesce(ip.paid_at, ip.due_date::timestamp AT TIME ZONE 'UTC')
  FROM installment_payments ip JOIN installment_plans pl ON pl.id = ip.plan_id LEFT JOIN single s ON s.order_id = pl.order_id`;
const RECEIVED = `('paid', 'refunded', 'partially_refunded')`;
/** Orders placed and paid (or being paid by installments), refunded ones included. */
const PLACED = `('paid', 'installment', 'completed', 'refunded')`;
const FROM = '2026-07-01T00:00:00Z';
const TO = '2026-09-01T00:00:00Z';
const END = new Date('2026-09-15T00:00:00Z');

describe('course-sales profile end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: ProfileTruth;
  const mine = generateApiKey('default', ['read']);
  const theirs = generateApiKey('other-shop', ['read']);

  const pgOne = async <T>(sql: string, params: unknown[] = [FROM, TO]): Promise<T> => (await db.pool.query(sql, params)).rows[0] as T;
  const api = async <T = Record<string, unknown>>(path: string, key = mine.key): Promise<{ status: number; body: T }> => {
    const res = await http.get(path, key);
    return { status: res.status, body: (await res.json()) as T };
  };
  const inRange = (col: string) => `${col} >= $1::timestamptz AND ${col} < $2::timestamptz`;

  beforeAll(async () => {
    ({ db, truth } = await generatedProfileSource('course-sales', { seed: 5, orders: 4000, days: 150, end: END }));
    tw = await openTestWarehouse(db.pool, { PROFILE: 'course-sales', DEFAULT_CURRENCY: 'THB', API_KEYS: `${mine.entry},${theirs.entry}` });
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(0);
    await refreshRollups(tw.warehouse);
    await runForecasts(tw.warehouse, { horizon: 14, levels: [0.8, 0.95], holidays: [] });
    await runCustomers(tw.warehouse, customerOptions(tw.config));
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  it('the same seed and options give byte-identical tables', async () => {
    const small = { seed: 77, orders: 300, days: 40, end: END };
    const tables = ['customers', 'lead_score_history', 'conversations', 'messages', 'ai_interactions', 'orders', 'order_items',
      'installment_plans', 'installment_payments', 'customer_purchases', 'follow_ups', 'support_tickets', 'sales_statistics'];
    const [a, b] = [await generatorDigest('course-sales', small, tables), await generatorDigest('course-sales', small, tables)];
    expect(a).toEqual(b);
    for (const t of tables) expect(a.tables[t], t).not.toBeNull();
  });

  it('the profile SQL returns every canonical column of its entities (the start-up check)', async () => {
    const profile = configuredProfile(tw.config);
    await expect(checkProfileColumns(db.pool, profile)).resolves.toBeUndefined();
    expect(profile.entities.map((e) => e.spec.entity)).toEqual(['customers', 'products', 'orders', 'order_items', 'payments', 'conversations']);
    expect(profile.manifest).toMatchObject({ currency: 'THB', tenant: 'config' });
  });

  it('the generator writes what it reports', async () => {
    const o = await pgOne<{ n: string; pays: string }>(`SELECT count(*)::text AS n,
      (SELECT count(*) FROM orders WHERE payment_method = 'installment' AND status <> 'cancelled')::text AS pays FROM orders`, []);
    expect(Number(o.n)).toBe(truth.orders);
    expect(truth.orders).toBeGreaterThanOrEqual(4000);
    expect(Number(o.pays)).toBeGreaterThan(0);
    // One order is one payment (full) or its installments, never both.
    const both = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM orders o JOIN installment_plans p ON p.order_id = o.id WHERE o.payment_method = 'full'`, []);
    expect(both.n).toBe('0');
    const access = await pgOne<{ bad: string }>(`SELECT count(*) FILTER (WHERE expires_at <> purchased_at + interval '3 years')::text AS bad FROM customer_purchases`, []);
    expect(access.bad).toBe('0');
  });

  it('countries: revenue by the paying customer\'s country matches PostgreSQL', async () => {
    const { status, body } = await api<{ items: { country: string | null; currency: string; revenue_gross: string; revenue_net: string; payments: number; paying_customers: number }[] }>(
      `/v1/kpis/countries?from=${FROM}&to=${TO}`);
    expect(status).toBe(200);
    const rows = (await db.pool.query<{ country: string | null; gross: string; net: string; payments: number; payers: number }>(`
      SELECT upper(c.country) AS country, sum(m.amount)::text AS gross, (sum(m.amount) - sum(m.refunded))::text AS net,
             count(*)::int AS payments, count(DISTINCT m.customer_id)::int AS payers
      FROM (${MONEY}) m LEFT JOIN customers c ON c.id = m.customer_id
      WHERE m.st IN ${RECEIVED} AND ${inRange('m.at')} GROUP BY 1`, [FROM, TO])).rows;
    // A Thai seller: its customers are in Thailand (and a few without a country).
    expect(rows.length).toBeGreaterThan(0);
    const key = (x: { country: string | null }) => x.country ?? '';
    expect(body.items.map((i) => ({ country: i.country, gross: i.revenue_gross, net: i.revenue_net, payments: i.payments, payers: i.paying_customers, currency: i.currency }))
      .sort((a, b) => key(a).localeCompare(key(b))))
      .toEqual(rows.map((r) => ({ ...r, currency: 'THB' })).sort((a, b) => key(a).localeCompare(key(b))));
  });

  it('summary matches PostgreSQL', async () => {
    const { status, body } = await api<{ metrics: Record<string, unknown> }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`);
    expect(status).toBe(200);
    const pay = await pgOne<{ gross: string; refunds: string; net: string; ok: string; failed: string; payers: string }>(`
      SELECT sum(amount) FILTER (WHERE st IN ${RECEIVED})::text AS gross,
             coalesce(sum(refunded) FILTER (WHERE st IN ${RECEIVED}), 0)::text AS refunds,
             (sum(amount) FILTER (WHERE st IN ${RECEIVED}) - coalesce(sum(refunded) FILTER (WHERE st IN ${RECEIVED}), 0))::text AS net,
             count(*) FILTER (WHERE st IN ${RECEIVED})::text AS ok, count(*) FILTER (WHERE st = 'failed')::text AS failed,
             count(DISTINCT customer_id) FILTER (WHERE st IN ${RECEIVED})::text AS payers
      FROM (${MONEY}) m WHERE ${inRange('at')}`);
    const ord = await pgOne<{ n: string; value: string; aov: string }>(`
      SELECT count(*)::text AS n, sum(total_amount)::text AS value, round(sum(total_amount) / count(*), 2)::text AS aov
      FROM orders WHERE lower(status) IN ${PLACED} AND ${inRange('created_at')}`);
    const fresh = await pgOne<{ n: string }>(`
      SELECT count(*)::text AS n FROM (SELECT customer_id, min(at) AS first FROM (${MONEY}) m WHERE st IN ${RECEIVED} GROUP BY 1) f
      WHERE ${inRange('first')}`);
    const m = body.metrics;
    expectSummaryMatches(m, { pay, ord, fresh }, 'THB');
    // No traffic and no subscriptions in this source: null, with the reason, never zeros.
    expect(m.page_views).toBeNull();
    expect(m.conversion_rate).toBeNull();
    expect(m.mrr).toBeNull();
    expect((body as unknown as { unavailable: Record<string, string> }).unavailable.page_views).toMatch(/maps no page_views/);
    expect(Number(pay.refunds)).toBeGreaterThan(0);
    expect(Number(pay.failed)).toBeGreaterThan(0);
  });

  it('compare=previous_period counts the orders of the window before', async () => {
    const { body } = await api<{ metrics: { orders: number }; deltas: { orders: { previous: number; change: number } } }>(
      `/v1/kpis/summary?from=${FROM}&to=${TO}&compare=previous_period`,
    );
    const prev = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM orders WHERE lower(status) IN ${PLACED}
      AND created_at >= '2026-04-30T00:00:00Z' AND created_at < '2026-07-01T00:00:00Z'`, []);
    expect(body.deltas.orders.previous).toBe(Number(prev.n));
    expect(body.deltas.orders.change).toBe(body.metrics.orders - Number(prev.n));
  });

  it('daily net revenue and orders in Asia/Bangkok match PostgreSQL', async () => {
    type Series = { series: { currency: string | null; points: { bucket: string; value: string | number }[] }[] };
    const range = 'from=2026-06-01&to=2026-09-15&tz=Asia/Bangkok&granularity=day';
    const rev = await api<Series>(`/v1/kpis/timeseries?metric=revenue_net&${range}`);
    const orders = await api<Series>(`/v1/kpis/timeseries?metric=orders&${range}`);
    expect(rev.status).toBe(200);
    expect(orders.status).toBe(200);
    const local = (col: string) => `to_char(${col} AT TIME ZONE 'Asia/Bangkok', 'YYYY-MM-DD')`;
    const window = (col: string) => `${col} AT TIME ZONE 'Asia/Bangkok' >= '2026-06-01' AND ${col} AT TIME ZONE 'Asia/Bangkok' < '2026-09-15'`;
    const { rows: money } = await db.pool.query<{ d: string; net: string }>(`
      SELECT ${local('at')} AS d, (sum(amount) - sum(refunded))::text AS net FROM (${MONEY}) m
      WHERE st IN ${RECEIVED} AND ${window('at')} GROUP BY 1`);
    const { rows: counts } = await db.pool.query<{ d: string; n: string }>(`
      SELECT ${local('created_at')} AS d, count(*)::text AS n FROM orders WHERE lower(status) IN ${PLACED} AND ${window('created_at')} GROUP BY 1`);
    const net = new Map(money.map((r) => [r.d, Number(r.net).toFixed(2)]));
    const n = new Map(counts.map((r) => [r.d, Number(r.n)]));
    const revPoints = rev.body.series.find((s) => s.currency === 'THB')!.points;
    expect(revPoints).toHaveLength(106);
    for (const p of revPoints) expect(`${p.bucket} ${Number(p.value).toFixed(2)}`).toBe(`${p.bucket} ${net.get(p.bucket) ?? '0.00'}`);
    const orderPoints = orders.body.series[0]!.points;
    expect(orderPoints).toHaveLength(106);
    for (const p of orderPoints) expect(`${p.bucket} ${Number(p.value)}`).toBe(`${p.bucket} ${n.get(p.bucket) ?? 0}`);
  });

  it('products: units and revenue per product match PostgreSQL; category is the product type', async () => {
    const products = await api<{ total: number; items: { product_id: string; category: string; units: number; revenue_gross: { amount: string }[] }[] }>(
      `/v1/kpis/products?from=${FROM}&to=${TO}&limit=8`,
    );
    expect(products.status).toBe(200);
    const { rows: top } = await db.pool.query<{ id: string; units: string; gross: string; type: string }>(`
      SELECT m.product_id AS id, count(*)::text AS units, sum(m.amount)::text AS gross, min(p.product_type) AS type
      FROM (${MONEY}) m JOIN products p ON p.id::text = m.product_id
      WHERE m.st IN ${RECEIVED} AND ${inRange('m.at')} GROUP BY 1 ORDER BY sum(m.amount) DESC, 1 LIMIT 8`, [FROM, TO]);
    expect(products.body.items.map((p) => [p.product_id, p.category, String(p.units), p.revenue_gross[0]?.amount]))
      .toEqual(top.map((t) => [t.id, t.type, t.units, t.gross]));
    const { rows: [count] } = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM products`);
    expect(products.body.total).toBe(Number(count!.n));
  });

  it('conversations: handled_by, first response and escalation as the messages and AI interactions say', async () => {
    const { rows: src } = await db.pool.query<{ handled: string | null; n: string; escalated: string; median: string | null }>(`
      WITH m AS (
        SELECT conversation_id, bool_or(sender_type = 'ai') AS ai, bool_or(sender_type = 'admin') AS adm,
               min(created_at) FILTER (WHERE sender_type = 'customer') AS asked FROM messages GROUP BY 1),
      r AS (SELECT x.conversation_id, min(x.created_at) AS answered FROM messages x JOIN m USING (conversation_id)
            WHERE x.sender_type <> 'customer' AND x.created_at >= m.asked GROUP BY 1)
      SELECT CASE WHEN ai AND adm THEN 'mixed' WHEN ai THEN 'ai' WHEN adm THEN 'human' END AS handled, count(*)::text AS n,
             count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ai_interactions a WHERE a.conversation_id = c.id AND a.escalated))::text AS escalated,
             round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.answered - c.created_at))::numeric, 3)::text AS median
      FROM conversations c LEFT JOIN m ON m.conversation_id = c.id LEFT JOIN r ON r.conversation_id = c.id GROUP BY 1`);
    const wh = await tw.warehouse.query<{ handled: string | null; n: string; escalated: string; median: string | null }>(`
      SELECT handled_by AS handled, count(*)::VARCHAR AS n, count(*) FILTER (WHERE escalated)::VARCHAR AS escalated,
             round(quantile_cont(epoch(first_response_at) - epoch(started_at), 0.5), 3)::VARCHAR AS median
      FROM conversations GROUP BY 1`);
    const norm = (rows: typeof src) => Object.fromEntries(rows.map((r) => [r.handled ?? 'none', [Number(r.n), Number(r.escalated), r.median === null ? null : Number(r.median)]]));
    expect(norm(wh)).toEqual(norm(src));
    expect(Object.keys(norm(src)).sort()).toEqual(expect.arrayContaining(['ai', 'human', 'mixed']));
    // closed_by: the seed's 'admin' is the canonical 'human'.
    const { rows: closed } = await db.pool.query<{ by: string | null; n: string }>(`SELECT closed_by AS by, count(*)::text AS n FROM orders GROUP BY 1`);
    const canon = await tw.warehouse.query<{ by: string | null; n: string }>(`SELECT closed_by AS by, count(*)::VARCHAR AS n FROM orders GROUP BY 1`);
    const rename = (b: string | null) => (b === 'admin' ? 'human' : b ?? 'none');
    expect(Object.fromEntries(canon.map((r) => [r.by ?? 'none', Number(r.n)]))).toEqual(Object.fromEntries(closed.map((r) => [rename(r.by), Number(r.n)])));
  });

  it('AI vs admin: every figure per closer equals SQL on the source', async () => {
    const q = `from=${truth.start}&to=${truth.end}&tz=UTC`;
    type Stats = { closer: string; conversations: number; converted: number; conversion_rate: number; escalations: number | null;
      median_first_response_seconds: number; orders_closed: number; orders_kept: number; revenue: { currency: string; amount: string }[];
      aov: { currency: string; amount: string | null }[]; cancel_refund_rate: number };
    const res = await api<{ currency: string; closers: Stats[]; unavailable?: unknown }>(`/v1/kpis/ai-vs-admin?${q}`);
    expect(res.status).toBe(200);
    expect(res.body.currency).toBe('THB');
    expect(res.body.unavailable).toBeUndefined();
    // Conversations by first responder (the AI when it replied at all), as the endpoint defines them.
    const { rows: conv } = await db.pool.query<{ closer: string; n: string; converted: string; escalated: string; median: string }>(`
      WITH m AS (SELECT conversation_id, bool_or(sender_type = 'ai') AS ai, bool_or(sender_type = 'admin') AS adm,
                        min(created_at) FILTER (WHERE sender_type = 'customer') AS asked FROM messages GROUP BY 1),
           r AS (SELECT x.conversation_id, min(x.created_at) AS answered FROM messages x JOIN m USING (conversation_id)
                 WHERE x.sender_type <> 'customer' AND x.created_at >= m.asked GROUP BY 1),
           e AS (SELECT DISTINCT conversation_id FROM ai_interactions WHERE escalated),
           o AS (SELECT DISTINCT conversation_id FROM orders WHERE conversation_id IS NOT NULL)
      SELECT CASE WHEN m.adm AND NOT m.ai THEN 'human' ELSE 'ai' END AS closer, count(*)::text AS n, count(o.conversation_id)::text AS converted,
             count(*) FILTER (WHERE e.conversation_id IS NOT NULL OR (m.ai AND m.adm))::text AS escalated,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM r.answered - c.created_at))::text AS median
      FROM conversations c JOIN m ON m.conversation_id = c.id LEFT JOIN r ON r.conversation_id = c.id
      LEFT JOIN e ON e.conversation_id = c.id LEFT JOIN o ON o.conversation_id = c.id
      WHERE (m.ai OR m.adm) AND c.created_at >= $1::timestamptz AND c.created_at < $2::timestamptz GROUP BY 1`, [truth.start, truth.end]);
    const { rows: ord } = await db.pool.query<{ closer: string; n: string; kept: string; revenue: string; aov: string; undone: string; decided: string }>(`
      SELECT CASE closed_by WHEN 'admin' THEN 'human' ELSE closed_by END AS closer, count(*)::text AS n,
             count(*) FILTER (WHERE status IN ('paid', 'installment', 'completed'))::text AS kept,
             sum(total_amount) FILTER (WHERE status IN ('paid', 'installment', 'completed'))::text AS revenue,
             round(sum(total_amount) FILTER (WHERE status IN ('paid', 'installment', 'completed'))
                   / count(*) FILTER (WHERE status IN ('paid', 'installment', 'completed')), 2)::text AS aov,
             count(*) FILTER (WHERE status IN ('cancelled', 'refunded'))::text AS undone, count(*) FILTER (WHERE status <> 'pending')::text AS decided
      FROM orders WHERE closed_by IS NOT NULL AND created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1`, [truth.start, truth.end]);
    for (const closer of ['ai', 'human']) {
      const got = res.body.closers.find((x) => x.closer === closer)!;
      const c = conv.find((x) => x.closer === closer)!;
      const o = ord.find((x) => x.closer === closer)!;
      expect([got.conversations, got.converted, got.escalations]).toEqual([Number(c.n), Number(c.converted), closer === 'ai' ? Number(c.escalated) : null]);
      expect(got.conversion_rate).toBeCloseTo(Number(c.converted) / Number(c.n), 12);
      expect(got.median_first_response_seconds).toBeCloseTo(Number(c.median), 3);
      expect([got.orders_closed, got.orders_kept]).toEqual([Number(o.n), Number(o.kept)]);
      expect(got.revenue).toEqual([{ currency: 'THB', amount: o.revenue }]);
      expect(got.aov).toEqual([{ currency: 'THB', amount: o.aov }]);
      expect(got.cancel_refund_rate).toBeCloseTo(Number(o.undone) / Number(o.decided), 12);
    }
  });

  it('the true AI and human conversion rates and order values show in the source', async () => {
    const window = (truth.extra!['closers_window'] as { to: string }).to;
    const { rows } = await db.pool.query<{ closer: string; n: string; converted: string; median: string }>(`
      WITH f AS (SELECT DISTINCT ON (conversation_id) conversation_id, sender_type, created_at AS answered
                 FROM messages WHERE sender_type <> 'customer' ORDER BY conversation_id, created_at),
           o AS (SELECT DISTINCT conversation_id FROM orders WHERE conversation_id IS NOT NULL)
      SELECT CASE f.sender_type WHEN 'ai' THEN 'ai' ELSE 'human' END AS closer, count(*)::text AS n, count(o.conversation_id)::text AS converted,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM f.answered - c.created_at))::text AS median
      FROM conversations c JOIN f ON f.conversation_id = c.id LEFT JOIN o ON o.conversation_id = c.id
      WHERE c.created_at < $1::timestamptz GROUP BY 1`, [window]);
    const realised = truth.extra!['realised'] as Record<'ai' | 'human', { conversations: number; median_first_response_seconds: number }>;
    for (const r of rows) {
      const closer = r.closer as 'ai' | 'human';
      const p = truth.closers![closer].conversion!;
      const n = Number(r.n);
      expect(n).toBe(realised[closer].conversations);
      // Within 4 standard errors of the true rate.
      expect(Math.abs(Number(r.converted) / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
      expect(Number(r.median)).toBeCloseTo(realised[closer].median_first_response_seconds, 2);
    }
    // The AI answers in seconds, people in minutes (or hours, outside office hours).
    expect(realised.ai.median_first_response_seconds).toBeLessThan(60);
    expect(realised.human.median_first_response_seconds).toBeGreaterThan(120);

    const { rows: aov } = await db.pool.query<{ by: string; n: string; mean: string; sd: string }>(`
      SELECT closed_by AS by, count(*)::text AS n, avg(total_amount)::text AS mean, stddev_samp(total_amount)::text AS sd
      FROM orders WHERE closed_by IS NOT NULL GROUP BY 1`);
    for (const r of aov) {
      const closer = r.by === 'ai' ? 'ai' : 'human';
      expect(Math.abs(Number(r.mean) - truth.closers![closer].aov)).toBeLessThan(4 * Number(r.sd) / Math.sqrt(Number(r.n)));
    }
    // The AI closes more chats, at a lower order value.
    expect(truth.closers!.ai.aov).toBeLessThan(truth.closers!.human.aov);
    const byCloser = Object.fromEntries(aov.map((r) => [r.by, Number(r.n)]));
    expect(byCloser.ai).toBeGreaterThan(byCloser.admin!);

    // Escalations among chats the AI answered first.
    const esc = await pgOne<{ rate: string }>(`
      WITH f AS (SELECT DISTINCT ON (m.conversation_id) m.conversation_id, m.sender_type FROM messages m
                 JOIN conversations c ON c.id = m.conversation_id WHERE c.created_at < $1::timestamptz AND m.sender_type <> 'customer'
                 ORDER BY m.conversation_id, m.created_at),
           e AS (SELECT DISTINCT conversation_id FROM ai_interactions WHERE escalated)
      SELECT (count(e.conversation_id)::float8 / count(*))::text AS rate FROM f LEFT JOIN e USING (conversation_id) WHERE f.sender_type = 'ai'`, [window]);
    const escalation = truth.extra!['escalation'] as { realised_rate_among_ai_first: number };
    expect(Number(esc.rate)).toBeCloseTo(escalation.realised_rate_among_ai_first, 5);
  });

  it('lead scores predict conversion: first chats convert by initial score band as the generator says', async () => {
    const window = (truth.extra!['closers_window'] as { to: string }).to;
    const { rows } = await db.pool.query<{ band: string; n: string; converted: string }>(`
      WITH first AS (SELECT DISTINCT ON (customer_id) id, customer_id FROM conversations ORDER BY customer_id, created_at),
           initial AS (SELECT customer_id, new_score FROM lead_score_history WHERE old_score IS NULL)
      SELECT CASE WHEN i.new_score >= 80 THEN 'hot' WHEN i.new_score >= 40 THEN 'warm' ELSE 'cold' END AS band, count(*)::text AS n,
             count(o.conversation_id)::text AS converted
      FROM first f JOIN initial i USING (customer_id) JOIN conversations c ON c.id = f.id
      LEFT JOIN (SELECT DISTINCT conversation_id FROM orders) o ON o.conversation_id = f.id
      WHERE c.created_at < $1::timestamptz
        -- a customer whose first contact was a website order has its first chat later, at another score
        AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = f.customer_id AND o.conversation_id IS NULL AND o.created_at < c.created_at)
      GROUP BY 1`, [window]);
    const bands = (truth.extra!['lead_score'] as { first_conversation_by_band: Record<string, { expected_conversion: number }> }).first_conversation_by_band;
    const rate: Record<string, number> = {};
    for (const r of rows) {
      const p = bands[r.band]!.expected_conversion;
      const n = Number(r.n);
      rate[r.band] = Number(r.converted) / n;
      expect(Math.abs(rate[r.band]! - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    }
    expect(rate.hot!).toBeGreaterThan(rate.warm!);
    expect(rate.warm!).toBeGreaterThan(rate.cold!);
    // The canonical lead score is the customer's current one.
    const [wh] = await tw.warehouse.query<{ s: number }>(`SELECT sum(lead_score)::DOUBLE AS s FROM customers`);
    const src = await pgOne<{ s: string }>(`SELECT sum(lead_score)::text AS s FROM customers`, []);
    expect(wh!.s).toBe(Number(src.s));
  });

  it('forecasts: the daily net revenue series is the source money by UTC day; the API serves THB', async () => {
    const [run] = await tw.warehouse.query<{ d: string }>(`SELECT max(last_day)::VARCHAR AS d FROM forecast_runs`);
    const lastDay = Math.floor(Date.parse(run!.d) / 86_400_000);
    const series = (await readDailySeries(tw.warehouse, lastDay)).find((s) => s.metric === 'revenue_net' && s.currency === 'THB')!;
    const { rows } = await db.pool.query<{ d: string; v: string }>(`
      SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS d, (sum(amount) - sum(refunded))::text AS v FROM (${MONEY}) m
      WHERE st IN ${RECEIVED} AND at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC' GROUP BY 1`, [run!.d]);
    expect(rows.length).toBeGreaterThan(100);
    for (const r of rows) {
      const day = Math.floor(Date.parse(r.d) / 86_400_000);
      expect(series.values[day - series.startDay]).toBeCloseTo(Number(r.v), 6);
    }
    const res = await api<{ series: { currency: string; last_day: string; periods: unknown[] }[] }>('/v1/forecasts/revenue?horizon=14&currency=THB');
    expect(res.status).toBe(200);
    expect(res.body.series).toHaveLength(1);
    expect(res.body.series[0]).toMatchObject({ currency: 'THB', last_day: run!.d });
    expect(res.body.series[0]!.periods).toHaveLength(14);
  });

  it('customers model: every source customer scored, purchases as the source counts them', async () => {
    const [run] = await tw.warehouse.query<{ d: string }>(`SELECT last_day::VARCHAR AS d FROM customer_model_runs`);
    const model = await api<{ customers: number; statuses: Record<string, number> }>('/v1/customers/model');
    expect(model.status).toBe(200);
    const c = await pgOne<{ n: string; buyers: string }>(`
      SELECT count(*)::text AS n, (SELECT count(DISTINCT customer_id) FROM orders
        WHERE lower(status) IN ('paid', 'installment', 'completed') AND created_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC')::text AS buyers
      FROM customers`, [run!.d]);
    expect(model.body.customers).toBe(Number(c.n));
    expect(model.body.statuses.NO_ORDERS_YET).toBe(Number(c.n) - Number(c.buyers));
  });

  it('reconciliation finds every row equal, and another tenant sees nothing', async () => {
    const results = await reconcileAll(tw.ctx);
    expect(results.map((r) => [r.entity, r.deleted, r.changed])).toEqual(results.map((r) => [r.entity, 0, 0]));
    expect((await api(`/v1/kpis/summary?from=${FROM}&to=${TO}&tenant=default`, theirs.key)).status).toBe(404);
    expect((await api<{ metrics: { orders: number } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`, theirs.key)).body.metrics.orders).toBe(0);
  });

  // Last: these change the source.
  it('bad source rows land in rejected_rows with a reason; an update is picked up incrementally', async () => {
    const { rows: [cust] } = await db.pool.query<{ id: string }>(`SELECT id FROM customers ORDER BY id LIMIT 1`);
    const { rows: [prod] } = await db.pool.query<{ id: string }>(`SELECT id FROM products ORDER BY id LIMIT 1`);
    const { rows: [bad] } = await db.pool.query<{ id: string }>(`
      INSERT INTO orders (order_number, customer_id, status, total_amount, created_at) VALUES ('BAD-1', $1, 'on_hold', 990, '2026-09-10T10:00:00Z') RETURNING id`, [cust!.id]);
    await db.pool.query(`INSERT INTO order_items (order_id, product_id, quantity, unit_price, total_price) VALUES ($1, $2, -1, 990, -990)`, [bad!.id, prod!.id]);
    // A paid, completed full-payment order refunded in full.
    const { rows: [target] } = await db.pool.query<{ id: string; total: string }>(`
      SELECT id, total_amount::text AS total FROM orders WHERE payment_method = 'full' AND status = 'completed' AND payment_status = 'paid'
        AND paid_at >= $1::timestamptz AND paid_at < $2::timestamptz ORDER BY id LIMIT 1`, [FROM, TO]);
    const refundsBefore = (await api<{ metrics: { refunds: { amount: string }[] } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`)).body.metrics.refunds[0]!.amount;
    await db.pool.query(`UPDATE orders SET status = 'refunded', payment_status = 'refunded', refund_amount = total_amount, refunded_at = now() WHERE id = $1`, [target!.id]);

    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(2);
    const rejected = await tw.warehouse.query<{ entity: string; reason: string }>(`SELECT entity, reason FROM rejected_rows ORDER BY entity`);
    expect(rejected).toEqual([
      { entity: 'order_items', reason: 'negative quantity: -1' },
      { entity: 'orders', reason: 'unknown status: on_hold' },
    ]);
    const [o] = await tw.warehouse.query<{ status: string; raw_status: string }>(`SELECT status, raw_status FROM orders WHERE order_id = $id`, { id: target!.id });
    expect(o).toEqual({ status: 'refunded', raw_status: 'refunded' });
    const [p] = await tw.warehouse.query<{ status: string; refunded: string }>(`SELECT status, refunded_amount::VARCHAR AS refunded FROM payments WHERE payment_id = $id`, { id: `order:${target!.id}` });
    expect(p).toEqual({ status: 'refunded', refunded: Number(target!.total).toFixed(2) });
    await refreshRollups(tw.warehouse);
    const after = (await api<{ metrics: { refunds: { amount: string }[] } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`)).body.metrics.refunds[0]!.amount;
    const expected = await pgOne<{ r: string }>(`SELECT sum(refunded)::text AS r FROM (${MONEY}) m WHERE st IN ${RECEIVED} AND ${inRange('at')}`);
    expect(after).toBe(expected.r);
    expect(Number(after) - Number(refundsBefore)).toBeCloseTo(Number(target!.total), 2);
  });
});
