import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { capabilities } from '../../src/ingest/capabilities.ts';
import { ENTITIES } from '../../src/ingest/entities.ts';
import { defineJobs } from '../../src/jobs/definitions.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { serveApi } from '../helpers/api.ts';
import { insertFacts, withKey } from '../helpers/kpi-facts.ts';
import { tempDir } from '../helpers/source-db.ts';
import { createApp } from '../../src/api/app.ts';
import pino from 'pino';
import { Registry } from 'prom-client';

/**
 * Tenant isolation over EVERY registered read route. Two warehouses: one holds tenant A's data only,
 * the other A's and B's (B bigger, other ids, other prices). Every model job runs on both. A key of
 * A must get byte-for-byte the same answers from both (volatile bookkeeping aside): B's rows neither
 * leak into A's responses nor shift A's KPIs, prices, forecasts, test verdicts or risk scores. Asking
 * for B (by parameter, or by an id only B has) is a 404, and an admin key does see B, so the test
 * can tell B's data apart from A's.
 */
const A = 'shop-a';
const B = 'shop-b';
const RANGE = 'from=2024-02-01&to=2024-12-01';

/** Canonical facts for one tenant; B's are larger and priced differently, so any leak changes numbers. */
async function fill(wh: Warehouse, tenant: string, scale: number): Promise<void> {
  await insertFacts(wh, {
    tenants: [tenant], customers: 300 * scale, products: 12 * scale, payments: 6000 * scale, orders: 5000 * scale,
    pageViews: 3000 * scale, productEvents: 3000 * scale, subscriptions: 100 * scale, days: 300,
  });
  const t = `'${tenant}'`;
  await wh.transaction(async (conn) => {
    // Closers and conversations: every third order came from a chat, the AI took two chats in three.
    await conn.run(withKey(`
      INSERT INTO conversations (tenant_id, conversation_id, customer_id, handled_by, started_at, first_response_at, escalated)
      SELECT tenant_id, 'conv-' || order_id, customer_id, list_value('ai', 'ai', 'human', 'mixed')[(hash(order_id) % 4)::INT + 1],
             created_at - INTERVAL 1 HOUR, created_at - INTERVAL 1 HOUR + to_seconds((hash(order_id || 'r') % ${300 * scale})::BIGINT), hash(order_id) % 4 = 3
      FROM orders WHERE tenant_id = ${t} AND hash(order_id || 'c') % 3 = 0`));
    await conn.run(`UPDATE orders SET conversation_id = 'conv-' || order_id,
      closed_by = CASE WHEN hash(order_id) % 4 < 2 THEN 'ai' ELSE 'human' END WHERE tenant_id = ${t} AND hash(order_id || 'c') % 3 = 0`);
    await conn.run(withKey(`
      INSERT INTO experiments (tenant_id, experiment_id, name, metric, status, raw_status, variants, started_at)
      VALUES (${t}, 'exp-1', 'Checkout copy', 'conversion', 'running', 'running', '{"A": "control", "B": "treatment"}', TIMESTAMP '2024-03-01'),
             (${t}, 'exp-${tenant}', 'Own test', 'revenue', 'completed', 'completed', '{"A": "control", "B": "treatment"}', TIMESTAMP '2024-04-01')`));
    await conn.run(withKey(`
      INSERT INTO experiment_units (tenant_id, experiment_id, unit_id, variant, converted, revenue, ts)
      SELECT ${t}, e, 'u' || i, CASE WHEN hash(i || e) % 2 = 0 THEN 'A' ELSE 'B' END, hash(i || e || 'c') % ${10 + scale} < 2,
             CASE WHEN hash(i || e || 'c') % ${10 + scale} < 2 THEN (hash(i) % ${5000 * scale} / 100)::DECIMAL(18,2) ELSE 0 END, TIMESTAMP '2024-03-02'
      FROM range(${2000 * scale}) r(i), (SELECT unnest(['exp-1', 'exp-${tenant}']) AS e)`));
  });
}

async function modelWarehouse(path: string, tenants: [string, number][], config: Config): Promise<Warehouse> {
  const wh = await Warehouse.open({ path, threads: 1 });
  for (const [t, scale] of tenants) await fill(wh, t, scale);
  const jobs = defineJobs({ config: { ...config, DUCKDB_PATH: path }, warehouse: wh, source: null as never });
  // The models read up to the last day the ingest completed (no ingest ran here).
  await wh.withWriter((c) => c.run(`INSERT INTO ingest_state (source, entity, watermark_ts, updated_at) VALUES ('test', 'orders', TIMESTAMP '2024-11-27 12:00', now()::TIMESTAMP)`));
  for (const job of ['rollups', 'forecast', 'pricing', 'experiments', 'customers']) {
    const r = (await jobs[job]!({ jobRunId: null } as never)) as { detail: { runs?: number } };
    if (job !== 'rollups') expect(r.detail.runs, job).toBeGreaterThan(0);
  }
  return wh;
}

/** Bookkeeping that differs between two warehouses by construction: run ids and clocks. */
const VOLATILE = new Set(['computed_at', 'as_of', 'stale', 'run_id', 'id', 'generated_at']);
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, stable(x)]));
  return v;
}

/** How to call each read route: its path with A's own ids, and an id only B has where the path takes one. */
const CALLS: Record<string, { path: string; onlyB?: string }> = {
  '/v1/kpis/summary': { path: `/v1/kpis/summary?${RANGE}&compare=previous_period` },
  '/v1/kpis/timeseries': { path: `/v1/kpis/timeseries?${RANGE}&metric=revenue_net&granularity=week` },
  '/v1/kpis/funnel': { path: `/v1/kpis/funnel?${RANGE}` },
  '/v1/kpis/products': { path: `/v1/kpis/products?${RANGE}&limit=500` },
  '/v1/kpis/countries': { path: `/v1/kpis/countries?${RANGE}` },
  '/v1/kpis/ai-vs-admin': { path: `/v1/kpis/ai-vs-admin?${RANGE}` },
  '/v1/forecasts/revenue': { path: '/v1/forecasts/revenue' },
  '/v1/forecasts/revenue/accuracy': { path: '/v1/forecasts/revenue/accuracy' },
  '/v1/pricing/recommendations': { path: '/v1/pricing/recommendations?limit=500' },
  '/v1/pricing/products/:id': { path: '/v1/pricing/products/prod3', onlyB: '/v1/pricing/products/prod20' },
  '/v1/experiments': { path: '/v1/experiments' },
  '/v1/experiments/:id': { path: '/v1/experiments/exp-1', onlyB: `/v1/experiments/exp-${B}` },
  '/v1/customers/at-risk': { path: '/v1/customers/at-risk?limit=1000' },
  '/v1/customers/model': { path: '/v1/customers/model' },
  '/v1/customers/:id': { path: '/v1/customers/c7', onlyB: '/v1/customers/c500' },
};

describe('tenant isolation on every route', () => {
  const dir = tempDir();
  const keyA = generateApiKey(A, ['read']);
  const admin = generateApiKey('ops', ['read', 'admin']);
  let config: Config;
  let alone: Warehouse;
  let both: Warehouse;
  let httpAlone: Awaited<ReturnType<typeof serveApi>>;
  let httpBoth: Awaited<ReturnType<typeof serveApi>>;
  // Every analysis on, as a profile mapping every entity would have it.
  const caps = capabilities({ name: 'everything', entities: Object.keys(ENTITIES).map((entity) => ({ spec: { entity } })), manifest: { without: {} } });

  beforeAll(async () => {
    config = loadConfig({ DUCKDB_PATH: join(dir.path, 'x.duckdb'), API_KEYS: `${keyA.entry},${admin.entry}` });
    alone = await modelWarehouse(join(dir.path, 'alone.duckdb'), [[A, 1]], config);
    both = await modelWarehouse(join(dir.path, 'both.duckdb'), [[A, 1], [B, 2]], config);
    const now = () => new Date('2024-12-01T00:00:00Z');
    httpAlone = await serveApi({ config, warehouse: alone, capabilities: caps, now });
    httpBoth = await serveApi({ config, warehouse: both, capabilities: caps, now });
  }, 240_000);

  afterAll(async () => {
    await httpAlone?.close();
    await httpBoth?.close();
    await alone?.close();
    await both?.close();
    dir.remove();
  });

  it('the table of calls covers every registered read route', () => {
    const app = createApp({ config, warehouse: alone, logger: pino({ level: 'silent' }), registry: new Registry(), capabilities: caps });
    const reads = [...new Set(app.routes.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/')).map((r) => r.path))].sort();
    expect(reads).toEqual(Object.keys(CALLS).sort());
  });

  for (const [route, call] of Object.entries(CALLS)) {
    it(`${route}: A's answers are the same with or without B's data; B is out of A's reach`, async () => {
      const [fromAlone, fromBoth] = await Promise.all([httpAlone.get(call.path, keyA.key), httpBoth.get(call.path, keyA.key)]);
      expect(fromAlone.status, call.path).toBe(200);
      expect(fromBoth.status).toBe(200);
      const text = await fromBoth.text();
      expect(text).not.toContain(B);
      expect(stable(JSON.parse(text))).toEqual(stable(await fromAlone.json()));

      const sep = call.path.includes('?') ? '&' : '?';
      const other = await httpBoth.get(`${call.path}${sep}tenant=${B}`, keyA.key);
      expect(other.status).toBe(404);
      expect(await other.text()).not.toContain('"items"');
      if (call.onlyB) {
        const res = await httpBoth.get(call.onlyB, keyA.key);
        expect(res.status, call.onlyB).toBe(404);
        // The same id does exist for B: the 404 is isolation, not a typo in the test.
        expect((await httpBoth.get(`${call.onlyB}?tenant=${B}`, admin.key)).status).toBe(200);
      }
      // An admin naming B gets B's own, different answer: the comparison above could see a leak.
      const seenByAdmin = await httpBoth.get(`${call.path}${sep}tenant=${B}`, admin.key);
      expect(seenByAdmin.status).toBe(200);
      expect(stable(await seenByAdmin.json())).not.toEqual(stable(JSON.parse(text)));
    });
  }
});
