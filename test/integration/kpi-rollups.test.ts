import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, type KpiRange } from '../../src/models/kpis/common.ts';
import { getCountries } from '../../src/models/kpis/get-countries.ts';
import { getFunnel } from '../../src/models/kpis/get-funnel.ts';
import { getProducts } from '../../src/models/kpis/get-products.ts';
import { getSummary, type SummaryMetrics } from '../../src/models/kpis/get-summary.ts';
import { getTimeseries, type TimeseriesMetric } from '../../src/models/kpis/get-timeseries.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { tempDir } from '../helpers/source-db.ts';
import { insertFacts } from '../helpers/kpi-facts.ts';
import { deleteThroughIngest, loadThroughIngest } from '../helpers/through-ingest.ts';

/*
 * Every KPI query is checked against the same metric computed from the raw canonical tables with
 * an independent formulation: local buckets come from DuckDB's ICU (timezone() + date_trunc), not
 * from the JS bucket edges the queries use, and sums run over facts, not rollups.
 */

let dir: ReturnType<typeof tempDir>;
let wh: Warehouse;

const ts = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');
const money = (rows: { currency: string; amount: string }[]) => Object.fromEntries(rows.map((r) => [r.currency, Number(r.amount).toFixed(2)]));

async function rawSummary(r: KpiRange): Promise<Record<string, unknown>> {
  const p = { t: r.tenantId, f: ts(r.from), e: ts(r.to) };
  const inRange = (col: string) => `tenant_id = $t AND ${col} >= $f::TIMESTAMP AND ${col} < $e::TIMESTAMP`;
  const pay = await db(wh).query<{ currency: string; gross: string; refunds: string }>(`
    SELECT currency, sum(amount)::VARCHAR AS gross, sum(refunded_amount)::VARCHAR AS refunds FROM payments
    WHERE ${inRange('created_at')} AND status IN ('succeeded', 'refunded') GROUP BY currency`, p);
  const ord = await db(wh).query<{ currency: string; n: string; v: string }>(`
    SELECT currency, count(*) AS n, sum(total)::VARCHAR AS v FROM orders
    WHERE ${inRange('created_at')} AND status IN ('paid', 'fulfilled', 'refunded') GROUP BY currency`, p);
  const [one] = await db(wh).query<Record<string, string | null>>(`
    SELECT
      (SELECT count(DISTINCT customer_id) FROM payments WHERE ${inRange('created_at')} AND status IN ('succeeded', 'refunded')) AS paying,
      (SELECT count(*) FROM (SELECT customer_id, min(created_at) AS first FROM payments
         WHERE tenant_id = $t AND status IN ('succeeded', 'refunded') AND customer_id IS NOT NULL GROUP BY customer_id)
       WHERE first >= $f::TIMESTAMP AND first < $e::TIMESTAMP) AS fresh,
      (SELECT count(*) FILTER (WHERE status IN ('succeeded', 'refunded')) FROM payments WHERE ${inRange('created_at')}) AS ok,
      (SELECT count(*) FILTER (WHERE status = 'failed') FROM payments WHERE ${inRange('created_at')}) AS failed,
      (SELECT sum(views) FROM page_views WHERE ${inRange('ts')}) AS views,
      (SELECT count(*) FROM subscriptions WHERE tenant_id = $t AND cancelled_at >= $f::TIMESTAMP AND cancelled_at < $e::TIMESTAMP) AS cancelled,
      (SELECT count(*) FROM subscriptions WHERE tenant_id = $t AND started_at <= $f::TIMESTAMP
         AND (cancelled_at IS NULL OR cancelled_at > $f::TIMESTAMP) AND status NOT IN ('trialing', 'paused')) AS active_from`, p);
  const mrr = await db(wh).query<{ currency: string; mrr: string }>(`
    SELECT currency, sum(monthly_amount)::VARCHAR AS mrr FROM subscriptions
    WHERE tenant_id = $t AND started_at <= $e::TIMESTAMP AND (cancelled_at IS NULL OR cancelled_at > $e::TIMESTAMP)
      AND status NOT IN ('trialing', 'paused') GROUP BY currency`, p);
  const orders = ord.reduce((s, x) => s + Number(x.n), 0);
  const ok = Number(one!.ok);
  const failed = Number(one!.failed);
  const views = Number(one!.views ?? 0);
  return {
    revenue_gross: Object.fromEntries(pay.map((x) => [x.currency, Number(x.gross).toFixed(2)])),
    refunds: Object.fromEntries(pay.map((x) => [x.currency, Number(x.refunds).toFixed(2)])),
    revenue_net: Object.fromEntries(pay.map((x) => [x.currency, (Math.round(Number(x.gross) * 100 - Number(x.refunds) * 100) / 100).toFixed(2)])),
    orders,
    order_value: Object.fromEntries(ord.map((x) => [x.currency, Number(x.v).toFixed(2)])),
    aov: Object.fromEntries(ord.map((x) => [x.currency, (Math.round((Number(x.v) * 100) / Number(x.n)) / 100).toFixed(2)])),
    paying_customers: Number(one!.paying),
    new_customers: Number(one!.fresh),
    payment_success_rate: ok + failed ? ok / (ok + failed) : null,
    page_views: views,
    conversion_rate: views ? orders / views : null,
    mrr: Object.fromEntries(mrr.map((x) => [x.currency, Number(x.mrr).toFixed(2)])),
    arr: Object.fromEntries(mrr.map((x) => [x.currency, (Number(x.mrr) * 12).toFixed(2)])),
    subscription_churn: Number(one!.active_from) ? Number(one!.cancelled) / Number(one!.active_from) : null,
  };
}

function shape(s: SummaryMetrics): Record<string, unknown> {
  return {
    ...s,
    revenue_gross: money(s.revenue_gross), refunds: money(s.refunds), revenue_net: money(s.revenue_net),
    order_value: money(s.order_value), aov: money(s.aov as { currency: string; amount: string }[]),
    mrr: money(s.mrr), arr: money(s.arr),
  };
}

async function expectSummaryMatches(r: KpiRange): Promise<void> {
  const got = shape(await getSummary(wh, r));
  const want = await rawSummary(r);
  for (const k of ['payment_success_rate', 'conversion_rate', 'subscription_churn'] as const) {
    if (want[k] == null) expect(got[k]).toBeNull();
    else expect(got[k] as number).toBeCloseTo(want[k] as number, 12);
    delete got[k];
    delete want[k];
  }
  expect(got).toEqual(want);
}

/** Raw per-local-bucket values of one metric, keyed by label (and currency for money). */
async function rawSeries(r: KpiRange, tz: string, g: string, metric: TimeseriesMetric): Promise<Map<string, string | number | null>> {
  const p = { t: r.tenantId, f: ts(r.from), e: ts(r.to), tz };
  const label = (col: string) => `strftime(date_trunc('${g}', timezone($tz, ${col}::TIMESTAMPTZ)), '%Y-%m-%d')`;
  const where = (col: string) => `tenant_id = $t AND ${col} >= $f::TIMESTAMP AND ${col} < $e::TIMESTAMP`;
  let sql: string;
  switch (metric) {
    case 'revenue_gross':
      sql = `SELECT ${label('created_at')} || '|' || currency AS k, sum(amount)::VARCHAR AS v FROM payments WHERE ${where('created_at')} AND status IN ('succeeded','refunded') GROUP BY ALL`;
      break;
    case 'revenue_net':
      sql = `SELECT ${label('created_at')} || '|' || currency AS k, sum(amount - refunded_amount)::VARCHAR AS v FROM payments WHERE ${where('created_at')} AND status IN ('succeeded','refunded') GROUP BY ALL`;
      break;
    case 'orders':
      sql = `SELECT ${label('created_at')} AS k, count(*) AS v FROM orders WHERE ${where('created_at')} AND status IN ('paid','fulfilled','refunded') GROUP BY ALL`;
      break;
    case 'paying_customers':
      sql = `SELECT ${label('created_at')} AS k, count(DISTINCT customer_id) AS v FROM payments WHERE ${where('created_at')} AND status IN ('succeeded','refunded') GROUP BY ALL`;
      break;
    case 'new_customers':
      sql = `SELECT ${label('first')} AS k, count(*) AS v FROM (SELECT tenant_id, customer_id, min(created_at) AS first FROM payments
             WHERE status IN ('succeeded','refunded') AND customer_id IS NOT NULL GROUP BY ALL) WHERE ${where('first')} GROUP BY ALL`;
      break;
    case 'page_views':
      sql = `SELECT ${label('ts')} AS k, sum(views) AS v FROM page_views WHERE ${where('ts')} GROUP BY ALL`;
      break;
    case 'payment_success_rate':
      sql = `SELECT ${label('created_at')} AS k, count(*) FILTER (WHERE status IN ('succeeded','refunded')) / count(*) FILTER (WHERE status <> 'pending') AS v
             FROM payments WHERE ${where('created_at')} AND status <> 'pending' GROUP BY ALL`;
      break;
    default:
      throw new Error(`no reference for ${metric}`);
  }
  const rows = await db(wh).query<{ k: string; v: string | number }>(sql, p);
  return new Map(rows.map((x) => [x.k, x.v]));
}

async function expectSeriesMatches(r: KpiRange, tz: string, granularity: 'day' | 'week' | 'month', metric: TimeseriesMetric): Promise<void> {
  const got = await getTimeseries(wh, r, { metric, granularity, tz, defaultCurrency: 'USD' });
  const want = await rawSeries(r, tz, granularity, metric);
  const seen = new Set<string>();
  for (const s of got.series) {
    for (const pt of s.points) {
      const key = s.currency ? `${pt.bucket}|${s.currency}` : pt.bucket;
      seen.add(key);
      const w = want.get(key);
      if (got.unit === 'money') expect(pt.value, `${metric} ${key}`).toBe(Number(w ?? 0).toFixed(2));
      else if (got.unit === 'ratio') {
        if (w == null) expect(pt.value).toBeNull();
        else expect(pt.value as number).toBeCloseTo(Number(w), 12);
      } else expect(pt.value, `${metric} ${key} ${tz}`).toBe(Number(w ?? 0));
    }
  }
  for (const k of want.keys()) expect(seen.has(k), `bucket ${k} missing from ${metric}`).toBe(true);
}

async function expectOthersMatch(r: KpiRange): Promise<void> {
  const p = { t: r.tenantId, f: ts(r.from), e: ts(r.to) };
  const where = (col: string, a = '') => `${a}tenant_id = $t AND ${a}${col} >= $f::TIMESTAMP AND ${a}${col} < $e::TIMESTAMP`;

  const funnel = await getFunnel(wh, r);
  const [fr] = await db(wh).query<Record<string, string | null>>(`
    SELECT (SELECT sum(views) FROM page_views WHERE ${where('ts')}) AS pv, sum(views) AS v, sum(cart_adds) AS c, sum(sales) AS s
    FROM product_events WHERE ${where('ts')}`, p);
  expect(funnel.steps.map((s) => s.count)).toEqual([fr!.pv, fr!.v, fr!.c, fr!.s].map((x) => Number(x ?? 0)));

  const countries = await getCountries(wh, r);
  const cr = await db(wh).query<{ country: string | null; currency: string; g: string; n: string; pc: string; net: string }>(`
    SELECT c.country, p.currency, sum(p.amount)::VARCHAR AS g, sum(p.amount - p.refunded_amount)::VARCHAR AS net, count(*) AS n,
           count(DISTINCT p.customer_id) AS pc
    FROM payments p LEFT JOIN customers c ON c.tenant_id = p.tenant_id AND c.customer_id = p.customer_id
    WHERE ${where('created_at', 'p.')} AND p.status IN ('succeeded','refunded') GROUP BY ALL`, p);
  const key = (c: string | null, cur: string) => `${c ?? '-'}|${cur}`;
  expect(Object.fromEntries(countries.map((x) => [key(x.country, x.currency), [x.revenue_gross, x.revenue_net, x.payments, x.paying_customers]])))
    .toEqual(Object.fromEntries(cr.map((x) => [key(x.country, x.currency), [Number(x.g).toFixed(2), Number(x.net).toFixed(2), Number(x.n), Number(x.pc)]])));

  const products = await getProducts(wh, r, { sort: 'units', order: 'desc', limit: 500, offset: 0 });
  const pr = await db(wh).query<{ product_id: string; units: string; g: string | null; views: string | null; sales: string | null }>(`
    WITH ids AS (SELECT product_id FROM products WHERE tenant_id = $t
                 UNION SELECT product_id FROM payments WHERE ${where('created_at')} AND status IN ('succeeded','refunded') AND product_id IS NOT NULL
                 UNION SELECT product_id FROM product_events WHERE ${where('ts')} AND product_id IS NOT NULL)
    SELECT ids.product_id,
      (SELECT count(*) FROM payments p WHERE ${where('created_at', 'p.')} AND p.status IN ('succeeded','refunded') AND p.product_id = ids.product_id) AS units,
      (SELECT sum(amount)::VARCHAR FROM payments p WHERE ${where('created_at', 'p.')} AND p.status IN ('succeeded','refunded') AND p.product_id = ids.product_id) AS g,
      (SELECT sum(views) FROM product_events e WHERE ${where('ts', 'e.')} AND e.product_id = ids.product_id) AS views,
      (SELECT sum(sales) FROM product_events e WHERE ${where('ts', 'e.')} AND e.product_id = ids.product_id) AS sales
    FROM ids`, p);
  expect(products.total).toBe(pr.length);
  const got = Object.fromEntries(products.rows.map((x) => [x.product_id, [x.units, x.revenue_gross.reduce((s, m) => s + Number(m.amount), 0).toFixed(2), x.views, x.purchases]]));
  expect(got).toEqual(Object.fromEntries(pr.map((x) => [x.product_id, [Number(x.units), Number(x.g ?? 0).toFixed(2), Number(x.views ?? 0), Number(x.sales ?? 0)]])));
  const units = products.rows.map((x) => x.units);
  expect(units).toEqual([...units].sort((a, b) => b - a));
}

/** MRR at each bucket end and churn per bucket, straight from subscriptions, one query per bucket. */
async function expectSubscriptionSeriesMatch(r: KpiRange, tz: string): Promise<void> {
  const mrr = await getTimeseries(wh, r, { metric: 'mrr', granularity: 'week', tz, defaultCurrency: 'USD' });
  const churn = await getTimeseries(wh, r, { metric: 'subscription_churn', granularity: 'week', tz, defaultCurrency: 'USD' });
  expect(mrr.series.length).toBeGreaterThan(0);
  for (const [i, pt] of churn.series[0]!.points.entries()) {
    const p = { t: r.tenantId, s: ts(new Date(pt.start)), e: ts(new Date(pt.end)) };
    const [row] = await db(wh).query<{ active: string; cancelled: string }>(`
      SELECT (SELECT count(*) FROM subscriptions WHERE tenant_id = $t AND started_at <= $s::TIMESTAMP
                AND (cancelled_at IS NULL OR cancelled_at > $s::TIMESTAMP) AND status NOT IN ('trialing', 'paused')) AS active,
             (SELECT count(*) FROM subscriptions WHERE tenant_id = $t AND cancelled_at >= $s::TIMESTAMP AND cancelled_at < $e::TIMESTAMP) AS cancelled`, p);
    const want = Number(row!.active) ? Number(row!.cancelled) / Number(row!.active) : null;
    if (want == null) expect(pt.value).toBeNull();
    else expect(pt.value as number).toBeCloseTo(want, 12);
    const mrrRows = await db(wh).query<{ currency: string; v: string }>(`
      SELECT currency, sum(monthly_amount)::VARCHAR AS v FROM subscriptions WHERE tenant_id = $t AND started_at <= $e::TIMESTAMP
        AND (cancelled_at IS NULL OR cancelled_at > $e::TIMESTAMP) AND status NOT IN ('trialing', 'paused') GROUP BY currency`, p);
    for (const s of mrr.series) {
      const w = mrrRows.find((x) => x.currency === s.currency);
      expect(s.points[i]!.value, `mrr ${s.currency} ${pt.bucket}`).toBe(Number(w?.v ?? 0).toFixed(2));
    }
  }
}

const RANGES: [string, KpiRange][] = [
  ['March around the US DST change', { tenantId: 't1', from: new Date('2024-03-01T05:00:00Z'), to: new Date('2024-04-01T04:00:00Z') }],
  ['a whole year', { tenantId: 't1', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2025-01-01T00:00:00Z') }],
  ['an odd quarter-hour range', { tenantId: 't2', from: new Date('2024-10-30T13:45:00Z'), to: new Date('2024-11-06T02:15:00Z') }],
];

async function checkAll(): Promise<void> {
  for (const [, r] of RANGES) {
    await expectSummaryMatches(r);
    await expectOthersMatch(r);
  }
  const [, march] = RANGES[0]!;
  const [, year] = RANGES[1]!;
  const [, odd] = RANGES[2]!;
  for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
    for (const metric of ['revenue_gross', 'revenue_net', 'orders', 'paying_customers', 'new_customers', 'page_views', 'payment_success_rate'] as const) {
      await expectSeriesMatches(march, tz, 'day', metric);
      await expectSeriesMatches(odd, tz, 'day', metric);
    }
    await expectSeriesMatches(year, tz, 'week', 'revenue_gross');
    await expectSeriesMatches(year, tz, 'month', 'paying_customers');
  }
  await expectSubscriptionSeriesMatch(year, 'America/New_York');
  // The fixture must exercise every metric, or a match would prove little.
  const s = await getSummary(wh, march);
  expect(s.orders).toBeGreaterThan(100);
  expect(s.new_customers).toBeGreaterThan(0);
  expect(s.refunds.find((m) => m.currency === 'USD')!.amount).not.toBe('0.00');
  expect(s.mrr.length).toBe(2);
  expect(s.subscription_churn).toBeGreaterThan(0);
  expect((await getCountries(wh, march)).some((c) => c.country == null)).toBe(true);
}

const TABLES = ['kpi_payments_15m', 'kpi_orders_15m', 'kpi_page_views_15m', 'kpi_product_events_15m', 'kpi_product_payments_15m',
  'kpi_customer_15m', 'kpi_paying_15m', 'kpi_paying_days', 'kpi_paying_lo', 'kpi_new_customers_15m', 'kpi_subscription_days'];

/** Per table: row count and an order-independent hash of every row. */
async function snapshot(tables: string[]): Promise<Record<string, string>> {
  return Object.fromEntries(await Promise.all(tables.map(async (t) =>
    [t, (await db(wh).query<{ h: string }>(`SELECT count(*)::VARCHAR || ':' || coalesce(sum(hash(t::VARCHAR))::VARCHAR, '') AS h FROM ${t} t`))[0]!.h] as const)));
}

async function pending(): Promise<{ deltas: number; overflow: number }> {
  const [r] = await db(wh).query<{ d: string; o: string }>(`SELECT
    (SELECT count(*) FROM delta_payments) + (SELECT count(*) FROM delta_orders) + (SELECT count(*) FROM delta_page_views) + (SELECT count(*) FROM delta_product_events) AS d,
    (SELECT count(*) FROM delta_overflow) AS o`);
  return { deltas: Number(r!.d), overflow: Number(r!.o) };
}

/**
 * Refreshes from the deltas the ingest recorded (which must take the folding path), checks every
 * query against the raw facts, then checks that a full rebuild from the facts gives the very same
 * rows in every rollup table.
 */
async function expectFoldEqualsRebuild(): Promise<{ days: number }> {
  const { deltas, overflow } = await pending();
  expect(deltas).toBeGreaterThan(0);
  expect(overflow).toBe(0);
  const [d] = await db(wh).query<{ n: string }>(`SELECT count(*) AS n FROM (
    SELECT tenant_id, CAST(created_at AS DATE) FROM delta_payments UNION SELECT tenant_id, CAST(created_at AS DATE) FROM delta_orders UNION
    SELECT tenant_id, CAST(ts AS DATE) FROM delta_page_views UNION SELECT tenant_id, CAST(ts AS DATE) FROM delta_product_events)`);
  const res = await refreshRollups(wh);
  expect(res.days).toBe(Number(d!.n));
  expect(await pending()).toEqual({ deltas: 0, overflow: 0 });
  const [state] = await db(wh).query<{ full_refresh: boolean }>('SELECT full_refresh FROM kpi_rollup_state');
  expect(state!.full_refresh).toBe(false);
  await checkAll();
  // The summing rollups got the deltas appended; compacted, every table holds what a rebuild writes.
  const [appended] = await db(wh).query<{ n: string }>(`SELECT
    (SELECT count(*) > 0 FROM kpi_customer_15m WHERE appended)::INT + (SELECT count(*) > 0 FROM kpi_product_payments_15m WHERE appended)::INT AS n`);
  expect(Number(appended!.n)).toBeGreaterThan(0);
  const compaction = await refreshRollups(wh, { compact: true });
  expect(compaction.compacted.length).toBe(Number(appended!.n));
  await checkAll();
  const folded = await snapshot(TABLES);
  await refreshRollups(wh, { full: true });
  const rebuilt = await snapshot(TABLES);
  for (const t of TABLES) expect(folded[t], t).toBe(rebuilt[t]);
  return res;
}

beforeAll(async () => {
  dir = tempDir();
  wh = await Warehouse.open({ path: join(dir.path, 'kpi.duckdb') });
  await insertFacts(wh);
});

afterAll(async () => {
  await wh?.close();
  dir?.remove();
});

describe('KPI rollups', () => {
  it('first refresh computes everything and every query matches the raw facts', async () => {
    const res = await refreshRollups(wh, { now: () => new Date('2025-01-02T00:00:00Z') });
    expect(res.days).toBeGreaterThan(500);
    expect(res.computedAt).toBe('2025-01-02T00:00:00.000Z');
    expect(await pending()).toEqual({ deltas: 0, overflow: 0 });
    const [state] = await db(wh).query<{ full_refresh: boolean }>('SELECT full_refresh FROM kpi_rollup_state');
    expect(state!.full_refresh).toBe(true);
    await checkAll();
  });

  it('folding the ingest\'s deltas tracks changed, moved and deleted facts and equals a full rebuild, table by table', async () => {
    const now = `TIMESTAMP '2024-11-01 00:00:00' AS _cursor_ts`;
    // Status flips (refunds, failures, recoveries), through a real ingest batch.
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * EXCLUDE (_hash) REPLACE (
        CASE status WHEN 'failed' THEN 'succeeded' WHEN 'succeeded' THEN 'refunded' ELSE 'failed' END AS status,
        CASE WHEN status = 'succeeded' THEN amount ELSE 0 END::DECIMAL(18,2) AS refunded_amount), ${now}
      FROM payments WHERE hash(payment_id) % 11 = 0`);
    // Moves to another day (and so maybe another first-payment bucket), another customer or product, no customer.
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * EXCLUDE (_hash) REPLACE (
        created_at - INTERVAL 3 DAY - INTERVAL 7 MINUTE AS created_at,
        CASE WHEN hash(payment_id) % 2 = 0 THEN 'c' || hash(payment_id) % 50 ELSE customer_id END AS customer_id,
        CASE WHEN hash(payment_id) % 3 = 0 THEN NULL ELSE product_id END AS product_id,
        CASE WHEN hash(payment_id) % 5 = 0 THEN 'EUR' ELSE currency END AS currency), ${now}
      FROM payments WHERE hash(payment_id) % 33 = 1`);
    // A re-read of unchanged rows (the lookback): −1 and +1 cancel.
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * EXCLUDE (_hash), ${now} FROM payments WHERE hash(payment_id) % 40 = 3`);
    // Late payments: a brand-new customer, and one before the history started.
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * FROM (VALUES
        ('t1', 'late1', 'db', NULL, NULL, 'brand-new', 'prod1', 42.42, 'USD', 'succeeded', NULL, 0, TIMESTAMP '2024-03-10 06:59:59', NULL),
        ('t1', 'late2', 'db', NULL, NULL, 'brand-new', 'prod1', 10.00, 'USD', 'succeeded', NULL, 0, TIMESTAMP '2024-03-10 04:59:59', NULL),
        ('t1', 'early1', 'db', NULL, NULL, 'c3', NULL, 5.00, 'USD', 'succeeded', NULL, 0, TIMESTAMP '2023-12-30 10:00:00', NULL))
      v(tenant_id, payment_id, source, external_id, order_id, customer_id, product_id, amount, currency, status, raw_status, refunded_amount, created_at, completed_at),
      (SELECT ${now})`);
    // Deletes as the reconciliation does them, including t2's first paying day (its lo moves later).
    await deleteThroughIngest(wh, 'payments', `hash(payment_id) % 29 = 7 OR (tenant_id = 't2' AND CAST(created_at AS DATE) =
      (SELECT min(CAST(created_at AS DATE)) FROM payments WHERE tenant_id = 't2' AND status IN ('succeeded', 'refunded')))`);
    await deleteThroughIngest(wh, 'orders', 'hash(order_id) % 9 = 0');
    await loadThroughIngest(wh, dir.path, 'orders', `SELECT * EXCLUDE (_hash) REPLACE (
        CASE status WHEN 'paid' THEN 'refunded' WHEN 'pending' THEN 'paid' ELSE 'cancelled' END AS status, total + 1 AS total), ${now}
      FROM orders WHERE hash(order_id) % 13 = 2`);
    // Page views up, down to 0 (the rollup row stays while a fact is left), and gone.
    await loadThroughIngest(wh, dir.path, 'page_views', `SELECT * EXCLUDE (_hash) REPLACE (
        CASE WHEN hash(page_view_id) % 2 = 0 THEN 0 ELSE views + 5 END AS views), ${now}
      FROM page_views WHERE hash(page_view_id) % 17 = 0`);
    await deleteThroughIngest(wh, 'page_views', 'hash(page_view_id) % 23 = 4');
    await loadThroughIngest(wh, dir.path, 'product_events', `SELECT * EXCLUDE (_hash) REPLACE (
        CASE WHEN hash(event_id) % 3 = 0 THEN NULL ELSE 'prod' || hash(event_id) % 7 END AS product_id, ts + INTERVAL 20 MINUTE AS ts, sales + 1 AS sales), ${now}
      FROM product_events WHERE hash(event_id) % 19 = 0`);
    await deleteThroughIngest(wh, 'product_events', 'hash(event_id) % 31 = 5');
    // Dimensions and subscriptions change in place (joined at query time / rebuilt when changed),
    // marked changed as the ingest marks them.
    await wh.transaction(async (conn) => {
      await conn.run(`UPDATE customers SET country = 'FR' WHERE customer_id = 'c7'`);
      await conn.run(`UPDATE subscriptions SET cancelled_at = TIMESTAMP '2024-03-15 10:00:00', status = 'cancelled' WHERE subscription_id IN ('sub1', 'sub2')`);
      await conn.run(`INSERT INTO changed_entities VALUES ('subscriptions')`);
    });
    await expectFoldEqualsRebuild();
  });

  it('a small change folds in a handful of days and equals a full rebuild, even when a tenant\'s first paying day goes', async () => {
    const days = `CAST(created_at AS DATE) IN (DATE '2024-03-10', DATE '2024-06-02', DATE '2024-11-03')`;
    const now = `TIMESTAMP '2024-11-02 00:00:00' AS _cursor_ts`;
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * EXCLUDE (_hash) REPLACE (
        CASE status WHEN 'succeeded' THEN 'failed' ELSE 'succeeded' END AS status), ${now}
      FROM payments WHERE ${days} AND hash(payment_id) % 3 = 0`);
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * EXCLUDE (_hash) REPLACE (TIMESTAMP '2024-06-02 23:50:00' AS created_at), ${now}
      FROM payments WHERE ${days} AND hash(payment_id) % 7 = 1`);
    await deleteThroughIngest(wh, 'payments', `${days} AND hash(payment_id) % 5 = 2`);
    // t1's first paying day goes (the payment before the history, loaded above): its lo moves later.
    await deleteThroughIngest(wh, 'payments', `payment_id = 'early1'`);
    await loadThroughIngest(wh, dir.path, 'payments', `SELECT * FROM (VALUES
        ('t2', 'early3', 'db', NULL, NULL, 'c8', NULL, 5.00, 'USD', 'succeeded', NULL, 0, TIMESTAMP '2024-03-10 00:05:00', NULL))
      v(tenant_id, payment_id, source, external_id, order_id, customer_id, product_id, amount, currency, status, raw_status, refunded_amount, created_at, completed_at),
      (SELECT ${now})`);
    const res = await expectFoldEqualsRebuild();
    expect(res.days).toBeLessThan(10);
  });

  it('MRR and churn are exact at instants off the 15-minute grid, events on the instant included', async () => {
    // Ranges that start or end exactly on a subscription's start or cancellation, and a second before.
    const [x] = await db(wh).query<{ s: string; c: string }>(`
      SELECT started_at::VARCHAR AS s, cancelled_at::VARCHAR AS c FROM subscriptions
      WHERE tenant_id = 't1' AND cancelled_at > started_at + INTERVAL 1 DAY AND status NOT IN ('trialing', 'paused')
        AND second(started_at) <> 0 ORDER BY subscription_id LIMIT 1`);
    const at = (v: string, shift = 0) => new Date(Date.parse(`${v.replace(' ', 'T')}Z`) + shift);
    for (const [from, to] of [[at(x!.s, -86_400_000), at(x!.s)], [at(x!.s, -86_400_000), at(x!.s, -1000)], [at(x!.s), at(x!.c)], [at(x!.s, 1000), at(x!.c, -1000)]]) {
      expect(from!.getTime() % 900_000 || to!.getTime() % 900_000).not.toBe(0);
      const got = shape(await getSummary(wh, { tenantId: 't1', from: from!, to: to! }));
      const want = await rawSummary({ tenantId: 't1', from: from!, to: to! });
      expect({ mrr: got.mrr, arr: got.arr }).toEqual({ mrr: want.mrr, arr: want.arr });
      if (want.subscription_churn == null) expect(got.subscription_churn).toBeNull();
      else expect(got.subscription_churn as number).toBeCloseTo(want.subscription_churn as number, 12);
    }
  });

  it('a refresh with nothing to fold changes nothing', async () => {
    const before = await snapshot(TABLES);
    const res = await refreshRollups(wh);
    expect(res.days).toBe(0);
    expect(await snapshot(TABLES)).toEqual(before);
  });

  it('records as_of from the ingest watermarks and computed_at', async () => {
    await wh.transaction(async (conn) => {
      await conn.run(`INSERT INTO ingest_state (source, entity, watermark_ts) VALUES ('db', 'payments', TIMESTAMP '2024-12-01 10:00:00'), ('db', 'orders', TIMESTAMP '2024-12-02 11:00:00')`);
    });
    await refreshRollups(wh, { now: () => new Date('2024-12-02T11:05:00Z') });
    const [s] = await db(wh).query<{ as_of: string; computed_at: string }>('SELECT as_of::VARCHAR AS as_of, computed_at::VARCHAR AS computed_at FROM kpi_rollup_state');
    expect(s).toEqual({ as_of: '2024-12-02 11:00:00', computed_at: '2024-12-02 11:05:00' });
  });
});
