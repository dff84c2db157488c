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
 * products took 25 of a 40 ms request; branches are planned on their own.) Each branch costs a
 * millisecond or two whatever it reads, so range sums serve all windows from one branch.
 */
export async function getSummaries(wh: Warehouse, tenantId: string, ranges: { from: Date; to: Date }[]): Promise<SummaryMetrics[]> {
  const params: Record<string, string> = {
    tenant: tenantId,
    lo: sqlTs(new Date(Math.min(...ranges.map((r) => r.from.getTime())))),
    hi: sqlTs(new Date(Math.max(...ranges.map((r) => r.to.getTime())))),
  };
  // Range sums take every window in one scan of their table, grouped by window.
  const windows = `(VALUES ${ranges.map((_, i) => `(${i}, $f${i}::TIMESTAMP, $t${i}::TIMESTAMP)`).join(', ')}) w(i, f, t)`;
  const inWindows = `r.tenant_id = $tenant AND r.bucket >= $lo::TIMESTAMP AND r.bucket < $hi::TIMESTAMP AND r.bucket >= w.f AND r.bucket < w.t`;
  // Lists travel as JSON text: one column type for every branch.
  const perWindow = (name: keyof WindowRow, value: string, from: string, extra = '') =>
    `SELECT '${name}' AS k, i, ${value}::VARCHAR AS v FROM (${from}) x GROUP BY i ${extra}`;
  const shared = [
    perWindow('pay', `to_json(list({'currency': currency, 'ok': ok, 'failed': failed, 'gross': gross, 'refunds': refunds}))`,
      `SELECT w.i, r.currency, sum(r.succeeded + r.refunded)::VARCHAR AS ok, sum(r.failed)::VARCHAR AS failed,
         sum(r.gross)::VARCHAR AS gross, sum(r.refunds)::VARCHAR AS refunds
       FROM kpi_payments_15m r JOIN ${windows} ON ${inWindows} GROUP BY ALL`),
    perWindow('ord', `to_json(list({'currency': currency, 'orders': orders, 'value': value}))`,
      `SELECT w.i, r.currency, sum(r.orders)::VARCHAR AS orders, sum(r.order_value)::VARCHAR AS value
       FROM kpi_orders_15m r JOIN ${windows} ON ${inWindows} GROUP BY ALL HAVING sum(r.orders) > 0`),
    perWindow('views', 'sum(n)', `SELECT w.i, r.views AS n FROM kpi_page_views_15m r JOIN ${windows} ON ${inWindows}`),
    perWindow('fresh', 'sum(n)', `SELECT w.i, r.customers AS n FROM kpi_new_customers_15m r JOIN ${windows} ON ${inWindows}`),
  ];
  const branches = ranges.flatMap((r, i) => {
    Object.assign(params, { [`f${i}`]: sqlTs(r.from), [`t${i}`]: sqlTs(r.to) }, payingParams(r.from, r.to, i));
    const f = `$f${i}::TIMESTAMP`;
    const t = `$t${i}::TIMESTAMP`;
    const metric = (name: keyof WindowRow, value: string) => `SELECT '${name}' AS k, ${i} AS i, (${value})::VARCHAR AS v`;
    return [
      metric('paying', payingCustomersSql(f, t, i)),
      metric('subs', `SELECT to_json(list(x)) FROM (SELECT currency, sum(mrr_delta)::VARCHAR AS mrr, sum(active_delta)::VARCHAR AS active
             FROM ${subscriptionEvents(t, '<=')} GROUP BY currency) x`),
      metric('active_at_from', `SELECT sum(active_delta) FROM ${subscriptionEvents(f, '<=')}`),
      // Cancellations in [from, to): those before `to` less those before `from`.
      metric('cancels', `SELECT coalesce((SELECT sum(cancels) FROM ${subscriptionEvents(t, '<')}), 0)
             - coalesce((SELECT sum(cancels) FROM ${subscriptionEvents(f, '<')}), 0)`),
    ];
  });
  branches.unshift(...shared);
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


const LISTS = new Set<keyof WindowRow>(['pay', 'ord', 'subs']);

/**
 * The tenant's subscription events with ts `op` x (`<=` or `<`), as a FROM item whose sums are theirs
 * (currency, mrr_delta, active_delta, cancels): per currency, the running totals through the last day
 * with events before x's day (kpi_subscription_days), then the exact events of x's day up to x.
 */
function subscriptionEvents(x: string, op: '<=' | '<'): string {
  const day = `CAST(${x} AS DATE)`;
  return `(SELECT currency, arg_max(mrr_cum, d) AS mrr_delta, arg_max(active_cum, d) AS active_delta, arg_max(cancels_cum, d) AS cancels
    FROM kpi_subscription_days WHERE tenant_id = $tenant AND d < ${day} GROUP BY currency
    UNION ALL
    SELECT currency, mrr_delta, active_delta, cancels FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts >= ${day} AND ts ${op} ${x})`;
}
