import { all, type Warehouse } from '../../warehouse/warehouse.ts';
import { dayNumber, isoDay, lastCompleteDay } from '../days.ts';
import { sqlTs, storedJson } from '../kpis/common.ts';
import { seasonalScale } from './backtest.ts';
import { forecastSeries, type SeriesForecast } from './forecast.ts';

/**
 * The forecast job's I/O: daily series from the rollups, one forecastSeries per series, every run
 * kept (forecast_runs + forecast_points) so past forecasts can be scored against what happened.
 */

export const METRICS = ['revenue_net', 'orders'] as const;
export type ForecastMetric = (typeof METRICS)[number];

export interface ForecastJobOptions {
  horizon: number;
  levels: number[];
  /** ISO dates (YYYY-MM-DD) the regression gives their own effect. */
  holidays: string[];
  now?: () => Date;
}

export interface DailySeries {
  tenantId: string;
  metric: ForecastMetric;
  /** Null for order counts (they add up across currencies). */
  currency: string | null;
  /** Day number (days since 1970-01-01) of values[0]. */
  startDay: number;
  values: Float64Array;
}


/**
 * Daily net revenue per tenant and currency (succeeded and refunded payments, less refunds) and daily
 * orders per tenant, by UTC day, zero-filled from each series' first day through `lastDay`.
 */
export async function readDailySeries(wh: Warehouse, lastDay: number): Promise<DailySeries[]> {
  const end = isoDay(lastDay + 1);
  const rows = await wh.query<{ tenant_id: string; metric: ForecastMetric; currency: string | null; d: string; v: number }>(`
    SELECT tenant_id, 'revenue_net' AS metric, currency, strftime(CAST(bucket AS DATE), '%Y-%m-%d') AS d, sum(gross - refunds)::DOUBLE AS v
    FROM kpi_payments_15m WHERE bucket < $end::TIMESTAMP GROUP BY ALL
    UNION ALL
    SELECT tenant_id, 'orders', NULL, strftime(CAST(bucket AS DATE), '%Y-%m-%d'), sum(orders)::DOUBLE
    FROM kpi_orders_15m WHERE bucket < $end::TIMESTAMP GROUP BY ALL
    ORDER BY 1, 2, 3, 4`, { end });
  const series = new Map<string, { tenantId: string; metric: ForecastMetric; currency: string | null; days: Map<number, number> }>();
  for (const r of rows) {
    const key = `${r.tenant_id}\u0000${r.metric}\u0000${r.currency ?? ''}`;
    let s = series.get(key);
    if (!s) series.set(key, (s = { tenantId: r.tenant_id, metric: r.metric, currency: r.currency, days: new Map() }));
    s.days.set(dayNumber(r.d), Number(r.v));
  }
  return [...series.values()].map((s) => {
    const startDay = Math.min(...s.days.keys());
    const values = new Float64Array(Math.max(0, lastDay - startDay + 1));
    for (const [d, v] of s.days) if (d <= lastDay) values[d - startDay] = v;
    return { tenantId: s.tenantId, metric: s.metric, currency: s.currency, startDay, values };
  });
}

/**
 * Forecasts every series from the last complete UTC day before the rollups' as_of and stores one run
 * per series. Returns how many runs were written.
 */
export async function runForecasts(wh: Warehouse, opts: ForecastJobOptions): Promise<{ runs: number; asOf: string | null; lastDay: string | null }> {
  const state = await lastCompleteDay(wh);
  if (!state) return { runs: 0, asOf: null, lastDay: null };
  const { lastDay } = state;
  const holidays = new Set(opts.holidays.map(dayNumber));
  const computedAt = sqlTs(opts.now?.() ?? new Date());
  const results: { s: DailySeries; f: SeriesForecast }[] = [];
  for (const s of await readDailySeries(wh, lastDay)) {
    if (s.values.length === 0) continue;
    results.push({ s, f: forecastSeries(s.values, { startDay: s.startDay, holidays }, { horizon: opts.horizon, levels: opts.levels }) });
  }
  await wh.transaction(async (conn) => {
    for (const { s, f } of results) {
      const [run] = await all<{ run_id: string }>(conn, `
        INSERT INTO forecast_runs (tenant_id, metric, currency, computed_at, as_of, last_day, horizon, model, choice, history_days,
          scores, params, coverage, errors, scale)
        VALUES ($tenant, $metric, $currency, $computed::TIMESTAMP, $asOf::TIMESTAMP, $lastDay::DATE, $horizon, $model, $choice, $history,
          $scores::JSON, $params::JSON, $coverage::JSON, $errors::JSON, $scale)
        RETURNING run_id`, {
        tenant: s.tenantId, metric: s.metric, currency: s.currency, computed: computedAt,
        asOf: state.asOf, lastDay: isoDay(lastDay), horizon: opts.horizon, model: f.model, choice: f.choice, history: s.values.length,
        scores: storedJson(f.scores), params: storedJson(f.params),
        coverage: storedJson(Object.fromEntries([...f.coverage].map(([l, c]) => [String(Math.round(l * 100)), c]))),
        errors: storedJson(f.errors.paths.map((p) => [...p])),
        scale: seasonalScale(s.values, s.values.length),
      });
      const rows = [...f.points].map((p, h) => {
        const bounds = Object.fromEntries([...f.intervals].map(([l, b]) => [String(Math.round(l * 100)), [b.lo[h], b.hi[h]]]));
        return `(${run!.run_id}, DATE '${isoDay(lastDay + 1 + h)}', ${h + 1}, ${p}, '${storedJson(bounds)}')`;
      });
      if (rows.length) await conn.run(`INSERT INTO forecast_points (run_id, day, h, point, bounds) VALUES ${rows.join(', ')}`);
    }
  });
  return { runs: results.length, asOf: state.asOf, lastDay: isoDay(lastDay) };
}
