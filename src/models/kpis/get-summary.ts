import type { Warehouse } from '../../warehouse/warehouse.ts';
import { db, type KpiRange, num, rangeParams, ratio } from './common.ts';
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
  const p = rangeParams(r);
  const inRange = `tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP`;
  const [payments, orders, views, customers, subs, churn] = await Promise.all([
    db(wh).query<{ currency: string; ok: string; failed: string; gross: string; refunds: string }>(`
      SELECT currency, sum(succeeded + refunded) AS ok, sum(failed) AS failed, sum(gross) AS gross, sum(refunds) AS refunds
      FROM kpi_payments_15m WHERE ${inRange} GROUP BY currency`, p),
    db(wh).query<{ currency: string; orders: string; value: string }>(`
      SELECT currency, sum(orders) AS orders, sum(order_value) AS value
      FROM kpi_orders_15m WHERE ${inRange} GROUP BY currency HAVING sum(orders) > 0`, p),
    db(wh).query<{ views: string | null }>(`SELECT sum(views) AS views FROM kpi_page_views_15m WHERE ${inRange}`, p),
    db(wh).query<{ paying: string; fresh: string }>(`
      SELECT (SELECT count(DISTINCT customer_id) FROM kpi_customer_15m WHERE ${inRange}) AS paying,
             (SELECT count(*) FROM kpi_customer_first WHERE tenant_id = $tenant
                AND first_bucket >= $from::TIMESTAMP AND first_bucket < $to::TIMESTAMP) AS fresh`, p),
    db(wh).query<{ currency: string | null; mrr: string; active: string }>(`
      SELECT currency, sum(mrr_delta) AS mrr, sum(active_delta) AS active
      FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts <= $to::TIMESTAMP GROUP BY currency`, p),
    db(wh).query<{ active_at_from: string | null; cancels: string | null }>(`
      SELECT sum(active_delta) FILTER (WHERE ts <= $from::TIMESTAMP) AS active_at_from,
             sum(cancels) FILTER (WHERE ts >= $from::TIMESTAMP AND ts < $to::TIMESTAMP) AS cancels
      FROM kpi_subscription_events WHERE tenant_id = $tenant AND ts < $to::TIMESTAMP`, p),
  ]);

  const paid = byCurrency(payments.filter((x) => num(x.ok) > 0));
  const ok = payments.reduce((s, x) => s + num(x.ok), 0);
  const failed = payments.reduce((s, x) => s + num(x.failed), 0);
  const ord = byCurrency(orders);
  const orderCount = ord.reduce((s, x) => s + num(x.orders), 0);
  const pageViews = num(views[0]?.views);
  // A currency whose subscriptions all ended sums to 0 and is left out, like a GROUP BY over active ones.
  const mrr = byCurrency(subs.filter((x): x is typeof x & { currency: string } => x.currency != null && num(x.active) > 0))
    .map((x) => ({ currency: x.currency, amount: normaliseAmount(x.mrr) }));

  return {
    revenue_gross: paid.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.gross) })),
    refunds: paid.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.refunds) })),
    revenue_net: paid.map((x) => ({ currency: x.currency, amount: subtractAmounts(x.gross, x.refunds) })),
    orders: orderCount,
    order_value: ord.map((x) => ({ currency: x.currency, amount: normaliseAmount(x.value) })),
    aov: ord.map((x) => ({ currency: x.currency, amount: divideAmount(x.value, BigInt(x.orders)) })),
    paying_customers: num(customers[0]?.paying),
    new_customers: num(customers[0]?.fresh),
    payment_success_rate: ratio(ok, ok + failed),
    page_views: pageViews,
    conversion_rate: ratio(orderCount, pageViews),
    mrr,
    arr: mrr.map((m) => ({ currency: m.currency, amount: multiplyAmount(m.amount, 12) })),
    subscription_churn: ratio(num(churn[0]?.cancels), num(churn[0]?.active_at_from)),
  };
}
