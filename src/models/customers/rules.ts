/**
 * The rule view CRM users know, in the b2b seed's vocabulary: a customer's status from the days
 * since the last order against the customer's own rhythm and the store's repurchase distribution.
 */

export const STATUSES = ['NO_ORDERS_YET', 'ORDERING', 'AT_RISK', 'STOPPED_ORDERING'] as const;
export type Status = (typeof STATUSES)[number];

export interface RuleSettings {
  /** Pseudo-gaps of the store's median a customer's own mean gap is shrunk with (more orders, less shrinkage). */
  shrinkOrders: number;
  /** Store-scaled elapsed time beyond this quantile of the store's repurchase gaps: AT_RISK. */
  atRiskQuantile: number;
  /** ... beyond this one: STOPPED_ORDERING. */
  stoppedQuantile: number;
}

export interface StoreGaps {
  /** Days between consecutive purchase days of the same customer, at quantiles 0, 0.01, …, 1. */
  quantiles: number[];
}

export interface RuleInput {
  /** Purchase days. */
  orders: number;
  /** Mean days between the customer's purchase days (t_x / x); null with one purchase day. */
  meanGap: number | null;
  daysSinceLast: number | null;
}

export interface RuleResult {
  status: Status;
  /** The customer's typical gap in days (own mean shrunk toward the store's median). */
  typicalGap: number | null;
  /** Where the store-scaled elapsed time falls in the store's repurchase gaps (0-1). */
  gapQuantile: number | null;
}

/** The store's gap distribution at `days`: linear between its percentiles. */
export function gapCdf(g: StoreGaps, days: number): number {
  const q = g.quantiles;
  if (q.length < 2 || days <= q[0]!) return 0;
  if (days >= q[q.length - 1]!) return 1;
  let i = 1;
  while (q[i]! < days) i++;
  const lo = q[i - 1]!;
  const hi = q[i]!;
  const step = 1 / (q.length - 1);
  return (i - 1) * step + (hi > lo ? ((days - lo) / (hi - lo)) * step : 0);
}

export function classify(c: RuleInput, g: StoreGaps, s: RuleSettings): RuleResult {
  if (c.orders === 0 || c.daysSinceLast === null) return { status: 'NO_ORDERS_YET', typicalGap: null, gapQuantile: null };
  const median = g.quantiles.length ? g.quantiles[Math.floor((g.quantiles.length - 1) / 2)]! : null;
  if (!median || median <= 0) return { status: 'ORDERING', typicalGap: c.meanGap, gapQuantile: null };
  const repeats = c.orders - 1;
  // With no repeat purchase and no shrinkage there is nothing of the customer's own: the store's median.
  const typicalGap = repeats + s.shrinkOrders > 0 ? (repeats * (c.meanGap ?? 0) + s.shrinkOrders * median) / (repeats + s.shrinkOrders) : median;
  // The elapsed days in the store's units: a customer who orders twice as often as the median
  // customer is as overdue after 30 days as the median one after 60.
  const u = gapCdf(g, (c.daysSinceLast * median) / typicalGap);
  const status: Status = u >= s.stoppedQuantile ? 'STOPPED_ORDERING' : u >= s.atRiskQuantile ? 'AT_RISK' : 'ORDERING';
  return { status, typicalGap, gapQuantile: u };
}
