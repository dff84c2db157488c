import type { Warehouse } from '../../warehouse/warehouse.ts';
import { type Bucket, type Granularity, localBuckets } from './buckets.ts';
import { db, type KpiRange, num, rangeParams, ratio, sqlTs } from './common.ts';
import { divideAmount, fromMinor, multiplyAmount, normaliseAmount, subtractAmounts, toMinor } from './money.ts';

/** Metrics a time series can chart; each has the definition of the summary metric of the same name, per bucket. */
export const TIMESERIES_METRICS = [
  'revenue_gross', 'revenue_net', 'refunds', 'order_value', 'aov', 'mrr', 'arr',
  'orders', 'paying_customers', 'new_customers', 'page_views',
  'payment_success_rate', 'conversion_rate', 'subscription_churn',
] as const;
export type TimeseriesMetric = (typeof TIMESERIES_METRICS)[number];

export type MetricUnit = 'money' | 'count' | 'ratio';

export function metricUnit(m: TimeseriesMetric): MetricUnit {
  switch (m) {
    case 'revenue_gross': case 'revenue_net': case 'refunds': case 'order_value': case 'aov': case 'mrr': case 'arr':
      return 'money';
    case 'orders': case 'paying_customers': case 'new_customers': case 'page_views':
      return 'count';
    default:
      return 'ratio';
  }
}

export interface TimeseriesPoint {
  /** Local calendar date starting the bucket in `tz` (day, ISO-week Monday or 1st of month). */
  bucket: string;
  /** UTC instants of the bucket's [start, end), clipped to the range. */
  start: string;
  end: string;
  /** Decimal string for money, number for counts and ratios; null where a ratio or average is undefined. */
  value: string | number | null;
}

export interface TimeseriesSeries {
  /** Currency of a money series; null for counts and ratios. */
  currency: string | null;
  points: TimeseriesPoint[];
}

export interface TimeseriesResult {
  metric: TimeseriesMetric;
  unit: MetricUnit;
  series: TimeseriesSeries[];
}

export interface TimeseriesOptions {
  metric: TimeseriesMetric;
  granularity: Granularity;
  tz: string;
  /** Currency of the zero-filled series when a money metric has no data at all in the range. */
  defaultCurrency: string;
}

type Cell = Map<number, Record<string, string | null>>;

/**
 * A dense series of local-calendar buckets in `tz` over [from, to). Bucket edges come from
 * `localBuckets` and reach SQL as a VALUES table; rollup rows find their bucket with an ASOF join, so
 * the work is proportional to the rollup rows in range, not to the raw facts.
 */
export async function getTimeseries(wh: Warehouse, r: KpiRange, o: TimeseriesOptions): Promise<TimeseriesResult> {
  const buckets = localBuckets(r.from, r.to, o.tz, o.granularity);
  const unit = metricUnit(o.metric);
  const q = new BucketQuery(wh, r, buckets);
  let series: TimeseriesSeries[];
  switch (o.metric) {
    case 'revenue_gross': case 'revenue_net': case 'refunds': {
      const rows = await q.byCurrency('kpi_payments_15m', 'sum(gross) AS gross, sum(refunds) AS refunds', 'sum(succeeded + refunded) > 0');
      series = q.moneySeries(rows, o.defaultCurrency, (v) =>
        o.metric === 'revenue_gross' ? normaliseAmount(v.gross!) : o.metric === 'refunds' ? normaliseAmount(v.refunds!) : subtractAmounts(v.gross!, v.refunds!));
      break;
    }
    case 'order_value': case 'aov': {
      const rows = await q.byCurrency('kpi_orders_15m', 'sum(orders) AS orders, sum(order_value) AS value', 'sum(orders) > 0');
      series = q.moneySeries(rows, o.defaultCurrency, (v) =>
        o.metric === 'order_value' ? normaliseAmount(v.value!) : divideAmount(v.value!, BigInt(v.orders!)),
        o.metric === 'aov' ? null : '0.00');
      break;
    }
    case 'orders':
      series = [q.countSeries(await q.total('kpi_orders_15m', 'sum(orders)'))];
      break;
    case 'page_views':
      series = [q.countSeries(await q.total('kpi_page_views_15m', 'sum(views)'))];
      break;
    case 'paying_customers':
      // A customer's first row in a bucket is the one whose previous paying bucket is before it.
      series = [q.countSeries(await q.total('kpi_paying_15m', 'count(*) FILTER (WHERE r.prev IS NULL OR r.prev < b.s)'))];
      break;
    case 'new_customers':
      series = [q.countSeries(await q.total('kpi_new_customers_15m', 'sum(r.customers)'))];
      break;
    case 'payment_success_rate': {
      const [ok, failed] = await Promise.all([
        q.total('kpi_payments_15m', 'sum(succeeded + refunded)'), q.total('kpi_payments_15m', 'sum(failed)')]);
      series = [q.ratioSeries((i) => ratio(ok.get(i) ?? 0, (ok.get(i) ?? 0) + (failed.get(i) ?? 0)))];
      break;
    }
    case 'conversion_rate': {
      const [orders, views] = await Promise.all([q.total('kpi_orders_15m', 'sum(orders)'), q.total('kpi_page_views_15m', 'sum(views)')]);
      series = [q.ratioSeries((i) => ratio(orders.get(i) ?? 0, views.get(i) ?? 0))];
      break;
    }
    case 'mrr': case 'arr':
      series = await q.mrrSeries(o.metric === 'arr' ? 12 : 1, o.defaultCurrency);
      break;
    case 'subscription_churn':
      series = [await q.churnSeries()];
      break;
  }
  return { metric: o.metric, unit, series };
}

class BucketQuery {
  private readonly params: Record<string, string>;
  /**
   * CTE `b(i, s)`: bucket index and start. The starts travel as one text parameter, not inlined, so
   * the statement's text is the same for every range and its prepared plan is reused.
   */
  private readonly values = `(SELECT unnest(range(len(x))) AS i, unnest(x)::TIMESTAMP AS s FROM (SELECT string_split($starts, ',') AS x))`;

  constructor(private readonly wh: Warehouse, r: KpiRange, private readonly buckets: Bucket[]) {
    const starts = buckets.length ? buckets.map((b) => sqlTs(b.start)) : [sqlTs(r.from)];
    this.params = { ...rangeParams(r), starts: starts.join(',') };
  }

  private point(i: number, value: string | number | null): TimeseriesPoint {
    const b = this.buckets[i]!;
    return { bucket: b.label, start: b.start.toISOString(), end: b.end.toISOString(), value };
  }

  /** Σ expressions per (bucket, currency), keeping groups that pass `having`. */
  async byCurrency(table: string, exprs: string, having: string): Promise<Map<string, Cell>> {
    const rows = await db(this.wh).query<Record<string, string | null> & { i: number; currency: string }>(`
      WITH b AS ${this.values}
      SELECT b.i, r.currency, ${exprs}
      FROM ${table} r ASOF JOIN b ON r.bucket >= b.s
      WHERE r.tenant_id = $tenant AND r.bucket >= $from::TIMESTAMP AND r.bucket < $to::TIMESTAMP
      GROUP BY ALL HAVING ${having}`, this.params);
    const out = new Map<string, Cell>();
    for (const row of rows) {
      let cell = out.get(row.currency);
      if (!cell) out.set(row.currency, (cell = new Map()));
      cell.set(Number(row.i), row);
    }
    return out;
  }

  /** One aggregate per bucket (no currency split). */
  async total(table: string, expr: string, tsCol = 'bucket'): Promise<Map<number, number>> {
    const rows = await db(this.wh).query<{ i: number; v: string | null }>(`
      WITH b AS ${this.values}
      SELECT b.i, ${expr} AS v
      FROM ${table} r ASOF JOIN b ON r.${tsCol} >= b.s
      WHERE r.tenant_id = $tenant AND r.${tsCol} >= $from::TIMESTAMP AND r.${tsCol} < $to::TIMESTAMP
      GROUP BY ALL`, this.params);
    return new Map(rows.map((x) => [Number(x.i), num(x.v)]));
  }

  moneySeries(cells: Map<string, Cell>, defaultCurrency: string, value: (v: Record<string, string | null>) => string | null, empty: string | null = '0.00'): TimeseriesSeries[] {
    const currencies = [...cells.keys()].sort();
    if (!currencies.length) currencies.push(defaultCurrency);
    return currencies.map((currency) => {
      const cell = cells.get(currency);
      return {
        currency,
        points: this.buckets.map((_, i) => {
          const v = cell?.get(i);
          return this.point(i, v ? value(v) : empty);
        }),
      };
    });
  }

  countSeries(values: Map<number, number>): TimeseriesSeries {
    return { currency: null, points: this.buckets.map((_, i) => this.point(i, values.get(i) ?? 0)) };
  }

  ratioSeries(value: (i: number) => number | null): TimeseriesSeries {
    return { currency: null, points: this.buckets.map((_, i) => this.point(i, value(i))) };
  }

  /**
   * MRR at each bucket's end: the events up to the range start, then each bucket's events in
   * (start, end] added cumulatively — one pass over the event table instead of one sum per bucket.
   */
  async mrrSeries(factor: number, defaultCurrency: string): Promise<TimeseriesSeries[]> {
    const [base, steps] = await Promise.all([
      db(this.wh).query<{ currency: string | null; mrr: string; active: string }>(`
        SELECT currency, sum(mrr_delta) AS mrr, sum(active_delta) AS active FROM kpi_subscription_events
        WHERE tenant_id = $tenant AND ts <= $from::TIMESTAMP GROUP BY currency`, this.params),
      db(this.wh).query<{ i: number; currency: string | null; mrr: string; active: string }>(`
        WITH b AS ${this.values}
        SELECT b.i, r.currency, sum(r.mrr_delta) AS mrr, sum(r.active_delta) AS active
        FROM kpi_subscription_events r ASOF JOIN b ON r.ts > b.s
        WHERE r.tenant_id = $tenant AND r.ts > $from::TIMESTAMP AND r.ts <= $to::TIMESTAMP
        GROUP BY ALL`, this.params),
    ]);
    const currencies = [...new Set([...base, ...steps].map((x) => x.currency).filter((c): c is string => c != null))].sort();
    const out: TimeseriesSeries[] = [];
    for (const currency of currencies) {
      let mrr = 0n;
      let active = 0;
      for (const x of base) if (x.currency === currency) { mrr += toMinor(x.mrr); active += num(x.active); }
      const byBucket = new Map(steps.filter((x) => x.currency === currency).map((x) => [Number(x.i), x]));
      let everActive = active > 0;
      const points = this.buckets.map((_, i) => {
        const s = byBucket.get(i);
        if (s) { mrr += toMinor(s.mrr); active += num(s.active); }
        everActive ||= active > 0;
        return this.point(i, active > 0 ? multiplyAmount(fromMinor(mrr), factor) : '0.00');
      });
      if (everActive) out.push({ currency, points });
    }
    if (!out.length) out.push({ currency: defaultCurrency, points: this.buckets.map((_, i) => this.point(i, '0.00')) });
    return out;
  }

  /** Per bucket: cancellations in [start, end) ÷ subscriptions active at start. */
  async churnSeries(): Promise<TimeseriesSeries> {
    const [base, steps, cancels] = await Promise.all([
      db(this.wh).query<{ active: string | null }>(`
        SELECT sum(active_delta) AS active FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= $from::TIMESTAMP`, this.params),
      this.activeSteps(),
      this.total('kpi_subscription_events', 'sum(cancels)', 'ts'),
    ]);
    let active = num(base[0]?.active);
    // ratioSeries visits buckets in order, so `active` is the count at each bucket's start.
    return this.ratioSeries((i) => {
      const value = ratio(cancels.get(i) ?? 0, active);
      active += steps.get(i) ?? 0;
      return value;
    });
  }

  /** Active-count changes per bucket over (start, end], so the count at the next start is exact. */
  private async activeSteps(): Promise<Map<number, number>> {
    const rows = await db(this.wh).query<{ i: number; v: string | null }>(`
      WITH b AS ${this.values}
      SELECT b.i, sum(r.active_delta) AS v
      FROM kpi_subscription_events r ASOF JOIN b ON r.ts > b.s
      WHERE r.tenant_id = $tenant AND r.ts > $from::TIMESTAMP AND r.ts <= $to::TIMESTAMP
      GROUP BY ALL`, this.params);
    return new Map(rows.map((x) => [Number(x.i), num(x.v)]));
  }
}

