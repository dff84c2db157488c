import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { hashApiKey } from '../../src/api-keys.ts';
import { parseCsv } from '../../src/api/csv.ts';
import { countriesResponseSchema, funnelResponseSchema, productsResponseSchema, summaryResponseSchema, timeseriesResponseSchema } from '../../src/api/routes/kpis.ts';
import { type RunningServer, serve } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { insertFacts } from '../helpers/kpi-facts.ts';
import { tempDir } from '../helpers/source-db.ts';

const KEYS = { read: 'pk_read_t1_0123456789', jobs: 'pk_jobs_t1_0123456789', admin: 'pk_admin_ops_0123456789' };
const NOW = new Date('2024-12-20T12:00:00Z');

let dir: ReturnType<typeof tempDir>;
let wh: Warehouse;
let server: RunningServer;
let registry: Registry;
const logLines: Record<string, unknown>[] = [];

function get(path: string, key: string | null = KEYS.read, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
}

async function expectProblem(res: Response, status: number): Promise<Record<string, unknown>> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String), instance: expect.any(String) });
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  return body;
}

beforeAll(async () => {
  dir = tempDir();
  wh = await Warehouse.open({ path: join(dir.path, 'api.duckdb') });
  await insertFacts(wh, { payments: 6000, orders: 4000, pageViews: 5000, productEvents: 3000 });
  await wh.transaction(async (conn) => {
    await conn.run(`INSERT INTO ingest_state (source, entity, watermark_ts) VALUES ('db', 'payments', TIMESTAMP '2024-12-20 11:50:00')`);
    await conn.run(`INSERT INTO job_runs (job, started_at, finished_at, status) VALUES ('ingest', TIMESTAMP '2024-12-20 11:54:00', TIMESTAMP '2024-12-20 11:55:00', 'succeeded')`);
  });
  await refreshRollups(wh, { now: () => new Date('2024-12-20T11:56:00Z') });
  const config = loadConfig({}, {
    API_KEYS: [`${hashApiKey(KEYS.read)}:t1:read`, `${hashApiKey(KEYS.jobs)}:t1:jobs:run`, `${hashApiKey(KEYS.admin)}:ops:admin`].join(','),
    STALE_AFTER_MINUTES: '20',
  });
  const sink = new Writable({ write(chunk, _enc, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(l)); cb(); } });
  registry = new Registry();
  const app = createApp({ config, warehouse: wh, logger: pino({ level: 'info' }, sink), registry, now: () => NOW });
  server = await serve(app, { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close(1000);
  await wh?.close();
  dir?.remove();
});

describe('operations', () => {
  it('/healthz and /readyz answer', async () => {
    expect(await (await get('/healthz', null)).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz', null);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { warehouse: { ok: true }, dependencies: { ok: true } } });
  });

  it('/readyz is 503 when a dependency is not ready', async () => {
    const config = loadConfig({}, {});
    const app = createApp({ config, warehouse: wh, logger: pino({ level: 'silent' }), registry: new Registry(), readiness: async () => ({ ready: false, detail: { scheduler: 'starting' } }) });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, checks: { dependencies: { ok: false, detail: { scheduler: 'starting' } } } });
  });

  it('/openapi.json describes every route and the bearer scheme', async () => {
    const doc = (await (await get('/openapi.json', null)).json()) as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    for (const p of ['/v1/kpis/summary', '/v1/kpis/timeseries', '/v1/kpis/funnel', '/v1/kpis/products', '/v1/kpis/countries', '/healthz', '/readyz']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it('/docs loads its script locally, not from a CDN', async () => {
    const html = await (await get('/docs', null)).text();
    expect(html).toContain('src="/docs/scalar.js"');
    expect(html).not.toMatch(/cdn\.|jsdelivr|unpkg/);
  });

  it('/metrics exposes the request histogram by route pattern', async () => {
    await get('/v1/kpis/funnel');
    const text = await (await get('/metrics', null)).text();
    expect(text).toMatch(/http_request_duration_seconds_count\{route="\/v1\/kpis\/funnel",method="GET",status="200"\} \d+/);
  });

  it('logs one line per request with its id and never the key', async () => {
    const res = await get('/v1/kpis/funnel', KEYS.read, { 'x-request-id': 'trace-abc.123' });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    const line = logLines.find((l) => l.request_id === 'trace-abc.123');
    expect(line).toMatchObject({ route: '/v1/kpis/funnel', status: 200, tenant: 't1', method: 'GET' });
    const all = JSON.stringify(logLines);
    for (const k of Object.values(KEYS)) expect(all).not.toContain(k);
    expect(all.toLowerCase()).not.toContain('authorization');
  });
});

describe('security', () => {
  it('401 without a key, with WWW-Authenticate', async () => {
    const res = await get('/v1/kpis/summary', null);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    await expectProblem(res, 401);
  });

  it('401 with a wrong key', async () => {
    const res = await get('/v1/kpis/summary', 'pk_nope');
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    await expectProblem(res, 401);
  });

  it('403 without the read scope', async () => {
    await expectProblem(await get('/v1/kpis/summary', KEYS.jobs), 403);
  });

  it("404 for another tenant's data, which an admin key may read", async () => {
    const body = await expectProblem(await get('/v1/kpis/summary?tenant=t2'), 404);
    expect(body.detail).toContain('no such tenant');
    const admin = await get('/v1/kpis/summary?tenant=t2&from=2024-03-01&to=2024-04-01', KEYS.admin);
    expect(admin.status).toBe(200);
    const t2 = (await admin.json()) as { tenant: string; metrics: { orders: number } };
    expect(t2.tenant).toBe('t2');
    const own = (await (await get('/v1/kpis/summary?from=2024-03-01&to=2024-04-01')).json()) as { metrics: { orders: number } };
    expect(t2.metrics.orders).toBeGreaterThan(0);
    expect(t2.metrics.orders).not.toBe(own.metrics.orders);
  });
});

describe('bad parameters are 400 problems naming the parameter', () => {
  it.each([
    ['from', '/v1/kpis/summary?from=yesterday'],
    ['to', '/v1/kpis/summary?to=2024-02-31'],
    ['from', '/v1/kpis/summary?from=2024-05-01&to=2024-04-01'],
    ['to', '/v1/kpis/timeseries?from=2015-01-01&to=2024-01-01&granularity=day'],
    ['tz', '/v1/kpis/timeseries?tz=Mars/Base'],
    ['granularity', '/v1/kpis/timeseries?granularity=hour'],
    ['metric', '/v1/kpis/timeseries?metric=profit'],
    ['format', '/v1/kpis/products?format=xml'],
    ['format', '/v1/kpis/summary?format=csv'],
    ['limit', '/v1/kpis/products?limit=0'],
    ['limit', '/v1/kpis/products?limit=ten'],
    ['sort', '/v1/kpis/products?sort=price;drop'],
    ['compare', '/v1/kpis/summary?compare=last_year'],
  ])('%s: %s', async (name, path) => {
    const body = await expectProblem(await get(path), 400);
    expect(body.detail).toContain(`"${name}"`);
    expect((body.invalid_params as { name: string }[])[0]!.name).toBe(name);
  });
});

describe('KPI responses', () => {
  it('summary with compare=previous_period, freshness and money as strings', async () => {
    const res = await get('/v1/kpis/summary?from=2024-03-01&to=2024-04-01&tz=America/New_York&compare=previous_period');
    expect(res.status).toBe(200);
    const body = summaryResponseSchema.parse(await res.json());
    expect(body.range).toEqual({ from: '2024-03-01T05:00:00.000Z', to: '2024-04-01T04:00:00.000Z', tz: 'America/New_York' });
    expect(body).toMatchObject({ as_of: '2024-12-20T11:50:00.000Z', computed_at: '2024-12-20T11:56:00.000Z', stale: false });
    expect(body.metrics.revenue_gross[0]!.amount).toMatch(/^\d+\.\d{2}$/);
    expect(body.previous!.range.to).toBe(body.range.from);
    const usd = body.deltas!.revenue_gross.find((d) => d.currency === 'USD')!;
    const cur = body.metrics.revenue_gross.find((m) => m.currency === 'USD')!.amount;
    expect(((Number(cur) - Number(usd.previous)) ).toFixed(2)).toBe(usd.change);
    expect(body.deltas!.orders.change).toBe(body.metrics.orders - body.deltas!.orders.previous);
  });

  it('timeseries buckets local days in tz, with a 23-hour DST day, zero-filled', async () => {
    const res = await get('/v1/kpis/timeseries?metric=orders&granularity=day&tz=America/New_York&from=2024-03-09&to=2024-03-12');
    const body = timeseriesResponseSchema.parse(await res.json());
    const pts = body.series[0]!.points;
    expect(pts.map((p) => p.bucket)).toEqual(['2024-03-09', '2024-03-10', '2024-03-11']);
    expect((Date.parse(pts[1]!.end) - Date.parse(pts[1]!.start)) / 3_600_000).toBe(23);
    const empty = timeseriesResponseSchema.parse(await (await get('/v1/kpis/timeseries?metric=revenue_gross&from=2030-01-01&to=2030-01-04')).json());
    expect(empty.series).toEqual([{ currency: 'USD', points: expect.any(Array) }]);
    expect(empty.series[0]!.points.map((p) => p.value)).toEqual(['0.00', '0.00', '0.00']);
  });

  it('accepts epoch milliseconds', async () => {
    const res = await get(`/v1/kpis/funnel?from=${Date.UTC(2024, 2, 1)}&to=${Date.UTC(2024, 3, 1)}`);
    const body = funnelResponseSchema.parse(await res.json());
    expect(body.range.from).toBe('2024-03-01T00:00:00.000Z');
    expect(body.steps.map((s) => s.step)).toEqual(['page_view', 'product_view', 'cart_add', 'purchase']);
  });

  it('products paginate with a total', async () => {
    const a = productsResponseSchema.parse(await (await get('/v1/kpis/products?from=2024-01-01&to=2025-01-01&limit=10&sort=units')).json());
    const b = productsResponseSchema.parse(await (await get('/v1/kpis/products?from=2024-01-01&to=2025-01-01&limit=10&offset=10&sort=units')).json());
    expect(a.items).toHaveLength(10);
    expect(a.total).toBe(b.total);
    expect(a.items.at(-1)!.units).toBeGreaterThanOrEqual(b.items[0]!.units);
  });

  it('CSV via format=csv and via Accept, parseable', async () => {
    const res = await get('/v1/kpis/products?from=2024-01-01&to=2025-01-01&format=csv&limit=100');
    expect(res.headers.get('content-type')).toContain('text/csv');
    const rows = parseCsv(await res.text());
    expect(rows[0]).toContain('product_id');
    expect(rows[0]).toContain('revenue_gross');
    const nameCol = rows[0]!.indexOf('name');
    expect(rows.slice(1).some((r) => r[nameCol]!.includes('", deluxe'))).toBe(true); // quotes and commas survive
    const json = countriesResponseSchema.parse(await (await get('/v1/kpis/countries?from=2024-01-01&to=2025-01-01')).json());
    const csv = parseCsv(await (await get('/v1/kpis/countries?from=2024-01-01&to=2025-01-01', KEYS.read, { accept: 'text/csv' })).text());
    expect(csv[0]).toEqual(['country', 'currency', 'revenue_gross', 'revenue_net', 'payments', 'paying_customers']);
    expect(csv.length - 1).toBe(json.items.length);
    expect(csv[1]![2]).toBe(json.items[0]!.revenue_gross);
    const series = parseCsv(await (await get('/v1/kpis/timeseries?from=2024-03-01&to=2024-03-08&format=csv')).text());
    expect(series[0]).toEqual(['bucket', 'start', 'end', 'currency', 'value']);
  });

  it('is stale once the last ingest failed', async () => {
    await wh.transaction(async (conn) => {
      await conn.run(`INSERT INTO job_runs (job, started_at, finished_at, status, error) VALUES ('ingest', TIMESTAMP '2024-12-20 11:58:00', TIMESTAMP '2024-12-20 11:59:00', 'failed', 'boom')`);
    });
    const body = (await (await get('/v1/kpis/funnel')).json()) as { stale: boolean };
    expect(body.stale).toBe(true);
  });
});

describe('server', () => {
  it('close() ends idle keep-alive connections and honours its deadline', async () => {
    const config = loadConfig({}, {});
    const app = createApp({ config, warehouse: wh, logger: pino({ level: 'silent' }), registry: new Registry() });
    const s = await serve(app, { host: '127.0.0.1', port: 0 });
    const res = await fetch(`${s.url}/healthz`, { headers: { connection: 'keep-alive' } });
    expect(res.status).toBe(200);
    await res.text();
    const started = Date.now();
    await s.close(5_000);
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });
});
