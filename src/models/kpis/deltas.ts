import type { SummaryMetrics } from './get-summary.ts';
import { relativeChange, subtractAmounts } from './money.ts';

export interface CountDelta {
  previous: number;
  change: number;
  /** (current − previous) ÷ previous; null when previous is 0. */
  change_ratio: number | null;
}
export interface RateDelta {
  previous: number | null;
  /** Absolute difference of the two rates (percentage points ÷ 100); null when either is undefined. */
  change: number | null;
}
export interface MoneyDelta {
  currency: string;
  previous: string | null;
  change: string | null;
  change_ratio: number | null;
}

export interface SummaryDeltas {
  revenue_gross: MoneyDelta[];
  refunds: MoneyDelta[];
  revenue_net: MoneyDelta[];
  orders: CountDelta;
  order_value: MoneyDelta[];
  aov: MoneyDelta[];
  paying_customers: CountDelta;
  new_customers: CountDelta;
  payment_success_rate: RateDelta;
  page_views: CountDelta;
  conversion_rate: RateDelta;
  mrr: MoneyDelta[];
  arr: MoneyDelta[];
  subscription_churn: RateDelta;
}

export function countDelta(current: number, previous: number): CountDelta {
  return { previous, change: current - previous, change_ratio: previous === 0 ? null : (current - previous) / previous };
}

export function rateDelta(current: number | null, previous: number | null): RateDelta {
  return { previous, change: current == null || previous == null ? null : current - previous };
}

/**
 * Per-currency money deltas over the union of both periods' currencies. A currency absent from a
 * period counts as 0 there (no revenue), except for averages (`missingIsZero` false), where it is
 * undefined and so is the change.
 */
export function moneyDeltas(
  current: { currency: string; amount: string | null }[],
  previous: { currency: string; amount: string | null }[],
  missingIsZero = true,
): MoneyDelta[] {
  const cur = new Map(current.map((m) => [m.currency, m.amount]));
  const prev = new Map(previous.map((m) => [m.currency, m.amount]));
  const currencies = [...new Set([...cur.keys(), ...prev.keys()])].sort();
  const fill = (v: string | null | undefined): string | null => (v === undefined ? (missingIsZero ? '0.00' : null) : v);
  return currencies.map((currency) => {
    const c = fill(cur.get(currency));
    const p = fill(prev.get(currency));
    if (c == null || p == null) return { currency, previous: p, change: null, change_ratio: null };
    return { currency, previous: p, change: subtractAmounts(c, p), change_ratio: relativeChange(c, p) };
  });
}

/** Deltas of every summary metric against the previous period. */
export function summaryDeltas(cur: SummaryMetrics, prev: SummaryMetrics): SummaryDeltas {
  return {
    revenue_gross: moneyDeltas(cur.revenue_gross, prev.revenue_gross),
    refunds: moneyDeltas(cur.refunds, prev.refunds),
    revenue_net: moneyDeltas(cur.revenue_net, prev.revenue_net),
    orders: countDelta(cur.orders, prev.orders),
    order_value: moneyDeltas(cur.order_value, prev.order_value),
    aov: moneyDeltas(cur.aov, prev.aov, false),
    paying_customers: countDelta(cur.paying_customers, prev.paying_customers),
    new_customers: countDelta(cur.new_customers, prev.new_customers),
    payment_success_rate: rateDelta(cur.payment_success_rate, prev.payment_success_rate),
    page_views: countDelta(cur.page_views, prev.page_views),
    conversion_rate: rateDelta(cur.conversion_rate, prev.conversion_rate),
    mrr: moneyDeltas(cur.mrr, prev.mrr),
    arr: moneyDeltas(cur.arr, prev.arr),
    subscription_churn: rateDelta(cur.subscription_churn, prev.subscription_churn),
  };
}
