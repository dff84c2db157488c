import type { KpiRange } from '../src/models/kpis/common.ts';
import { getCountries } from '../src/models/kpis/get-countries.ts';
import { getFunnel } from '../src/models/kpis/get-funnel.ts';
import { getProducts } from '../src/models/kpis/get-products.ts';
import { getSummary } from '../src/models/kpis/get-summary.ts';
import { getTimeseries, type TimeseriesMetric } from '../src/models/kpis/get-timeseries.ts';
import type { Warehouse } from '../src/warehouse/warehouse.ts';

export interface KpiBenchOptions {
  tenantId: string;
  from: Date;
  to: Date;
  tz?: string;
  /** Timed repetitions of each query (after one warm-up). */
  runs?: number;
}

export interface KpiBenchResult {
  p50: number;
  p99: number;
  /** Milliseconds per query kind: p50 and p99 over `runs`. */
  byQuery: Record<string, { p50: number; p99: number }>;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Latency of the KPI queries the dashboards call (from the rollups), in milliseconds. Prints
 * nothing and asserts nothing: the caller reports the figures.
 */
export async function benchKpiQueries(wh: Warehouse, opts: KpiBenchOptions): Promise<KpiBenchResult> {
  const r: KpiRange = { tenantId: opts.tenantId, from: opts.from, to: opts.to };
  const tz = opts.tz ?? 'UTC';
  const series = (metric: TimeseriesMetric) => () => getTimeseries(wh, r, { metric, granularity: 'day', tz, defaultCurrency: 'USD' });
  const queries: Record<string, () => Promise<unknown>> = {
    summary: () => getSummary(wh, r),
    'timeseries revenue_gross/day': series('revenue_gross'),
    'timeseries paying_customers/day': series('paying_customers'),
    'timeseries mrr/day': series('mrr'),
    funnel: () => getFunnel(wh, r),
    products: () => getProducts(wh, r, { sort: 'revenue_gross', order: 'desc', limit: 50, offset: 0 }),
    countries: () => getCountries(wh, r),
  };
  const runs = opts.runs ?? 20;
  const all: number[] = [];
  const byQuery: Record<string, { p50: number; p99: number }> = {};
  for (const [name, run] of Object.entries(queries)) {
    await run();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    byQuery[name] = { p50: quantile(times, 0.5), p99: quantile(times, 0.99) };
  }
  all.sort((a, b) => a - b);
  return { p50: quantile(all, 0.5), p99: quantile(all, 0.99), byQuery };
}
