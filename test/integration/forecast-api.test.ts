import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.ts';
import { hashApiKey } from '../../src/api-keys.ts';
import { parseCsv } from '../../src/api/csv.ts';
import { type RunningServer, serve } from '../../src/api/server.ts';
import { loadConfig } from '../../src/config.ts';
import { readDailySeries, runForecasts } from '../../src/models/forecast/run-forecasts.ts';
import { writeRevenuePredictions } from '../../src/models/forecast/write-back.ts';
import { createSourceDb } from '../helpers/source-db.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { insertFacts } from '../helpers/kpi-facts.ts';
import { tempDir } from '../helpers/source-db.ts';

const KEYS = { t1: 'pk_read_t1_0123456789', t2: 'pk_read_t2_0123456789' };
const NOW = new Date('2024-11-27T12:00:00Z');

let dir: ReturnType<typeof tempDir>;
let wh: Warehouse;
let server: RunningServer;

const get = (path: string, key: string | null = KEYS.t1) =>
  fetch(`${server.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

/** Moves the ingest watermark (the rollups' as_of), refreshes, and runs the forecast job as of then. */
async function forecastAsOf(watermark: string): Promise<number> {
  await wh.withWriter((c) => c.run(`INSERT OR REPLACE INTO ingest_state (source, entity, watermark_ts) VALUES ('db', 'payments', TIMESTAMP '${watermark}')`));
  await refreshRollups(wh);
  const r = await runForecasts(wh, { horizon: 30, levels: [0.8, 0.95], holidays: ['2024-07-04'] });
  await wh.withWriter((c) => c.run(`INSERT INTO job_runs (job, started_at, finished_at, status) VALUES ('forecast', TIMESTAMP '${watermark}', TIMESTAMP '${watermark}', 'succeeded')`));
  return r.runs;
}

beforeAll(async () => {
  dir = tempDir();
  wh = await Warehouse.open({ path: join(dir.path, 'forecast.duckdb') });
  // 300 days from 2024-02-01 for tenants t1 and t2, payments in USD and EUR.
  await insertFacts(wh, { payments: 12_000, orders: 6000 });
  await refreshRollups(wh, { full: true });
  const config = loadConfig({}, { API_KEYS: [`${hashApiKey(KEYS.t1)}:t1:read`, `${hashApiKey(KEYS.t2)}:t2:read`].join(','), FORECAST_HORIZON_DAYS: '30' });
  const app = createApp({ config, warehouse: wh, logger: pino({ level: 'silent' }), registry: new Registry(), now: () => NOW });
  server = await serve(app, { host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close(1000);
  await wh?.close();
  dir?.remove();
});

describe('revenue forecasts', () => {
  it('forecast the daily net revenue the payments hold, per tenant and currency, and keep every run', async () => {
    expect(await forecastAsOf('2024-10-01 00:00:00')).toBe(6); // (t1, t2) × (USD, EUR, orders)
    // The series the job forecasts, against the same daily sums computed straight from the payments.
    const series = await readDailySeries(wh, Math.floor(Date.parse('2024-09-30') / 86_400_000));
    const direct = await wh.query<{ tenant_id: string; currency: string; d: string; v: number }>(`
      SELECT tenant_id, currency, strftime(CAST(created_at AS DATE), '%Y-%m-%d') AS d, sum(amount - refunded_amount)::DOUBLE AS v
      FROM payments WHERE status IN ('succeeded', 'refunded') AND created_at < TIMESTAMP '2024-10-01' GROUP BY ALL`);
    for (const r of direct) {
      const s = series.find((x) => x.tenantId === r.tenant_id && x.currency === r.currency && x.metric === 'revenue_net')!;
      const day = Math.floor(Date.parse(r.d) / 86_400_000);
      expect(s.values[day - s.startDay]).toBeCloseTo(r.v, 6);
    }
    expect(await forecastAsOf('2024-11-27 00:00:00')).toBe(6);
    const [{ n }] = await wh.query<{ n: string }>(`SELECT count(*) AS n FROM forecast_runs`) as [{ n: string }];
    expect(Number(n)).toBe(12);
  });

  it('serves points and intervals over HTTP; weekly totals are the daily points summed, with simulated intervals', async () => {
    const daily = await (await get('/v1/forecasts/revenue?horizon=28&currency=usd')).json() as any;
    expect(daily).toMatchObject({ tenant: 't1', metric: 'revenue_net', horizon: 28, granularity: 'day', levels: [80, 95], stale: false });
    expect(daily.series).toHaveLength(1);
    const s = daily.series[0];
    expect(s).toMatchObject({ currency: 'USD', last_day: '2024-11-26' });
    expect(s.periods).toHaveLength(28);
    expect(s.periods[0]).toMatchObject({ start: '2024-11-27', end: '2024-11-27', days: 1, partial: false });
    for (const p of s.periods) {
      expect(p.point).toBeGreaterThanOrEqual(0);
      if (p.intervals['95']) {
        expect(p.intervals['95'].lo).toBeGreaterThanOrEqual(0);
        expect(p.intervals['95'].lo).toBeLessThanOrEqual(p.intervals['80'].lo);
        expect(p.intervals['95'].hi).toBeGreaterThanOrEqual(p.intervals['80'].hi);
      }
    }
    const weekly = await (await get('/v1/forecasts/revenue?horizon=28&currency=USD&granularity=week')).json() as any;
    const weeks = weekly.series[0].periods;
    // 2024-11-27 is a Wednesday: the first ISO week (from Monday the 25th) is cut short, as is the last.
    expect(weeks[0]).toMatchObject({ start: '2024-11-25', end: '2024-12-01', days: 5, partial: true });
    for (const w of weeks) {
      const sum = s.periods.filter((p: any) => p.start >= w.start && p.start <= w.end).reduce((a: number, p: any) => a + p.point, 0);
      expect(w.point).toBeCloseTo(sum, 1);
      if (w.intervals['80']) {
        expect(w.intervals['80'].lo).toBeLessThanOrEqual(w.point);
        expect(w.intervals['80'].hi).toBeGreaterThanOrEqual(w.point);
      }
    }
    const csv = parseCsv(await (await get('/v1/forecasts/revenue?horizon=7&format=csv')).text());
    expect(csv[0]).toEqual(['currency', 'start', 'end', 'days', 'partial', 'point', 'lo80', 'hi80', 'lo95', 'hi95', 'model']);
    expect(csv.length - 1).toBe(14); // two currencies × 7 days
  });

  it('scores past runs against the actuals that arrived since', async () => {
    const body = await (await get('/v1/forecasts/revenue/accuracy?currency=USD')).json() as any;
    const [latest, first] = body.runs;
    expect(latest.days_compared).toBe(0);
    expect(first.days_compared).toBe(30);
    // MAPE of the first run recomputed in SQL from its stored points and the payments themselves.
    const [ref] = await wh.query<{ mape: number }>(`
      WITH actual AS (
        SELECT CAST(created_at AS DATE) AS day, sum(amount - refunded_amount)::DOUBLE AS y FROM payments
        WHERE tenant_id = 't1' AND currency = 'USD' AND status IN ('succeeded', 'refunded') GROUP BY ALL)
      SELECT avg(abs((a.y - p.point) / a.y)) AS mape FROM forecast_points p JOIN actual a USING (day)
      WHERE p.run_id = $run::BIGINT AND a.y <> 0`, { run: String(first.run_id) });
    expect(first.mape).toBeCloseTo(ref!.mape, 9);
    expect(first.coverage['80']).toBeGreaterThan(0.4);
  });

  it('appends the latest daily forecast to the seed\'s revenue_predictions when asked to', async () => {
    const db = await createSourceDb('pricing-platform');
    try {
      expect(await writeRevenuePredictions(db.pool, wh, { tenantId: 't1', currency: 'USD' })).toBe(30);
      const { rows } = await db.pool.query<{ date: string; predicted_revenue: string; confidence: string; timeframe: string }>(
        `SELECT to_char(date, 'YYYY-MM-DD') AS date, predicted_revenue::text, confidence::text, timeframe FROM revenue_predictions ORDER BY date`);
      const points = await wh.query<{ day: string; point: number }>(`
        SELECT strftime(day, '%Y-%m-%d') AS day, point FROM forecast_points
        WHERE run_id = (SELECT max(run_id) FROM forecast_runs WHERE tenant_id = 't1' AND currency = 'USD' AND metric = 'revenue_net') ORDER BY h`);
      expect(rows.map((r) => [r.date, r.predicted_revenue, r.timeframe])).toEqual(points.map((p) => [p.day, p.point.toFixed(2), 'daily']));
      expect(Number(rows[0]!.confidence)).toBeGreaterThan(0);
    } finally {
      await db.drop();
    }
  });

  it('rejects what it cannot answer with a problem naming the parameter; another tenant sees only its own', async () => {
    for (const [q, name] of [['levels=70', 'levels'], ['horizon=400', 'horizon'], ['granularity=hour', 'granularity'], ['currency=dollars', 'currency']]) {
      const res = await get(`/v1/forecasts/revenue?${q}`);
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(((await res.json()) as { detail: string }).detail).toContain(`"${name}"`);
    }
    expect((await get('/v1/forecasts/revenue', null)).status).toBe(401);
    expect((await get('/v1/forecasts/revenue?tenant=t2')).status).toBe(404);
    const t2 = await (await get('/v1/forecasts/revenue', KEYS.t2)).json() as any;
    expect(t2.tenant).toBe('t2');
    const runs = await wh.query<{ run_id: string }>(`SELECT run_id::VARCHAR AS run_id FROM forecast_runs WHERE tenant_id = 't2' AND metric = 'revenue_net'`);
    for (const s of t2.series) expect(runs.map((r) => Number(r.run_id))).toContain(s.run_id);
  });
});
