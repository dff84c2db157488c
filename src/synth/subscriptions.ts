/**
 * Subscription plans and subscriptions with known churn.
 *
 * Subscription s picks a customer uniformly, starts uniformly between the customer's first purchase
 * and the end of history, and takes plan k with probability `mix`. Billing periods follow the plan
 * interval in calendar months (Stripe-style day clamping). At each renewal the subscription is not
 * renewed with probability `cancelAtRenewal` (4 %/month Basic, 2.5 %/month Pro, 20 % per year for the
 * annual plan): then status 'cancelled', cancelled_at = current_period_end = the renewal instant.
 * Subscriptions still running at the end are 'active', except a `pastDueProbability` share marked
 * 'past_due' (their latest renewal payment failed). No payments rows are written for subscriptions:
 * payments/revenue_daily describe the shop's product sales only.
 */
import type { Calendar } from './calendar.js';
import { addMonthsUtc, formatTimestamp } from './calendar.js';
import { csvRow, formatCents } from './copy.js';
import type { CustomerSimulator } from './customers.js';
import { Rng, base62, pickWeighted, uuid, uuidFromWords } from './random.js';

export const STREAM_PLANS = 0x91a5;
export const STREAM_SUBSCRIPTIONS = 0x5b5c;

export const SUBSCRIPTION_STATUSES = ['active', 'cancelled', 'past_due'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];
export const PAST_DUE_PROBABILITY = 0.03;

export interface PlanSpec {
  id: string;
  name: string;
  priceCents: number;
  currency: 'USD';
  interval: 'month' | 'year';
  intervalMonths: number;
  stripePriceId: string;
  features: string[];
  mix: number;
  /** Probability of not renewing at each renewal. */
  cancelAtRenewal: number;
}

export function buildPlans(seed: number): PlanSpec[] {
  const rng = new Rng(seed, STREAM_PLANS);
  const mk = (name: string, priceCents: number, interval: 'month' | 'year', mix: number, cancelAtRenewal: number, features: string[]): PlanSpec => ({
    id: uuid(rng),
    name,
    priceCents,
    currency: 'USD',
    interval,
    intervalMonths: interval === 'month' ? 1 : 12,
    stripePriceId: 'price_' + base62(rng, 24),
    features,
    mix,
    cancelAtRenewal,
  });
  return [
    mk('Basic', 1900, 'month', 0.5, 0.04, ['price_recommendations', 'weekly_reports']),
    mk('Pro', 4900, 'month', 0.35, 0.025, ['price_recommendations', 'daily_reports', 'forecasts', 'ab_testing']),
    mk('Pro Annual', 49000, 'year', 0.15, 0.2, ['price_recommendations', 'daily_reports', 'forecasts', 'ab_testing']),
  ];
}

export function* planRows(plans: readonly PlanSpec[], createdMs: number): Generator<string> {
  for (const p of plans) {
    yield csvRow([p.id, p.name, formatCents(p.priceCents), p.currency, p.interval, p.stripePriceId, JSON.stringify({ features: p.features }), formatTimestamp(createdMs)]);
  }
}

export interface SubscriptionTally {
  count: number;
  byStatus: Record<SubscriptionStatus, number>;
  byPlan: Record<string, number>;
}

export function subscriptionCount(targetOrders: number): number {
  return Math.max(200, Math.round(targetOrders / 25));
}

export function* subscriptionRows(
  seed: number,
  cal: Calendar,
  plans: readonly PlanSpec[],
  sim: CustomerSimulator,
  customers: number,
  count: number,
  tally: SubscriptionTally,
): Generator<string> {
  const rng = new Rng(0);
  const mix = plans.map((p) => p.mix);
  for (let s = 0; s < count; s++) {
    rng.reseed(seed, STREAM_SUBSCRIPTIONS, s);
    const id = uuid(rng);
    const customer = rng.int(0, customers - 1);
    sim.run(customer, false);
    const userId = uuidFromWords(sim.idWords[0]!, sim.idWords[1]!, sim.idWords[2]!, sim.idWords[3]!);
    const startMs = Math.floor(sim.birthMs + rng.next() * (cal.endMs - sim.birthMs));
    const plan = plans[pickWeighted(mix, rng.next())]!;
    let status: SubscriptionStatus = 'active';
    let periodStart = startMs;
    let periodEnd = addMonthsUtc(startMs, plan.intervalMonths);
    let cancelledMs: number | null = null;
    for (let k = 1; periodEnd < cal.endMs; k++) {
      if (rng.next() < plan.cancelAtRenewal) {
        status = 'cancelled';
        cancelledMs = periodEnd;
        break;
      }
      periodStart = periodEnd;
      periodEnd = addMonthsUtc(startMs, (k + 1) * plan.intervalMonths);
    }
    if (status === 'active' && rng.next() < PAST_DUE_PROBABILITY) status = 'past_due';
    tally.count++;
    tally.byStatus[status]++;
    tally.byPlan[plan.name] = (tally.byPlan[plan.name] ?? 0) + 1;
    yield csvRow([
      id,
      userId,
      plan.id,
      'sub_' + base62(rng, 14),
      status,
      formatTimestamp(periodStart),
      formatTimestamp(periodEnd),
      formatTimestamp(startMs),
      cancelledMs === null ? null : formatTimestamp(cancelledMs),
    ]);
  }
}
