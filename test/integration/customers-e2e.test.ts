import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { parseCsv } from '../../src/api/csv.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { customerOptions } from '../../src/jobs/definitions.ts';
import { runCustomers } from '../../src/models/customers/run-customers.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import type { Truth } from '../../src/synth/pricing-platform.ts';
import { generatedSource, type SourceDb } from '../helpers/source-db.ts';
import { serveApi } from '../helpers/api.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/** The source's order statuses the profile maps to paid or fulfilled: the purchases the customer models count. */
const PURCHASED = `lower(status) IN ('completed', 'paid', 'succeeded', 'shipped', 'delivered', 'fulfilled')`;

/**
 * Customers end to end on generated seed-004 data (BG/NBD purchase timing): PostgreSQL → ingest →
 * customers job → HTTP, each figure checked against SQL on the source.
 */
describe('customers end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let lastDay: string;
  let truth: Truth;
  const mine = generateApiKey('default', ['read']);
  const other = generateApiKey('other-shop', ['read']);
  const get = (path: string, key = mine.key) => http.get(path, key);
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };

  type Item = { customer_id: string; orders: number; status: string; days_since_last_order: number | null; p_no_purchase: number; clv: number; value_at_risk: number; expected_next_order: string | null; last_order: string | null };

  beforeAll(async () => {
    ({ db, truth } = await generatedSource({ seed: 9, orders: 6_000, products: 20, days: 365, experiments: false, end: new Date('2026-09-15T00:00:00Z') }));
    tw = await openTestWarehouse(db.pool, { API_KEYS: `${mine.entry},${other.entry}` });
    await ingestAll(tw.ctx);
    await refreshRollups(tw.warehouse);
    await runCustomers(tw.warehouse, customerOptions(tw.config));
    const [run] = await tw.warehouse.query<{ d: string }>(`SELECT last_day::VARCHAR AS d FROM customer_model_runs`);
    lastDay = run!.d;
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  it('scores every source user; statuses and purchase counts agree with SQL on the source', async () => {
    type Model = { customers: number; statuses: Record<string, number>; bgnbd: { params: Record<string, number>; se: Record<string, number> }; gamma_gamma: { params: Record<string, number> } };
    const model = await json<Model>('/v1/customers/model');
    const { rows: [users] } = await db.pool.query<{ n: string; buyers: string }>(`
      SELECT count(*)::text AS n, (SELECT count(DISTINCT user_id)::text FROM orders WHERE ${PURCHASED} AND created_at < $1::date + 1) AS buyers FROM users`, [lastDay]);
    expect(model.customers).toBe(Number(users!.n));
    expect(model.statuses.NO_ORDERS_YET).toBe(Number(users!.n) - Number(users!.buyers));
    expect(Object.values(model.statuses).reduce((a, b) => a + b, 0)).toBe(model.customers);
    // The generator's BG/NBD parameters (its days are operational days, nearly calendar days) recovered
    // within 4 standard errors.
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(model.bgnbd.se[k]).toBeGreaterThan(0);
      expect(Math.abs(model.bgnbd.params[k]! - truth.customers[k])).toBeLessThan(4 * model.bgnbd.se[k]!);
    }

    // Every customer with purchases, through the cursor, against purchase days counted in PostgreSQL.
    const seen = new Map<string, Item>();
    let cursor: string | null = null;
    let pages = 0;
    let previous = Infinity;
    do {
      const page: { items: Item[]; next_cursor: string | null; total: number } = await json(`/v1/customers/at-risk?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      for (const it of page.items) {
        expect(seen.has(it.customer_id)).toBe(false);
        expect(it.value_at_risk).toBeLessThanOrEqual(previous);
        previous = it.value_at_risk;
        seen.set(it.customer_id, it);
      }
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 100);
    expect(seen.size).toBe(Number(users!.buyers));
    const { rows } = await db.pool.query<{ id: string; days: string; last: string }>(`
      SELECT user_id::text AS id, count(DISTINCT created_at::date)::text AS days, max(created_at::date)::text AS last
      FROM orders WHERE ${PURCHASED} AND created_at < $1::date + 1 GROUP BY 1`, [lastDay]);
    for (const r of rows) {
      const it = seen.get(r.id)!;
      expect(it.orders).toBe(Number(r.days));
      expect(it.last_order).toBe(r.last);
      expect(it.days_since_last_order).toBe((Date.parse(lastDay) - Date.parse(r.last)) / 86_400_000);
    }
  });

  it('value at risk is P(no purchase in 90 days) × CLV; the filters and the CSV agree', async () => {
    type Page = { items: Item[]; total: number; value_at_risk: number; risk_days: number; next_cursor: string | null };
    const all = await json<Page>('/v1/customers/at-risk?limit=1000&status=AT_RISK,STOPPED_ORDERING');
    for (let next = all.next_cursor; next; ) {
      const more: Page = await json(`/v1/customers/at-risk?limit=1000&status=AT_RISK,STOPPED_ORDERING&cursor=${next}`);
      all.items.push(...more.items);
      next = more.next_cursor;
    }
    expect(all.items).toHaveLength(all.total);
    expect(all.risk_days).toBe(90);
    for (const it of all.items) {
      expect(['AT_RISK', 'STOPPED_ORDERING']).toContain(it.status);
      expect(it.value_at_risk).toBeCloseTo(it.p_no_purchase * it.clv, 9);
    }
    expect(all.value_at_risk).toBeCloseTo(all.items.reduce((s, i) => s + i.value_at_risk, 0), 6);
    const min = all.items[Math.floor(all.items.length / 2)]!.value_at_risk;
    const above = await json<{ total: number }>(`/v1/customers/at-risk?status=AT_RISK,STOPPED_ORDERING&min_value=${min}`);
    expect(above.total).toBe(all.items.filter((i) => i.value_at_risk >= min).length);
    const csv = await get('/v1/customers/at-risk?limit=20&format=csv&status=AT_RISK,STOPPED_ORDERING');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    // The next page keeps the query: filters, size and format.
    const link = /^<([^>]+)>; rel="next"$/.exec(csv.headers.get('link') ?? '')![1]!;
    const next = new URL(link, 'http://x');
    expect(next.pathname).toBe('/v1/customers/at-risk');
    expect(Object.fromEntries(next.searchParams)).toMatchObject({ limit: '20', format: 'csv', status: 'AT_RISK,STOPPED_ORDERING' });
    expect((await get(link)).headers.get('content-type')).toMatch(/^text\/csv/);
    const [head, ...lines] = parseCsv(await csv.text());
    expect(lines).toHaveLength(20);
    expect(head).toContain('value_at_risk');
  });

  it("one customer: the source's order history, CLV with an interval", async () => {
    const top = (await json<{ items: Item[] }>('/v1/customers/at-risk?limit=1')).items[0]!;
    type Detail = Item & { history: { order_id: string; total: string }[]; clv_interval: { lo: number; hi: number; months: number }; p_alive: number };
    const d = await json<Detail>(`/v1/customers/${top.customer_id}`);
    const { rows } = await db.pool.query<{ id: string; total: string }>(`SELECT id::text, total::text FROM orders WHERE user_id::text = $1 ORDER BY created_at, id::text`, [top.customer_id]);
    expect(d.history.map((h) => [h.order_id, Number(h.total)])).toEqual(rows.map((r) => [r.id, Number(r.total)]));
    expect(d.clv_interval.lo).toBeLessThan(d.clv);
    expect(d.clv_interval.hi).toBeGreaterThan(d.clv);
    expect(d.clv_interval.months).toBe(12);
    expect(d.p_alive).toBeGreaterThan(0);
    expect(d.p_alive).toBeLessThanOrEqual(1);
  });

  it('the holdout report: predicted against actual purchases in the last 90 days, actuals as SQL counts them', async () => {
    type Holdout = { cutoff: string; days: number; customers: number; predicted: number; actual: number; auc_no_purchase: number; by_frequency: { x: string; predicted: number; actual: number }[] };
    const { holdout } = await json<{ holdout: Holdout }>('/v1/customers/model');
    expect(holdout.days).toBe(90);
    const { rows: [r] } = await db.pool.query<{ customers: string; later: string }>(`
      WITH p AS (SELECT DISTINCT user_id, created_at::date AS d FROM orders WHERE ${PURCHASED} AND created_at < $2::date + 1),
           c AS (SELECT user_id FROM p GROUP BY 1 HAVING min(d) <= $1::date)
      SELECT (SELECT count(*) FROM c)::text AS customers, (SELECT count(*) FROM p JOIN c USING (user_id) WHERE d > $1::date)::text AS later`,
    [holdout.cutoff, lastDay]);
    expect(holdout.customers).toBe(Number(r!.customers));
    expect(holdout.actual).toBe(Number(r!.later));
    expect(holdout.by_frequency.reduce((s, g) => s + g.actual, 0)).toBe(holdout.actual);
    // The generator's customers follow BG/NBD in operational time: the model should be close, and rank risk well.
    expect(Math.abs(holdout.predicted / holdout.actual - 1)).toBeLessThan(0.25);
    expect(holdout.auc_no_purchase).toBeGreaterThan(0.6);
  });

  it('a new run replaces the old one whole, and only the newest runs it is told to are kept', async () => {
    const before = await json<{ run: { run_id: number }; customers: number }>('/v1/customers/model');
    await runCustomers(tw.warehouse, { ...customerOptions(tw.config), keepRuns: 1 });
    const after = await json<{ run: { run_id: number }; customers: number }>('/v1/customers/model');
    expect(after.run.run_id).toBeGreaterThan(before.run.run_id);
    expect(after.customers).toBe(before.customers);
    const [r] = await tw.warehouse.query<{ runs: string; scores: string }>(`
      SELECT (SELECT count(*) FROM customer_model_runs)::VARCHAR AS runs, (SELECT count(*) FROM customer_scores)::VARCHAR AS scores`);
    expect(r).toEqual({ runs: '1', scores: String(after.customers) });
  });

  it('answers 404 for an unknown customer or another tenant, 400 for a bad status or cursor', async () => {
    const id = (await json<{ items: Item[] }>('/v1/customers/at-risk?limit=1')).items[0]!.customer_id;
    expect((await get('/v1/customers/no-such-customer')).status).toBe(404);
    expect((await get(`/v1/customers/${id}`, other.key)).status).toBe(404);
    expect((await get('/v1/customers/model', other.key)).status).toBe(404);
    for (const q of ['status=LOST', 'cursor=nonsense', 'limit=0']) {
      const res = await get(`/v1/customers/at-risk?${q}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { detail: string }).detail).toMatch(new RegExp(q.split('=')[0]!));
    }
  });
});
