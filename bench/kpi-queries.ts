/**
 * KPI rollup and query bench, without PostgreSQL or the ingest: canonical tables are filled straight
 * from DuckDB `range()` SQL, so 10M orders build in about a minute. Prints figures, asserts nothing.
 *
 *   node --import tsx bench/kpi-queries.ts            # 1M orders
 *   KPI_BENCH_ORDERS=10000000 node --import tsx bench/kpi-queries.ts
 *
 * Other knobs: KPI_BENCH_RUNS (timed runs per query, default 200), KPI_BENCH_MEMORY (DuckDB
 * memory_limit, default the service's 1GB), KPI_BENCH_CACHE=0|1 (response cache for the HTTP
 * figures; both are printed when unset), KPI_BENCH_FACTS (a DuckDB file of canonical facts to copy
 * instead of building them, e.g. one kept from an earlier run).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createApp } from '../src/api/app.ts';
import { hashApiKey } from '../src/api-keys.ts';
import { serve } from '../src/api/server.ts';
import { loadConfig } from '../src/config.ts';
import type { KpiRange } from '../src/models/kpis/common.ts';
import { getSummaries } from '../src/models/kpis/get-summary.ts';
import { getTimeseries } from '../src/models/kpis/get-timeseries.ts';
import { KpiCache } from '../src/models/kpis/cache.ts';
import { ENTITIES } from '../src/ingest/entities.ts';
import { deltaInsertSql } from '../src/ingest/merge-sql.ts';
import { refreshRollups } from '../src/models/kpis/rollups.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';

const ORDERS = Number(process.env.KPI_BENCH_ORDERS ?? 1_000_000);
const RUNS = Number(process.env.KPI_BENCH_RUNS ?? 200);
const MEMORY = process.env.KPI_BENCH_MEMORY ?? '1GB';
const CACHE_MODES = process.env.KPI_BENCH_CACHE == null ? [false, true] : [process.env.KPI_BENCH_CACHE === '1'];
const TENANT = 'default';
const END = '2026-11-01 00:00:00';
/** Three years of history, like the ingest bench's generator. */
const SPAN_DAYS = 3 * 365;

const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

async function latency(n: number, fn: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(10, n); i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push((await time(fn))[1]);
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
}

/** A 36-character UUID-shaped text from md5, like the source's uuid keys. */
const uuid = (expr: string) => {
  const m = `md5(${expr})`;
  return `(substr(${m},1,8)||'-'||substr(${m},9,4)||'-'||substr(${m},13,4)||'-'||substr(${m},17,4)||'-'||substr(${m},21,12))`;
};
const pick = (i: string, salt: string, n: number) => `((hash(${i} || '${salt}') % ${n})::BIGINT)`;
const ts = (i: string, salt: string) => `(TIMESTAMP '${END}' - INTERVAL ${SPAN_DAYS} DAY + to_seconds(${pick(i, salt, SPAN_DAYS * 86400)}))`;

/**
 * Canonical facts for N orders: one payment per order (70% succeeded, 10% refunded, 15% failed, 5%
 * pending), N/5 customers, 200 products, N/4 page-view rows, N/4 product-event rows, N/50
 * subscriptions; uuid keys throughout, times uniform over three years.
 */
export async function buildFacts(wh: Warehouse, n: number): Promise<void> {
  const customers = Math.max(10, Math.round(n / 5));
  const products = 200;
  await wh.transaction(async (conn) => {
    await conn.run(`INSERT INTO customers (tenant_id, customer_id, country, segment, created_at, updated_at)
      SELECT '${TENANT}', ${uuid(`'c' || i`)}, list_value('US','TH','DE','IN','BR','FR')[${pick(`i::VARCHAR`, 'cc', 6)} + 1], 'regular', TIMESTAMP '2023-01-01', TIMESTAMP '2023-01-01'
      FROM range(${customers}) r(i)`);
    await conn.run(`INSERT INTO products (tenant_id, product_id, name, category, current_price, currency, active)
      SELECT '${TENANT}', ${uuid(`'p' || i`)}, 'Product ' || i, 'cat' || (i % 7), 19.99, 'USD', true FROM range(${products}) r(i)`);
    await conn.run(`INSERT INTO orders (tenant_id, order_id, customer_id, status, total, currency, created_at, updated_at)
      SELECT '${TENANT}', ${uuid(`'o' || i`)}, ${uuid(`'c' || ${pick('i::VARCHAR', 'oc', customers)}`)},
        list_value('pending','paid','fulfilled','fulfilled','fulfilled','cancelled','refunded','paid')[${pick('i::VARCHAR', 'os', 8)} + 1],
        (${pick('i::VARCHAR', 'ot', 50000)} / 100 + 5)::DECIMAL(18,2), 'USD', ${ts('i::VARCHAR', 'ots')}, ${ts('i::VARCHAR', 'ots')}
      FROM range(${n}) r(i)`);
    await conn.run(`INSERT INTO payments (tenant_id, payment_id, source, order_id, customer_id, product_id, amount, currency, status, refunded_amount, created_at)
      SELECT '${TENANT}', ${uuid(`'pay' || i`)}, 'db', ${uuid(`'o' || i`)}, ${uuid(`'c' || ${pick('i::VARCHAR', 'oc', customers)}`)},
        ${uuid(`'p' || ${pick('i::VARCHAR', 'pp', products)}`)}, amt, 'USD', st,
        CASE WHEN st = 'refunded' THEN amt ELSE 0 END, ${ts('i::VARCHAR', 'ots')}
      FROM (SELECT i, (${pick('i::VARCHAR', 'ot', 50000)} / 100 + 5)::DECIMAL(18,2) AS amt,
              list_value('succeeded','succeeded','succeeded','succeeded','succeeded','succeeded','succeeded','refunded','failed','failed','failed','pending','succeeded','succeeded','failed','pending','succeeded','succeeded','succeeded','refunded')[${pick('i::VARCHAR', 'ps', 20)} + 1] AS st
            FROM range(${n}) r(i))`);
    await conn.run(`INSERT INTO page_views (tenant_id, page_view_id, ts, page, user_id, views)
      SELECT '${TENANT}', ${uuid(`'pv' || i`)}, ${ts('i::VARCHAR', 'pvt')}, '/p', 'u' || ${pick('i::VARCHAR', 'pvu', customers)}, 1 + ${pick('i::VARCHAR', 'pvn', 20)}
      FROM range(${Math.round(n / 4)}) r(i)`);
    await conn.run(`INSERT INTO product_events (tenant_id, event_id, ts, product_id, views, cart_adds, sales)
      SELECT '${TENANT}', ${uuid(`'pe' || i`)}, ${ts('i::VARCHAR', 'pet')}, ${uuid(`'p' || ${pick('i::VARCHAR', 'pep', products)}`)},
        10 + ${pick('i::VARCHAR', 'pev', 30)}, ${pick('i::VARCHAR', 'pec', 8)}, ${pick('i::VARCHAR', 'pes', 3)}
      FROM range(${Math.round(n / 4)}) r(i)`);
    await conn.run(`INSERT INTO subscriptions (tenant_id, subscription_id, customer_id, plan_id, monthly_amount, currency, status, started_at, cancelled_at)
      SELECT '${TENANT}', ${uuid(`'s' || i`)}, ${uuid(`'c' || i`)}, 'plan', (${pick('i::VARCHAR', 'sm', 9000)} / 100 + 5)::DECIMAL(18,2), 'USD',
        list_value('active','active','active','cancelled','trialing')[${pick('i::VARCHAR', 'ss', 5)} + 1], ${ts('i::VARCHAR', 'sst')},
        CASE WHEN ${pick('i::VARCHAR', 'sc', 3)} = 0 THEN ${ts('i::VARCHAR', 'sst')} + INTERVAL 90 DAY END
      FROM range(${Math.max(10, Math.round(n / 50))}) r(i)`);
    await conn.run(`INSERT INTO ingest_state (source, entity, watermark_ts) VALUES ('db', 'payments', TIMESTAMP '${END}')`);
    await conn.run(`INSERT INTO job_runs (job, started_at, finished_at, status) VALUES ('ingest', now()::TIMESTAMP, now()::TIMESTAMP, 'succeeded')`);
  });
}

/**
 * What an incremental ingest does to the payments after 1% of them changed at random across the whole
 * history (status flips, a quarter of them also moved by up to a day) plus 0.5% new ones: replace the
 * rows and record their deltas (old versions −1, new +1) with the SQL merge-sql uses.
 */
export async function changeOnePercent(wh: Warehouse, n: number, round: number): Promise<number> {
  return wh.transaction(async (conn) => {
    await conn.run(`CREATE OR REPLACE TEMP TABLE good AS
      SELECT * REPLACE (
          CASE status WHEN 'succeeded' THEN 'refunded' WHEN 'failed' THEN 'succeeded' WHEN 'pending' THEN 'failed' ELSE 'succeeded' END AS status,
          CASE WHEN status = 'succeeded' THEN amount ELSE 0 END::DECIMAL(18,2) AS refunded_amount,
          CASE WHEN hash(payment_id || 'mv${round}') % 4 = 0 THEN created_at + to_seconds(${pick(`payment_id`, `d${round}`, 86400)}) ELSE created_at END AS created_at)
      FROM payments WHERE hash(payment_id || 'r${round}') % 100 = 0`);
    await conn.run(`INSERT INTO good
      SELECT tenant_id, ${uuid(`'new${round}-' || payment_id`)}, source, external_id, order_id, customer_id, product_id, amount, currency,
             'succeeded', raw_status, 0, created_at + INTERVAL 1 HOUR, completed_at, _hash
      FROM payments WHERE hash(payment_id || 'n${round}') % 200 = 0`);
    const batch = 'payments t SEMI JOIN good g ON t.tenant_id = g.tenant_id AND t.payment_id = g.payment_id';
    await conn.run(deltaInsertSql(ENTITIES.payments!, -1, batch)!);
    await conn.run(`DELETE FROM payments t USING good g WHERE t.payment_id = g.payment_id`);
    await conn.run(`INSERT INTO payments SELECT * FROM good`);
    await conn.run(deltaInsertSql(ENTITIES.payments!, 1, batch)!);
    const rows = await (await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM good')).getRowObjectsJson();
    await conn.run('DROP TABLE good');
    void n;
    return Number(rows[0]!.n);
  });
}

async function main(): Promise<void> {
const work = mkdtempSync(join(tmpdir(), 'pricecast-kpi-bench-'));
try {
  const path = join(work, 'kpi.duckdb');
  if (process.env.KPI_BENCH_FACTS) copyFileSync(process.env.KPI_BENCH_FACTS, path);
  const wh = await Warehouse.open({ path, memoryLimit: MEMORY, threads: 2 });
  const [, buildMs] = await time(() => (process.env.KPI_BENCH_FACTS ? Promise.resolve() : buildFacts(wh, ORDERS)));
  const [[counts]] = [await wh.query<{ p: string; o: string; v: string; e: string }>(`SELECT (SELECT count(*) FROM payments) p, (SELECT count(*) FROM orders) o, (SELECT count(*) FROM page_views) v, (SELECT count(*) FROM product_events) e`)];
  console.log(`# KPI bench: ${ORDERS.toLocaleString()} orders (${Number(counts!.p).toLocaleString()} payments, ${Number(counts!.v).toLocaleString()} page views, ${Number(counts!.e).toLocaleString()} product events), memory_limit ${MEMORY}, 2 threads; facts built in ${fmt(buildMs / 1000, 1)} s`);

  const [full1, fullMs] = await time(() => refreshRollups(wh, { full: true }));
  const [, full2Ms] = await time(() => refreshRollups(wh, { full: true }));
  console.log(`\n## Refresh`);
  console.log(`full refresh:                     ${fmt(fullMs, 0)} ms (again: ${fmt(full2Ms, 0)} ms; ${full1.days} days)`);
  for (let round = 1; round <= 2; round++) {
    const [changed, ingestMs] = await time(() => changeOnePercent(wh, ORDERS, round));
    const [inc, incMs] = await time(() => refreshRollups(wh));
    console.log(`after a 1% random change (#${round}): ${fmt(incMs, 0)} ms (${changed.toLocaleString()} payment rows replaced in ${fmt(ingestMs, 0)} ms; ${inc.days} days touched)`);
  }
  {
    // A typical cron tick: the last two days changed.
    await wh.transaction(async (conn) => {
      const which = `created_at >= TIMESTAMP '${END}' - INTERVAL 2 DAY AND hash(payment_id) % 10 = 0 AND status <> 'refunded'`;
      await conn.run(deltaInsertSql(ENTITIES.payments!, -1, `payments t WHERE ${which}`)!);
      await conn.run(`CREATE OR REPLACE TEMP TABLE moved AS SELECT payment_id FROM payments WHERE ${which}`);
      await conn.run(`UPDATE payments SET status = 'refunded', refunded_amount = amount WHERE payment_id IN (SELECT payment_id FROM moved)`);
      await conn.run(deltaInsertSql(ENTITIES.payments!, 1, `payments t SEMI JOIN moved m ON t.payment_id = m.payment_id`)!);
      await conn.run('DROP TABLE moved');
    });
    const [, ms] = await time(() => refreshRollups(wh));
    console.log(`after a change to the last 2 days: ${fmt(ms, 0)} ms`);
  }

  const year: KpiRange = { tenantId: TENANT, from: new Date('2025-11-01T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') };
  const month: KpiRange = { tenantId: TENANT, from: new Date('2026-10-02T00:00:00Z'), to: new Date('2026-11-01T00:00:00Z') };
  const prevOf = (r: KpiRange): KpiRange => ({ tenantId: r.tenantId, from: new Date(2 * r.from.getTime() - r.to.getTime()), to: r.from });
  const ranges: [string, KpiRange][] = [['30-day', month], ['one-year', year]];

  console.log(`\n## Query functions (cache off, ${RUNS} sequential runs)`);
  for (const [name, r] of ranges) {
    const s = await latency(RUNS, () => getSummaries(wh, r.tenantId, [r, prevOf(r)]));
    const t = await latency(RUNS, () => getTimeseries(wh, r, { metric: 'revenue_net', granularity: 'day', tz: 'America/New_York', defaultCurrency: 'USD' }));
    const pc = await latency(RUNS, () => getTimeseries(wh, r, { metric: 'paying_customers', granularity: 'day', tz: 'America/New_York', defaultCurrency: 'USD' }));
    console.log(`${name.padEnd(8)} summary+previous p50 ${fmt(s.p50, 2)} p99 ${fmt(s.p99, 2)} ms | timeseries revenue_net/day p50 ${fmt(t.p50, 2)} p99 ${fmt(t.p99, 2)} ms | paying_customers/day p50 ${fmt(pc.p50, 2)} p99 ${fmt(pc.p99, 2)} ms`);
  }

  const key = 'pk_bench_0123456789abcdef';
  const config = loadConfig({}, { API_KEYS: `${hashApiKey(key)}:${TENANT}:read`, DUCKDB_PATH: path });
  const kpiCache = new KpiCache();
  const app = createApp({ config, warehouse: wh, logger: pino({ level: 'silent' }), registry: new Registry(), cache: kpiCache });
  const http = await serve(app, { host: '127.0.0.1', port: 0 });
  const get = (p: string) => async () => {
    const res = await fetch(`${http.url}${p}`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  for (const cache of CACHE_MODES) {
    kpiCache.enabled = cache;
    kpiCache.invalidate();
    console.log(`\n## HTTP (cache ${cache ? 'ON' : 'OFF'}, ${RUNS} sequential requests)`);
    for (const [name, r] of ranges) {
      const q = `from=${r.from.toISOString()}&to=${r.to.toISOString()}`;
      const s = await latency(RUNS, get(`/v1/kpis/summary?${q}&compare=previous_period`));
      const t = await latency(RUNS, get(`/v1/kpis/timeseries?metric=revenue_net&granularity=day&${q}&tz=America/New_York`));
      console.log(`${name.padEnd(8)} summary?compare=previous_period p50 ${fmt(s.p50, 2)} p99 ${fmt(s.p99, 2)} ms | timeseries revenue_net/day NY p50 ${fmt(t.p50, 2)} p99 ${fmt(t.p99, 2)} ms`);
    }
  }
  await http.close(1000);
  await wh.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
}

// Runs when executed, not when a scratch script imports the builders.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
