import type { Warehouse } from '../../warehouse/warehouse.ts';
import { periodInterval } from './intervals.ts';
import { dayNumber, isoDay, lastCompleteDay, weekday } from '../days.ts';
import { isoFromSql } from '../kpis/common.ts';
import { type ForecastMetric, readDailySeries } from './run-forecasts.ts';

/** Reads stored forecast runs for the API: the latest run per series, and past runs scored against actuals. */

export const FORECAST_GRANULARITIES = ['day', 'week', 'month'] as const;
export type ForecastGranularity = (typeof FORECAST_GRANULARITIES)[number];

interface RunRow {
  run_id: string;
  currency: string | null;
  computed_at: string;
  as_of: string;
  last_day: string;
  horizon: number;
  model: string;
  choice: string;
  history_days: number;
  scores: string;
  params: string;
  coverage: string;
  errors: string;
  scale: number | null;
}

export interface ForecastPeriod {
  /** First day of the period (UTC date) and its last day in the forecast. */
  start: string;
  end: string;
  days: number;
  /** True when the period runs past the forecast's first or last day (a week or month cut short). */
  partial: boolean;
  point: number;
  /** Per level (percent): bounds, or null where the backtest could not calibrate them. */
  intervals: Record<string, { lo: number; hi: number } | null>;
}

export interface ForecastSeries {
  run_id: number;
  currency: string | null;
  computed_at: string;
  as_of: string;
  /** Last day of history the run saw. */
  last_day: string;
  model: string;
  choice: string;
  history_days: number;
  backtest: { scores: unknown; coverage: Record<string, number | null> };
  params: Record<string, number>;
  periods: ForecastPeriod[];
}

const iso = (sql: string) => isoFromSql(sql)!;
const round2 = (x: number) => Math.round(x * 100) / 100;
const paths = (json: string): Float64Array[] =>
  (JSON.parse(json) as (number | null)[][]).map((p) => Float64Array.from(p, (v) => (v === null ? NaN : v)));

/** Day numbers grouped into periods: each day alone, ISO weeks (Monday first) or calendar months, UTC. */
export function periodStart(day: number, g: ForecastGranularity): number {
  if (g === 'day') return day;
  if (g === 'week') return day - weekday(day);
  const d = new Date(day * 86_400_000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 86_400_000;
}

function periodEnd(start: number, g: ForecastGranularity): number {
  if (g === 'day') return start;
  if (g === 'week') return start + 6;
  const d = new Date(start * 86_400_000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 86_400_000 - 1;
}

export async function getForecast(
  wh: Warehouse,
  q: { tenantId: string; metric: ForecastMetric; horizon: number; granularity: ForecastGranularity; levels: number[]; currency?: string },
): Promise<ForecastSeries[]> {
  const runs = await wh.query<RunRow>(`
    SELECT run_id::VARCHAR AS run_id, currency, computed_at::VARCHAR AS computed_at, as_of::VARCHAR AS as_of, strftime(last_day, '%Y-%m-%d') AS last_day,
      horizon, model, choice, history_days, scores::VARCHAR AS scores, params::VARCHAR AS params, coverage::VARCHAR AS coverage,
      errors::VARCHAR AS errors, scale
    FROM forecast_runs WHERE tenant_id = $tenant AND metric = $metric AND ($currency::VARCHAR IS NULL OR currency = $currency::VARCHAR)
    QUALIFY row_number() OVER (PARTITION BY currency ORDER BY run_id DESC) = 1
    ORDER BY currency NULLS FIRST`, { tenant: q.tenantId, metric: q.metric, currency: q.currency ?? null });
  const out: ForecastSeries[] = [];
  for (const run of runs) {
    const pts = await wh.query<{ h: number; point: number; bounds: string }>(
      `SELECT h, point, bounds::VARCHAR AS bounds FROM forecast_points WHERE run_id = $run::BIGINT AND h <= $horizon ORDER BY h`,
      { run: run.run_id, horizon: q.horizon });
    const first = dayNumber(run.last_day) + 1;
    const last = first + pts.length - 1;
    const points = Float64Array.from(pts, (p) => p.point);
    const errorPaths = { paths: paths(run.errors) };
    const groups = new Map<number, number[]>();
    for (let h = 0; h < pts.length; h++) {
      const start = periodStart(first + h, q.granularity);
      groups.set(start, [...(groups.get(start) ?? []), h]);
    }
    const periods: ForecastPeriod[] = [];
    for (const [start, hs] of groups) {
      const end = periodEnd(start, q.granularity);
      const intervals: ForecastPeriod['intervals'] = {};
      for (const level of q.levels) {
        if (q.granularity === 'day') {
          const b = (JSON.parse(pts[hs[0]!]!.bounds) as Record<string, [number | null, number | null]>)[String(level)];
          intervals[String(level)] = b && b[0] !== null && b[1] !== null ? { lo: round2(b[0]), hi: round2(b[1]) } : null;
        } else {
          const r = periodInterval(points, hs, errorPaths, level / 100);
          intervals[String(level)] = r ? { lo: round2(r.lo), hi: round2(r.hi) } : null;
        }
      }
      periods.push({
        start: isoDay(start), end: isoDay(Math.min(end, last)), days: hs.length,
        partial: start < first || end > last,
        point: round2(hs.reduce((s, h) => s + points[h]!, 0)),
        intervals,
      });
    }
    const coverage = JSON.parse(run.coverage) as Record<string, number | null>;
    out.push({
      run_id: Number(run.run_id), currency: run.currency, computed_at: iso(run.computed_at), as_of: iso(run.as_of), last_day: run.last_day,
      model: run.model, choice: run.choice, history_days: run.history_days,
      backtest: { scores: JSON.parse(run.scores), coverage: Object.fromEntries(q.levels.map((l) => [String(l), coverage[String(l)] ?? null])) },
      params: JSON.parse(run.params) as Record<string, number>,
      periods,
    });
  }
  return out;
}

export interface RunAccuracy {
  run_id: number;
  currency: string | null;
  computed_at: string;
  model: string;
  /** Forecast days that have an actual by now (complete UTC days before the rollups' as_of). */
  days_compared: number;
  mape: number | null;
  mase: number | null;
  /** Per level: share of those days whose actual fell inside the interval the run published. */
  coverage: Record<string, number | null>;
}

/** Past runs (newest first) scored against the actual daily values that have arrived since. */
export async function getAccuracy(
  wh: Warehouse, q: { tenantId: string; metric: ForecastMetric; currency?: string; limit: number; levels: number[] },
): Promise<RunAccuracy[]> {
  const state = await lastCompleteDay(wh);
  if (!state) return [];
  const { lastDay } = state;
  const actual = new Map<string, DailyLookup>();
  for (const s of await readDailySeries(wh, lastDay)) {
    if (s.tenantId === q.tenantId && s.metric === q.metric) actual.set(s.currency ?? '', { start: s.startDay, values: s.values });
  }
  const runs = await wh.query<{ run_id: string; currency: string | null; computed_at: string; model: string; scale: number | null }>(`
    SELECT run_id::VARCHAR AS run_id, currency, computed_at::VARCHAR AS computed_at, model, scale FROM forecast_runs
    WHERE tenant_id = $tenant AND metric = $metric AND ($currency::VARCHAR IS NULL OR currency = $currency::VARCHAR)
    ORDER BY run_id DESC LIMIT $limit`, { tenant: q.tenantId, metric: q.metric, currency: q.currency ?? null, limit: q.limit });
  const out: RunAccuracy[] = [];
  for (const run of runs) {
    const pts = await wh.query<{ day: string; point: number; bounds: string }>(
      `SELECT strftime(day, '%Y-%m-%d') AS day, point, bounds::VARCHAR AS bounds FROM forecast_points WHERE run_id = $run::BIGINT AND day <= $last::DATE ORDER BY h`,
      { run: run.run_id, last: isoDay(lastDay) });
    const series = actual.get(run.currency ?? '');
    let ape = 0;
    let apeN = 0;
    let ae = 0;
    const hits: Record<string, [number, number]> = Object.fromEntries(q.levels.map((l) => [String(l), [0, 0]]));
    for (const p of pts) {
      const d = dayNumber(p.day);
      const y = series && d >= series.start ? (series.values[d - series.start] ?? 0) : 0;
      ae += Math.abs(y - p.point);
      if (y !== 0) {
        ape += Math.abs((y - p.point) / y);
        apeN++;
      }
      const bounds = JSON.parse(p.bounds) as Record<string, [number | null, number | null]>;
      for (const l of q.levels) {
        const b = bounds[String(l)];
        if (!b || b[0] === null || b[1] === null) continue;
        const hit = hits[String(l)]!;
        hit[1]++;
        if (y >= b[0] && y <= b[1]) hit[0]++;
      }
    }
    out.push({
      run_id: Number(run.run_id), currency: run.currency, computed_at: iso(run.computed_at), model: run.model,
      days_compared: pts.length,
      mape: apeN ? ape / apeN : null,
      mase: pts.length && run.scale ? ae / pts.length / run.scale : null,
      coverage: Object.fromEntries(Object.entries(hits).map(([l, [h, n]]) => [l, n ? h / n : null])),
    });
  }
  return out;
}

interface DailyLookup {
  start: number;
  values: Float64Array;
}
