import type { Warehouse } from '../../warehouse/warehouse.ts';
import { type KpiRange, num, ratio, sqlTs } from './common.ts';
import { payingCustomersSql, payingParams } from './paying.ts';
import { byCurrency, divideAmount, type Money, multiplyAmount, normaliseAmount, subtractAmounts } from './money.ts';

export interface NullableMoney {
  currency: string;
  amount: string | null;
}

/** Headline KPIs over [from, to) for one tenant. Money is per currency and never converted. */
export interface SummaryMetrics {
  /** Σ payments.amount with status succeeded or refunded, by payment created_at. A currency is listed when it has at least one such payment. */
  revenue_gross: Money[];
  /** Σ payments.refunded_amount of those same payments, same bucketing (the source has no refund timestamp). */
  refunds: Money[];
  /** revenue_gross − refunds, per currency. */
  revenue_net: Money[];
  /** Orders with status paid, fulfilled or refunded (placed and paid; pending and cancelled excluded), by order created_at, all currencies. */
  orders: number;
  /** Σ orders.total of those orders, per currency. */
  order_value: Money[];
  /** order_value ÷ orders per currency, rounded half away from zero to cents; null when a currency has 0 orders. */
  aov: NullableMoney[];
  /** Distinct customer_id with a succeeded/refunded payment created in the range. */
  paying_customers: number;
  /** Customers whose first ever succeeded/refunded payment was created in the range. */
  new_customers: number;
  /** (succeeded + refunded) ÷ (succeeded + refunded + failed) payments created in the range; pending excluded; null with no such payment. */
  payment_success_rate: number | null;
  /** Σ page_views.views by page view ts. */
  page_views: number;
  /** orders ÷ page_views; null with no page views. */
  conversion_rate: number | null;
  /** Σ subscriptions.monthly_amount of subscriptions active at `to` (started_at ≤ to, not cancelled by then, status not trialing/paused), per currency. */
  mrr: Money[];
  /** 12 × mrr. */
  arr: Money[];
  /** Subscriptions with cancelled_at in [from, to) ÷ subscriptions active at `from`; null when none was active. */
  subscription_churn: number | null;
}

/** Computes every summary metric from the rollup tables (no raw fact scans). */
export async function getSummary(wh: Warehouse, r: KpiRange): Promise<SummaryMetrics> {
  return (await getSummaries(wh, r.tenantId, [r]))[0]!;
}

interface WindowRow {
  pay: { currency: string; ok: string; failed: string; gross: string; refunds: string }[] | null;
  ord: { currency: string; orders: string; value: string }[] | null;
  views: string | null;
  paying: string | null;
  fresh: string | null;
  subs: { currency: string | null; mrr: string; active: string }[] | null;
  active_at_from: string | null;
  cancels: string | null;
}

/**
 * Several windows of one tenant (a range and its previous period) in one SQL statement: one round
 * trip, each metric a branch of a UNION ALL over the rollups, keyed by name and the window's index.
 * (As one SELECT of ~10 scalar subqueries per window, DuckDB's join-order search over their cross
 * products took 25 of a 40 ms request; branches are planned on their own.)
 */
export async function getSummaries(wh: Warehouse, tenantId: string, ranges: { from: Date; to: Date }[]): Promise<SummaryMetrics[]> {
  const params: Record<string, string> = { tenant: tenantId };
  const branches = ranges.flatMap((r, i) => {
    Object.assign(params, { [`f${i}`]: sqlTs(r.from), [`t${i}`]: sqlTs(r.to) }, payingParams(r.from, r.to, i));
    const f = `$f${i}::TIMESTAMP`;
    const t = `$t${i}::TIMESTAMP`;
    const inRange = `tenant_id = $tenant AND bucket >= ${f} AND bucket < ${t}`;
    const metric = (name: keyof WindowRow, value: string) => `SELECT '${name}' AS k, ${i} AS i, (${value})::VARCHAR AS v`;
    // Lists travel as JSON text: one column type for every branch.
    const list = (name: keyof WindowRow, query: string) => metric(name, `SELECT to_json(list(x)) FROM (${query}) x`);
    return [
      list('pay', `SELECT currency, sum(succeeded + refunded)::VARCHAR AS ok, sum(failed)::VARCHAR AS failed, sum(gross)::VARCHAR AS gross, sum(refunds)::VARCHAR AS refunds
             FROM kpi_payments_15m WHERE ${inRange} GROUP BY currency`),
      list('ord', `SELECT currency, sum(orders)::VARCHAR AS orders, sum(order_value)::VARCHAR AS value
             FROM kpi_orders_15m WHERE ${inRange} GROUP BY currency HAVING sum(orders) > 0`),
      metric('views', `SELECT sum(views) FROM kpi_page_views_15m WHERE ${inRange}`),
      metric('paying', payingCustomersSql(f, t, i)),
      metric('fresh', `SELECT sum(customers) FROM kpi_new_customers_15m WHERE ${inRange}`),
      list('subs', `SELECT currency, sum(mrr_delta)::VARCHAR AS mrr, sum(active_delta)::VARCHAR AS active
             FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= ${t} GROUP BY currency`),
      metric('active_at_from', `SELECT sum(active_delta) FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= ${f}`),
      metric('cancels', `SELECT sum(cancels) FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts >= ${f} AND ts < ${t}`),
    ];
  });
  const rows = await wh.query<{ k: keyof WindowRow; i: number; v: string | null }>(branches.join('\nUNION ALL\n'), params);
  return ranges.map((_, i) => {
    const w: WindowRow = { pay: null, ord: null, views: null, paying: null, fresh: null, subs: null, active_at_from: null, cancels: null };
    for (const row of rows) {
      if (row.i !== i || row.v === null) continue;
      (w as unknown as Record<string, unknown>)[row.k] = LISTS.has(row.k) ? JSON.parse(row.v) : row.v;
    }
    return toMetrics(w);
  });
}

const LISTS = new Set<keyof WindowRow>(['pay', 'ord', 'subs']);

function toMetrics(w: WindowRow): SummaryMetrics {
  const payments = w.pay ?? [];
  const paid = byCurrency(payments.filter((x) => num(x.ok) > 0));
  const ok = payments.reduce((s, x) => s + num(x.ok), 0);
  const failed = payments.reduce((s, x) => s + num(x.failed), 0);
  const ord = byCurrency(w.ord ?? []);
  const orderCount = ord.reduce((s, x) => s + num(x.orders), 0);
  const pageViews = num(w.views);
  // A currency whose subscriptions all ended sums to 0 and is left out, like a GROUP BY over active ones.
  const mrr = byCurrency((w.subs ?? []).filter((x): x is { currency: string; mrr: string; active: string } => x.currency != null && num(x.active) > 0))
    .map((x) => ({ currency: x.currency, amount: normaliseAmount(x.mrr) }));

  return {
    revenue_gross: paid.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.gross) })),
    refunds: paid.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.refunds) })),
    revenue_net: paid.map((x) => ({ currency: x.currency, amount: subtractAmounts(x.gross, x.refunds) })),
    orders: orderCount,
    order_value: ord.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.value) })),
    aov: ord.map((x) => ({ currency: x.currency, amount: divideAmount(x.value, BigInt(x.orders)) })),
    paying_customers: num(w.paying),
    new_customers: num(w.fresh),
    payment_success_rate: ratio(ok, ok + failed),
    page_views: pageViews,
    conversion_rate: ratio(orderCount, pageViews),
    mrr,
    arr: mrr.map((m) => ({ currency: m.currency, amount: multiplyAmount(m.amount, 12) })),
    subscription_churn: ratio(num(w.cancels), num(w.active_at_from)),
  };
}

