import { z } from 'zod';
import { fromMinorUnits, scaledToCents } from './currency.ts';

/**
 * Stripe objects → canonical payments and subscriptions (pure). Only the fields read here are
 * checked; an object that fails its schema is rejected with the reason, not mapped half-way.
 */

const id = z.string().min(1);
/** A reference that is an id, or the object itself when expanded. */
const ref = z.union([z.string(), z.object({ id }).loose()]).nullish().transform((v) => (v == null ? null : typeof v === 'string' ? v : v.id));
const unix = z.number().int().nonnegative();
const minor = z.number().int();
const currency = z.string().regex(/^[a-zA-Z]{3}$/, 'currency must be a three-letter code');

export const paymentIntentSchema = z.object({
  id, object: z.literal('payment_intent'), amount: minor, amount_received: minor.nullish(), currency, created: unix,
  status: z.string(), customer: ref, latest_charge: ref, last_payment_error: z.object({}).loose().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
});
export const chargeSchema = z.object({
  id, object: z.literal('charge'), amount: minor, amount_refunded: minor.nullish(), currency, created: unix,
  status: z.string(), customer: ref, payment_intent: ref, metadata: z.record(z.string(), z.string()).nullish(),
});
export const refundSchema = z.object({
  id, object: z.literal('refund'), amount: minor, currency, created: unix, status: z.string().nullish(), charge: ref, payment_intent: ref,
});
export const disputeSchema = z.object({
  id, object: z.literal('dispute'), amount: minor, currency, created: unix, status: z.string(), charge: ref, payment_intent: ref,
});
const recurring = z.object({ interval: z.enum(['day', 'week', 'month', 'year']), interval_count: z.number().int().positive().default(1) });
export const subscriptionSchema = z.object({
  id, object: z.literal('subscription'), customer: ref, currency, created: unix, status: z.string(),
  start_date: unix, trial_end: unix.nullish(), ended_at: unix.nullish(), canceled_at: unix.nullish(),
  current_period_end: unix.nullish(),
  items: z.object({
    data: z.array(z.object({
      id, quantity: z.number().int().nonnegative().nullish(), current_period_end: unix.nullish(),
      price: z.object({ id, currency, unit_amount: minor.nullish(), nickname: z.string().nullish(), product: ref, recurring: recurring.nullish() }).loose(),
    }).loose()),
  }).loose(),
});

export type PaymentIntent = z.infer<typeof paymentIntentSchema>;
export type Charge = z.infer<typeof chargeSchema>;
export type Refund = z.infer<typeof refundSchema>;
export type Dispute = z.infer<typeof disputeSchema>;
export type Subscription = z.infer<typeof subscriptionSchema>;

/** Canonical payment columns, as the loader reads them (text), plus its cursor. */
export interface PaymentRow {
  payment_id: string; source: 'stripe'; external_id: string | null; order_id: string | null; customer_id: string | null;
  product_id: string | null; amount: string; currency: string; status: string; raw_status: string;
  refunded_amount: string; created_at: string; completed_at: string | null; _cursor_ts: string;
}

export interface SubscriptionRow {
  subscription_id: string; customer_id: string | null; plan_id: string | null; plan_name: string | null; monthly_amount: string | null;
  currency: string; status: string; raw_status: string; started_at: string; current_period_end: string | null;
  cancelled_at: string | null; source: 'stripe'; external_id: null; _cursor_ts: string;
}

/** What the warehouse knows of a Stripe object's counterparts at the source. */
export interface Links {
  /** Our customer whose Stripe customer id is the object's customer. */
  customerId?: string | null;
  /** The database payment that keeps this payment's Stripe id. */
  db?: { customer_id: string | null; product_id: string | null; order_id: string | null } | null;
}

/** UTC 'YYYY-MM-DD HH:MM:SS' of a Unix time. */
export const timestamp = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ');

const PENDING_PI = new Set(['processing', 'requires_action', 'requires_confirmation', 'requires_capture']);

/**
 * Money given back on a payment: per charge, the larger of Stripe's running `amount_refunded` and the
 * refunds we hold for it (succeeded or pending: Stripe counts a pending refund as refunded), plus
 * the amount of every dispute lost (the bank took it back). At most the amount paid.
 */
function refundedMinor(paid: number, charges: Charge[], refunds: Refund[], disputes: Dispute[], chargeIds: Set<string>): number {
  let refunded = 0;
  for (const chargeId of chargeIds) {
    const c = charges.find((x) => x.id === chargeId);
    const listed = refunds.filter((r) => r.charge === chargeId && (r.status === 'succeeded' || r.status === 'pending')).reduce((s, r) => s + r.amount, 0);
    refunded += Math.max(c?.amount_refunded ?? 0, listed);
  }
  // Refunds that name no charge (rare: made against the PaymentIntent before its charge was known).
  refunded += refunds.filter((r) => r.charge === null && (r.status === 'succeeded' || r.status === 'pending')).reduce((s, r) => s + r.amount, 0);
  refunded += disputes.filter((d) => d.status === 'lost').reduce((s, d) => s + d.amount, 0);
  return Math.min(refunded, paid);
}

function linkedIds(stripeCustomer: string | null, links: Links, metadata: Record<string, string> | null | undefined) {
  return {
    customer_id: links.db?.customer_id ?? links.customerId ?? stripeCustomer,
    product_id: links.db?.product_id ?? metadata?.product_id ?? null,
    order_id: links.db?.order_id ?? metadata?.order_id ?? null,
  };
}

/**
 * A PaymentIntent with its charges, refunds and disputes → one canonical payment, or null for one
 * that never was a payment attempt (cancelled before any charge failed). Status: succeeded (refunded
 * when everything paid went back), failed (a charge failed: requires_payment_method or canceled with
 * a payment error), pending (awaiting the customer, processing, or authorised but not captured).
 * Amount: what was received for a succeeded one, else what was asked.
 */
export function mapPaymentIntent(pi: PaymentIntent, related: { charges: Charge[]; refunds: Refund[]; disputes: Dispute[] }, links: Links, seenAt: string): PaymentRow | null {
  const ownCharges = related.charges.filter((c) => c.payment_intent === pi.id);
  const failedCharge = ownCharges.some((c) => c.status === 'failed');
  let status: PaymentRow['status'];
  if (pi.status === 'succeeded') status = 'succeeded';
  else if (PENDING_PI.has(pi.status)) status = 'pending';
  else if (pi.status === 'requires_payment_method') status = pi.last_payment_error || failedCharge ? 'failed' : 'pending';
  else if (pi.status === 'canceled') {
    if (!pi.last_payment_error && !failedCharge) return null;
    status = 'failed';
  } else status = pi.status; // not a canonical status: the loader rejects the row, naming it
  const paid = status === 'succeeded' ? (pi.amount_received ?? pi.amount) : pi.amount;
  const chargeIds = new Set([...ownCharges.map((c) => c.id), ...(pi.latest_charge ? [pi.latest_charge] : [])]);
  const refunds = related.refunds.filter((r) => r.payment_intent === pi.id || (r.charge !== null && chargeIds.has(r.charge)));
  const disputes = related.disputes.filter((d) => d.payment_intent === pi.id || (d.charge !== null && chargeIds.has(d.charge)));
  const refunded = status === 'succeeded' ? refundedMinor(paid, related.charges, refunds, disputes, chargeIds) : 0;
  if (status === 'succeeded' && paid > 0 && refunded >= paid) status = 'refunded';
  const settled = ownCharges.filter((c) => c.status === 'succeeded').sort((a, b) => a.created - b.created)[0];
  return {
    payment_id: pi.id, source: 'stripe', external_id: pi.latest_charge,
    ...linkedIds(pi.customer, links, pi.metadata),
    amount: fromMinorUnits(paid, pi.currency), currency: pi.currency.toUpperCase(), status, raw_status: pi.status,
    refunded_amount: fromMinorUnits(refunded, pi.currency), created_at: timestamp(pi.created),
    completed_at: status === 'succeeded' || status === 'refunded' ? timestamp(settled?.created ?? pi.created) : null,
    _cursor_ts: seenAt,
  };
}

/** A charge made without a PaymentIntent (the legacy Charges API) → one canonical payment. */
export function mapCharge(ch: Charge, related: { refunds: Refund[]; disputes: Dispute[] }, links: Links, seenAt: string): PaymentRow {
  let status: PaymentRow['status'] = ch.status;
  const refunds = related.refunds.filter((r) => r.charge === ch.id);
  const disputes = related.disputes.filter((d) => d.charge === ch.id);
  const refunded = status === 'succeeded' ? refundedMinor(ch.amount, [ch], refunds, disputes, new Set([ch.id])) : 0;
  if (status === 'succeeded' && ch.amount > 0 && refunded >= ch.amount) status = 'refunded';
  return {
    payment_id: ch.id, source: 'stripe', external_id: null,
    ...linkedIds(ch.customer, links, ch.metadata),
    amount: fromMinorUnits(ch.amount, ch.currency), currency: ch.currency.toUpperCase(), status, raw_status: ch.status,
    refunded_amount: fromMinorUnits(refunded, ch.currency), created_at: timestamp(ch.created),
    completed_at: status === 'succeeded' || status === 'refunded' ? timestamp(ch.created) : null, _cursor_ts: seenAt,
  };
}

/** Months per interval as a fraction num/den: 1 year = 12 months, 1 week = 12/52 of a month, 1 day = 12/365. */
const PER_MONTH: Record<'day' | 'week' | 'month' | 'year', [bigint, bigint]> = {
  day: [365n, 12n], week: [52n, 12n], month: [1n, 1n], year: [1n, 12n],
};

/**
 * Σ over the items of unit_amount × quantity per month, in major units to the cent: a yearly plan
 * counts 1/12 of its price, a quarterly one (month × 3) 1/3. Null when an item has no unit amount
 * (tiered or metered prices: their month is not known in advance) or no recurring interval.
 */
export function monthlyAmount(sub: Subscription): string | null {
  let num = 0n;
  let den = 1n;
  for (const item of sub.items.data) {
    const { unit_amount: unit, recurring: r } = item.price;
    if (unit == null || !r) return null;
    const [perNum, perDen] = PER_MONTH[r.interval];
    // unit × quantity × perNum / (perDen × count), summed as one fraction for exact rounding.
    const n = BigInt(unit) * BigInt(item.quantity ?? 1) * perNum;
    const d = perDen * BigInt(r.interval_count);
    num = num * d + n * den;
    den *= d;
  }
  return scaledToCents(num, 1n, den, sub.currency);
}

const SUBSCRIPTION_STATUS: Record<string, string> = {
  active: 'active', trialing: 'trialing', past_due: 'past_due', unpaid: 'past_due', canceled: 'cancelled', paused: 'paused',
  incomplete: 'incomplete', incomplete_expired: 'incomplete',
};

/**
 * A Stripe subscription → one canonical subscription. It starts earning when its trial ends (or at
 * its start without one) and stops when it ended: `ended_at`, not `canceled_at` (a cancellation at
 * period end keeps it paying until then). One that never got its first payment is `incomplete`:
 * neither active nor churned.
 */
export function mapSubscription(sub: Subscription, links: Links, seenAt: string): SubscriptionRow {
  const status = SUBSCRIPTION_STATUS[sub.status] ?? sub.status;
  const first = sub.items.data[0];
  const started = sub.trial_end && sub.trial_end > sub.start_date ? sub.trial_end : sub.start_date;
  const ended = sub.status === 'canceled' ? (sub.ended_at ?? sub.canceled_at ?? null) : null;
  const periodEnd = first?.current_period_end ?? sub.current_period_end ?? null;
  return {
    subscription_id: sub.id, customer_id: links.customerId ?? sub.customer,
    plan_id: first?.price.id ?? null, plan_name: first ? (first.price.nickname ?? first.price.product) : null,
    monthly_amount: monthlyAmount(sub), currency: sub.currency.toUpperCase(), status, raw_status: sub.status,
    started_at: timestamp(started), current_period_end: periodEnd === null ? null : timestamp(periodEnd),
    cancelled_at: ended === null ? null : timestamp(ended), source: 'stripe', external_id: null, _cursor_ts: seenAt,
  };
}
