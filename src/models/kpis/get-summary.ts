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
 * trip and one plan, each metric a scalar subquery over the rollups. Columns and parameters are
 * suffixed with the window's index.
 */
export async function getSummaries(wh: Warehouse, tenantId: string, ranges: { from: Date; to: Date }[]): Promise<SummaryMetrics[]> {
  const params: Record<string, string> = { tenant: tenantId };
  const cols = ranges.map((r, i) => {
    Object.assign(params, { [`f${i}`]: sqlTs(r.from), [`t${i}`]: sqlTs(r.to) }, payingParams(r.from, r.to, i));
    const f = `$f${i}::TIMESTAMP`;
    const t = `$t${i}::TIMESTAMP`;
    const inRange = `tenant_id = $tenant AND bucket >= ${f} AND bucket < ${t}`;
    return `
      (SELECT list({'currency': currency, 'ok': ok::VARCHAR, 'failed': failed::VARCHAR, 'gross': gross::VARCHAR, 'refunds': refunds::VARCHAR})
       FROM (SELECT currency, sum(succeeded + refunded) AS ok, sum(failed) AS failed, sum(gross) AS gross, sum(refunds) AS refunds
             FROM kpi_payments_15m WHERE ${inRange} GROUP BY currency)) AS pay${i},
      (SELECT list({'currency': currency, 'orders': orders::VARCHAR, 'value': value::VARCHAR})
       FROM (SELECT currency, sum(orders) AS orders, sum(order_value) AS value
             FROM kpi_orders_15m WHERE ${inRange} GROUP BY currency HAVING sum(orders) > 0)) AS ord${i},
      (SELECT sum(views)::VARCHAR FROM kpi_page_views_15m WHERE ${inRange}) AS views${i},
      ${payingCustomersSql(f, t, i)}::VARCHAR AS paying${i},
      (SELECT sum(customers)::VARCHAR FROM kpi_new_customers_15m WHERE ${inRange}) AS fresh${i},
      (SELECT list({'currency': currency, 'mrr': mrr::VARCHAR, 'active': active::VARCHAR})
       FROM (SELECT currency, sum(mrr_delta) AS mrr, sum(active_delta) AS active
             FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= ${t} GROUP BY currency)) AS subs${i},
      (SELECT sum(active_delta)::VARCHAR FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= ${f}) AS active_at_from${i},
      (SELECT sum(cancels)::VARCHAR FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts >= ${f} AND ts < ${t}) AS cancels${i}`;
  });
  // One statement for all windows: measured faster than one per window on parallel connections.
  const [row] = await wh.query<Record<string, unknown>>(`SELECT ${cols.join(',')}`, params);
  return ranges.map((_, i) => {
    const pick = <K extends keyof WindowRow>(k: K) => (row?.[`${k}${i}`] ?? null) as WindowRow[K];
    return toMetrics({
      pay: pick('pay'), ord: pick('ord'), views: pick('views'), paying: pick('paying'), fresh: pick('fresh'),
      subs: pick('subs'), active_at_from: pick('active_at_from'), cancels: pick('cancels'),
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

