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
  /** Σ subscriptions.monthly_amount of subscriptions active at `to` (started_at ≤ to, not cancelled by then, status not trialing/paused/incomplete), per currency. */
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
  const perWindow = (name: keyof WindowRow, value: string, from: string) =>
    `SELECT '${name}' AS k, i, ${value}::VARCHAR AS v FROM (${from}) x GROUP BY i`;
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
  const paying = ranges.map((r, i) => {
    Object.assign(params, { [`f${i}`]: sqlTs(r.from), [`t${i}`]: sqlTs(r.to) }, payingParams(r.from, r.to, i));
    return `SELECT 'paying' AS k, ${i} AS i, (${payingCustomersSql(`$f${i}::TIMESTAMP`, `$t${i}::TIMESTAMP`, i)})::VARCHAR AS v`;
  });
  const branches = [...shared, subscriptionTotals(ranges.length), ...paying];
  const rows = await wh.query<{ k: string; i: number; v: string | null }>(branches.join('\nUNION ALL\n'), params);
  const value = (k: string, i: number): unknown => {
    const row = rows.find((r) => r.k === k && r.i === i && r.v !== null);
    return row ? (LISTS.has(k) ? JSON.parse(row.v!) : row.v) : null;
  };
  return ranges.map((_, i) => {
    type Edge = { currency: string | null; mrr: string | null; active: string | null; cancels: string | null }[];
    const atFrom = (value('sub', 2 * i) ?? []) as Edge;
    const atTo = (value('sub', 2 * i + 1) ?? []) as Edge;
    const total = (edge: Edge, k: 'active' | 'cancels') => edge.reduce((s, x) => s + num(x[k]), 0);
    return toMetrics({
      pay: value('pay', i) as WindowRow['pay'], ord: value('ord', i) as WindowRow['ord'],
      views: value('views', i) as string | null, paying: value('paying', i) as string | null, fresh: value('fresh', i) as string | null,
      subs: atTo.map((x) => ({ currency: x.currency, mrr: x.mrr ?? '0', active: x.active ?? '0' })),
      active_at_from: String(total(atFrom, 'active')),
      // Cancellations in [from, to): those before `to` less those before `from`.
      cancels: String(total(atTo, 'cancels') - total(atFrom, 'cancels')),
    });
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

const LISTS = new Set<string>(['pay', 'ord', 'sub']);

/**
 * Subscription totals at every window edge in one branch (k 'sub', i = 2 × window + 0 for from, 1 for
 * to): per currency, the MRR and active count of events at or before the edge and the cancellations
 * strictly before it. Each is the running total through the last day with events before the edge's
 * day (kpi_subscription_days, about days × currencies rows) plus the exact events of the edge's day,
 * which lie in ts order so the scan skips the rest.
 */
function subscriptionTotals(windows: number): string {
  const edges = Array.from({ length: windows }, (_, i) => [`$f${i}::TIMESTAMP`, `$t${i}::TIMESTAMP`]).flat();
  const tails = edges.map((x, j) => `SELECT ${j} AS j, currency, sum(mrr_delta) FILTER (WHERE ts <= ${x}) AS mrr,
        sum(active_delta) FILTER (WHERE ts <= ${x}) AS active, sum(cancels) FILTER (WHERE ts < ${x}) AS cancels
      FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts >= CAST(${x} AS DATE) AND ts <= ${x} GROUP BY currency`);
  return `SELECT 'sub' AS k, j AS i, to_json(list({'currency': currency, 'mrr': mrr::VARCHAR, 'active': active::VARCHAR, 'cancels': cancels::VARCHAR}))::VARCHAR AS v
    FROM (
      SELECT j, currency, sum(mrr) AS mrr, sum(active) AS active, sum(cancels) AS cancels FROM (
        SELECT e.j, d.currency, arg_max(d.mrr_cum, d.d) AS mrr, arg_max(d.active_cum, d.d) AS active, arg_max(d.cancels_cum, d.d) AS cancels
        FROM (VALUES ${edges.map((x, j) => `(${j}, ${x})`).join(', ')}) e(j, x) JOIN kpi_subscription_days d ON d.tenant_id = $tenant AND d.d < CAST(e.x AS DATE)
        GROUP BY ALL
        UNION ALL
        ${tails.join('\n        UNION ALL\n        ')})
      GROUP BY ALL)
    GROUP BY j`;
}
