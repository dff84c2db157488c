import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { reconcileAll } from '../../src/ingest/reconcile.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { generatedSource, type SourceDb } from '../helpers/source-db.ts';
import { serveApi } from '../helpers/api.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';
import { expectSummaryMatches } from '../helpers/summary-checks.ts';

/**
 * End to end on generated seed-004 data: PostgreSQL → ingest → rollups → HTTP, every KPI compared with
 * the same metric computed in PostgreSQL SQL straight from the source tables (the seed's own status
 * words, not the canonical ones), so a mapping, rollup or API error shows up as a mismatch.
 */
const PAID_ORDER = `('completed','paid','succeeded','shipped','delivered','fulfilled','refunded')`;
const PAID_PAYMENT = `('completed','succeeded','paid','refunded')`;
const FROM = '2026-07-01T00:00:00Z';
const TO = '2026-09-01T00:00:00Z';

describe('KPI API end to end against PostgreSQL', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  const mine = generateApiKey('default', ['read']);
  const theirs = generateApiKey('other-shop', ['read']);

  const pgOne = async <T>(sql: string, params: unknown[] = [FROM, TO]): Promise<T> => (await db.pool.query(sql, params)).rows[0] as T;
  const api = async <T = Record<string, unknown>>(path: string, key = mine.key): Promise<{ status: number; body: T }> => {
    const res = await http.get(path, key);
    return { status: res.status, body: (await res.json()) as T };
  };

  const pgMrr = (at: string) => pgOne<{ mrr: string }>(`
      SELECT sum(round(CASE WHEN lower(p.interval) IN ('year','yearly','annual') THEN p.price / 12 ELSE p.price END, 2))::text AS mrr
      FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id
      WHERE s.created_at <= $1::timestamptz AT TIME ZONE 'UTC' AND (s.cancelled_at IS NULL OR s.cancelled_at > $1::timestamptz AT TIME ZONE 'UTC')
        AND lower(s.status) NOT IN ('trialing', 'paused')`, [at]);

  /** Subscriptions cancelled in [from, to), any status, over those active at `from` by MRR's rule. */
  const pgChurn = async (from: string, to: string) => {
    const { cancels, active } = await pgOne<{ cancels: string; active: string }>(`
      SELECT count(*) FILTER (WHERE s.cancelled_at >= $1::timestamptz AT TIME ZONE 'UTC' AND s.cancelled_at < $2::timestamptz AT TIME ZONE 'UTC')::text AS cancels,
             count(*) FILTER (WHERE lower(s.status) NOT IN ('trialing', 'trial', 'paused') AND s.created_at <= $1::timestamptz AT TIME ZONE 'UTC'
               AND (s.cancelled_at IS NULL OR s.cancelled_at > $1::timestamptz AT TIME ZONE 'UTC'))::text AS active
      FROM subscriptions s`, [from, to]);
    return Number(active) === 0 ? null : Number(cancels) / Number(active);
  };

  beforeAll(async () => {
    ({ db } = await generatedSource({ seed: 11, orders: 6000, products: 40, days: 120, end: new Date('2026-09-15T00:00:00Z') }));
    tw = await openTestWarehouse(db.pool, { API_KEYS: `${mine.entry},${theirs.entry}` });
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

  it('every table holds as many rows as its seed table, and orders and payments the same money per day to the cent', async () => {
    const seedTables = { customers: 'users', products: 'products', orders: 'orders', payments: 'payments', subscriptions: 'subscriptions',
      page_views: 'page_views', product_events: 'product_metrics', experiments: 'ab_tests', experiment_units: 'ab_test_results' };
    for (const [table, seed] of Object.entries(seedTables)) {
      const { n } = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM ${seed}`, []);
      const [wh] = await tw.warehouse.query<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM ${table}`);
      expect(wh?.n, table).toBe(n);
    }
    for (const [table, money] of [['orders', 'total'], ['payments', 'amount']] as const) {
      const { rows } = await db.pool.query<{ d: string; s: string; n: string }>(`
        SELECT to_char(created_at::date, 'YYYY-MM-DD') AS d, sum(${money})::text AS s, count(*)::text AS n FROM ${table} GROUP BY 1 ORDER BY 1`);
      const wh = await tw.warehouse.query<{ d: string; s: string; n: string }>(`
        SELECT strftime(CAST(created_at AS DATE), '%Y-%m-%d') AS d, sum(${money})::VARCHAR AS s, count(*)::VARCHAR AS n FROM ${table} GROUP BY 1 ORDER BY 1`);
      expect(wh, table).toEqual(rows);
      expect(rows.length, table).toBeGreaterThan(100);
    }
  });

  it('summary matches PostgreSQL', async () => {
    const { status, body } = await api<{ metrics: Record<string, unknown>; range: { from: string; to: string } }>(
      `/v1/kpis/summary?from=${FROM}&to=${TO}`,
    );
    expect(status).toBe(200);
    expect(body.range).toMatchObject({ from: '2026-07-01T00:00:00.000Z', to: '2026-09-01T00:00:00.000Z' });
    const pay = await pgOne<{ gross: string; refunds: string; net: string; ok: string; failed: string; payers: string }>(`
      SELECT sum(amount) FILTER (WHERE lower(status) IN ${PAID_PAYMENT})::text AS gross,
             coalesce(sum(amount) FILTER (WHERE lower(status) = 'refunded'), 0)::text AS refunds,
             (sum(amount) FILTER (WHERE lower(status) IN ${PAID_PAYMENT}) - coalesce(sum(amount) FILTER (WHERE lower(status) = 'refunded'), 0))::text AS net,
             count(*) FILTER (WHERE lower(status) IN ${PAID_PAYMENT})::text AS ok,
             count(*) FILTER (WHERE lower(status) = 'failed')::text AS failed,
             count(DISTINCT user_id) FILTER (WHERE lower(status) IN ${PAID_PAYMENT})::text AS payers
      FROM payments WHERE created_at >= $1::timestamptz AT TIME ZONE 'UTC' AND created_at < $2::timestamptz AT TIME ZONE 'UTC'`);
    const ord = await pgOne<{ n: string; value: string; aov: string }>(`
      SELECT count(*)::text AS n, sum(total)::text AS value, round(sum(total) / count(*), 2)::text AS aov FROM orders
      WHERE lower(status) IN ${PAID_ORDER} AND created_at >= $1::timestamptz AT TIME ZONE 'UTC' AND created_at < $2::timestamptz AT TIME ZONE 'UTC'`);
    const fresh = await pgOne<{ n: string }>(`
      SELECT count(*)::text AS n FROM (SELECT user_id, min(created_at) AS first FROM payments
        WHERE lower(status) IN ${PAID_PAYMENT} AND user_id IS NOT NULL GROUP BY user_id) f
      WHERE first >= $1::timestamptz AT TIME ZONE 'UTC' AND first < $2::timestamptz AT TIME ZONE 'UTC'`);
    const views = await pgOne<{ n: string }>(`
      SELECT sum(count)::text AS n FROM page_views WHERE timestamp >= $1::timestamptz AT TIME ZONE 'UTC' AND timestamp < $2::timestamptz AT TIME ZONE 'UTC'`);
    const mrr = await pgMrr(TO);
    const arr = await pgOne<{ arr: string }>(`SELECT ($1::numeric * 12)::text AS arr`, [mrr.mrr]);
    const m = body.metrics;
    expectSummaryMatches(m, { pay, ord, fresh }, 'USD');
    expect(m.arr).toEqual([{ currency: 'USD', amount: arr.arr }]);
    expect(m.subscription_churn).toBe(await pgChurn(FROM, TO));
    expect(m.page_views).toBe(Number(views.n));
    expect(m.conversion_rate).toBeCloseTo(Number(ord.n) / Number(views.n), 12);
    expect(m.mrr).toEqual([{ currency: 'USD', amount: mrr.mrr }]);
    expect(Number(pay.gross)).toBeGreaterThan(0);
  });

  it('compare=previous_period gives the change against the same-length window before', async () => {
    const { body } = await api<{ metrics: { orders: number }; deltas: { orders: { previous: number; change: number } } }>(
      `/v1/kpis/summary?from=${FROM}&to=${TO}&compare=previous_period`,
    );
    // [2026-07-01, 2026-09-01) is 62 days; the window before is [2026-04-30, 2026-07-01).
    const prev = await pgOne<{ n: string }>(`SELECT count(*)::text AS n FROM orders WHERE lower(status) IN ${PAID_ORDER}
      AND created_at >= '2026-04-30' AND created_at < '2026-07-01'`, []);
    expect(body.deltas.orders.previous).toBe(Number(prev.n));
    expect(body.deltas.orders.change).toBe(body.metrics.orders - Number(prev.n));
  });

  it('daily net revenue in America/New_York matches PostgreSQL, dense and zero-filled', async () => {
    const { status, body } = await api<{ series: { currency: string; points: { bucket: string; value: string }[] }[] }>(
      `/v1/kpis/timeseries?metric=revenue_net&granularity=day&from=2026-06-01&to=2026-09-15&tz=America/New_York`,
    );
    expect(status).toBe(200);
    const { rows } = await db.pool.query<{ d: string; net: string }>(`
      SELECT to_char((created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York', 'YYYY-MM-DD') AS d,
             (sum(amount) FILTER (WHERE lower(status) IN ${PAID_PAYMENT}) - coalesce(sum(amount) FILTER (WHERE lower(status) = 'refunded'), 0))::text AS net
      FROM payments
      WHERE (created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York' >= '2026-06-01'
        AND (created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York' < '2026-09-15'
      GROUP BY 1`);
    const expected = new Map(rows.map((r) => [r.d, r.net ?? '0.00']));
    const points = body.series.find((s) => s.currency === 'USD')!.points;
    expect(points).toHaveLength(106); // every local day from June 1 to September 14
    for (const p of points) expect(`${p.bucket} ${Number(p.value).toFixed(2)}`).toBe(`${p.bucket} ${Number(expected.get(p.bucket) ?? 0).toFixed(2)}`);
  });

  it('funnel, products and countries match PostgreSQL', async () => {
    const funnel = await api<{ steps: { step: string; count: number }[] }>(`/v1/kpis/funnel?from=${FROM}&to=${TO}`);
    const f = await pgOne<{ pv: string; views: string; carts: string; sales: string }>(`
      SELECT (SELECT sum(count) FROM page_views WHERE timestamp >= $1::timestamptz AT TIME ZONE 'UTC' AND timestamp < $2::timestamptz AT TIME ZONE 'UTC')::text AS pv,
             sum(views)::text AS views, sum(cart_adds)::text AS carts, sum(sales)::text AS sales
      FROM product_metrics WHERE timestamp >= $1::timestamptz AT TIME ZONE 'UTC' AND timestamp < $2::timestamptz AT TIME ZONE 'UTC'`);
    expect(funnel.body.steps.map((s) => s.count)).toEqual([Number(f.pv), Number(f.views), Number(f.carts), Number(f.sales)]);

    const products = await api<{ total: number; items: { product_id: string; units: number; revenue_gross: { amount: string }[] }[] }>(
      `/v1/kpis/products?from=${FROM}&to=${TO}&limit=5`,
    );
    const { rows: top } = await db.pool.query<{ id: string; units: string; gross: string }>(`
      SELECT product_id::text AS id, count(*)::text AS units, sum(amount)::text AS gross FROM payments
      WHERE lower(status) IN ${PAID_PAYMENT} AND created_at >= $1::timestamptz AT TIME ZONE 'UTC' AND created_at < $2::timestamptz AT TIME ZONE 'UTC'
      GROUP BY 1 ORDER BY sum(amount) DESC, 1 LIMIT 5`, [FROM, TO]);
    expect(products.body.items.map((p) => [p.product_id, String(p.units), p.revenue_gross[0]?.amount])).toEqual(top.map((t) => [t.id, t.units, t.gross]));

    const countries = await api<{ items: { country: string; revenue_gross: string; paying_customers: number }[] }>(`/v1/kpis/countries?from=${FROM}&to=${TO}`);
    const { rows: byCountry } = await db.pool.query<{ country: string; gross: string; payers: string }>(`
      SELECT upper(u.country) AS country, sum(p.amount)::text AS gross, count(DISTINCT p.user_id)::text AS payers
      FROM payments p JOIN users u ON u.id = p.user_id
      WHERE lower(p.status) IN ${PAID_PAYMENT} AND p.created_at >= $1::timestamptz AT TIME ZONE 'UTC' AND p.created_at < $2::timestamptz AT TIME ZONE 'UTC'
      GROUP BY 1`, [FROM, TO]);
    const got = Object.fromEntries(countries.body.items.map((c) => [c.country, `${c.revenue_gross} ${c.paying_customers}`]));
    expect(got).toEqual(Object.fromEntries(byCountry.map((c) => [c.country, `${c.gross} ${c.payers}`])));
  });

  it('reconciliation over the generated history finds every row hash equal (PostgreSQL and DuckDB agree)', async () => {
    const results = await reconcileAll(tw.ctx);
    expect(results.map((r) => [r.entity, r.deleted, r.changed])).toEqual(results.map((r) => [r.entity, 0, 0]));
    expect(results.find((r) => r.entity === 'payments')!.sourceRows).toBeGreaterThan(6000);
  });

  it('another tenant sees nothing of this one', async () => {
    const asOther = await api<{ status: number }>(`/v1/kpis/summary?from=${FROM}&to=${TO}&tenant=default`, theirs.key);
    expect(asOther.status).toBe(404);
    const own = await api<{ metrics: { orders: number } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`, theirs.key);
    expect(own.status).toBe(200);
    expect(own.body.metrics.orders).toBe(0);
  });

  // Last: it changes the source. A backdated cancellation is older than the cursor, so the daily
  // reconciliation (row hash) brings it in; the refresh must then rebuild the subscription events.
  it('a subscription cancelled at the source leaves MRR after reconciliation and a refresh', async () => {
    const { rows: [sub] } = await db.pool.query<{ id: number }>(`SELECT id FROM subscriptions
      WHERE cancelled_at IS NULL AND lower(status) = 'active' AND created_at < '2026-08-01' ORDER BY id LIMIT 1`);
    const summary = async () => (await api<{ metrics: { mrr: unknown; subscription_churn: number | null } }>(`/v1/kpis/summary?from=${FROM}&to=${TO}`)).body.metrics;
    const mrr = async () => (await summary()).mrr;
    const before = await mrr();
    await db.pool.query(`UPDATE subscriptions SET cancelled_at = '2026-08-20 12:00:00', status = 'cancelled' WHERE id = $1`, [sub!.id]);
    await reconcileAll(tw.ctx);
    await refreshRollups(tw.warehouse);
    const after = await mrr();
    expect(after).toEqual([{ currency: 'USD', amount: (await pgMrr(TO)).mrr }]);
    expect(after).not.toEqual(before);
    // The cancellation, inside the range, is churn as PostgreSQL counts it from the source.
    const churn = await pgChurn(FROM, TO);
    expect(churn).toBeGreaterThan(0);
    expect((await summary()).subscription_churn).toBeCloseTo(churn!, 12);
  });
});
