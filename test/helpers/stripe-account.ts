import type pg from 'pg';
import type Stripe from 'stripe';
import { Rng } from '../../src/synth/random.ts';
import { cardDeclined, charge, paymentIntent, refund, subscription } from '../fakes/stripe-objects.ts';
import type { FakeStripeStore } from '../fakes/stripe-server.ts';

/**
 * A Stripe account that took the generated shop's payments, as a real one would differ from the
 * shop's database: most database payments are there under the Stripe id the database keeps, some
 * with refunds the database never heard of; a few database payments are not (paid another way);
 * newer payments are in Stripe only (the database lags), some in JPY, from customers the shop does
 * not know yet; one is a legacy charge without a PaymentIntent. Subscriptions likewise, plus
 * quarterly JPY plans and ones that never started.
 */
export interface StripeAccount extends Pick<FakeStripeStore, 'payment_intents' | 'charges' | 'refunds' | 'disputes' | 'subscriptions'> {
  /** Database payments Stripe does not have (their Stripe ids). */
  dbOnly: string[];
  /** Database subscriptions Stripe does not have. */
  dbOnlySubscriptions: string[];
}

const cents = (amount: string) => Math.round(Number(amount) * 100);

export async function stripeAccountFrom(pool: pg.Pool, opts: { seed: number; now: number }): Promise<StripeAccount> {
  const rng = new Rng(opts.seed);
  const acct: StripeAccount = { payment_intents: [], charges: [], refunds: [], disputes: [], subscriptions: [], dbOnly: [], dbOnlySubscriptions: [] };
  const { rows: payments } = await pool.query<{ sid: string; amount: string; status: string; created: string; customer: string }>(`
    SELECT p.stripe_payment_id AS sid, p.amount::text, p.status, extract(epoch FROM p.created_at)::bigint::text AS created, u.stripe_customer_id AS customer
    FROM payments p JOIN users u ON u.id = p.user_id ORDER BY p.created_at, p.id`);
  let n = 0;
  const addPayment = (pi: Stripe.PaymentIntent, outcome: 'succeeded' | 'failed' | 'pending', refundedShare = 0) => {
    acct.payment_intents.push(pi);
    if (outcome === 'pending') return;
    const ch = charge({ id: `ch_t${++n}`, amount: pi.amount, currency: pi.currency, created: pi.created + 5, customer: pi.customer, payment_intent: pi.id,
      status: outcome, amount_refunded: Math.round(pi.amount * refundedShare), refunded: refundedShare === 1 });
    acct.charges.push(ch);
    if (outcome === 'succeeded') pi.latest_charge = ch.id;
    if (refundedShare > 0) {
      acct.refunds.push(refund({ id: `re_t${n}`, amount: ch.amount_refunded, currency: pi.currency, created: pi.created + 86_400, charge: ch.id, payment_intent: pi.id, status: 'succeeded' }));
    }
  };
  for (const p of payments) {
    if (rng.next() < 0.05) {
      acct.dbOnly.push(p.sid);
      continue;
    }
    const created = Number(p.created);
    const amount = cents(p.amount);
    if (p.status === 'failed') {
      addPayment(paymentIntent({ id: p.sid, amount, currency: 'usd', created, customer: p.customer, status: 'requires_payment_method', last_payment_error: cardDeclined() }), 'failed');
    } else if (p.status === 'pending') {
      addPayment(paymentIntent({ id: p.sid, amount, currency: 'usd', created, customer: p.customer, status: 'processing' }), 'pending');
    } else {
      // The database's refunds, and refunds made in Stripe's dashboard that it never heard of.
      const share = p.status === 'refunded' ? 1 : rng.next() < 0.08 ? 0.3 : 0;
      addPayment(paymentIntent({ id: p.sid, amount, currency: 'usd', created, customer: p.customer, status: 'succeeded' }), 'succeeded', share);
    }
  }
  const customers = [...new Set(payments.map((p) => p.customer))];
  const lastDb = Math.max(...payments.map((p) => Number(p.created)));
  // Stripe-only: newer than anything the database has, in USD and JPY, some from unknown customers.
  for (let i = 0; i < 80; i++) {
    const jpy = i % 3 === 0;
    const created = lastDb + 60 + Math.floor(rng.next() * Math.max(60, opts.now - lastDb - 3600));
    const customer = i % 5 === 0 ? `cus_new${i % 4}` : customers[Math.floor(rng.next() * customers.length)]!;
    const amount = jpy ? 1000 + 10 * Math.floor(rng.next() * 900) : 500 + Math.floor(rng.next() * 20_000);
    const failed = rng.next() < 0.1;
    addPayment(paymentIntent({ id: `pi_new${i}`, amount, currency: jpy ? 'jpy' : 'usd', created, customer, status: failed ? 'requires_payment_method' : 'succeeded',
      ...(failed ? { last_payment_error: cardDeclined() } : {}) }), failed ? 'failed' : 'succeeded', !failed && i % 7 === 0 ? 0.5 : 0);
  }
  // Cancelled before any attempt: not a payment.
  acct.payment_intents.push(paymentIntent({ id: 'pi_abandoned', amount: 999, currency: 'usd', created: lastDb + 120, customer: customers[0]!, status: 'canceled' }));
  // A legacy charge without a PaymentIntent.
  acct.charges.push(charge({ id: 'ch_legacy', amount: 4200, currency: 'usd', created: lastDb + 300, customer: customers[1]!, payment_intent: null, status: 'succeeded' }));

  const { rows: subs } = await pool.query<{ sid: string; status: string; created: string; cancelled: string | null; price: string; currency: string; interval: string; customer: string }>(`
    SELECT s.stripe_subscription_id AS sid, s.status, extract(epoch FROM s.created_at)::bigint::text AS created,
      extract(epoch FROM s.cancelled_at)::bigint::text AS cancelled, p.price::text, p.currency, p.interval, u.stripe_customer_id AS customer
    FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id JOIN users u ON u.id = s.user_id ORDER BY s.created_at, s.id`);
  for (const s of subs) {
    if (rng.next() < 0.1) {
      acct.dbOnlySubscriptions.push(s.sid);
      continue;
    }
    const created = Number(s.created);
    const cancelled = s.cancelled === null ? null : Number(s.cancelled);
    const yearly = /^(year|yearly|annual)$/i.test(s.interval);
    acct.subscriptions.push(subscription({
      id: s.sid, customer: s.customer, created, start_date: created, currency: s.currency.toLowerCase(),
      status: cancelled !== null ? 'canceled' : 'active', canceled_at: cancelled, ended_at: cancelled,
      items: [{ price: { unit_amount: cents(s.price), currency: s.currency.toLowerCase(), recurring: { interval: yearly ? 'year' : 'month' } } }],
    }));
  }
  for (let i = 0; i < 12; i++) {
    const created = opts.now - Math.floor(rng.next() * 200 * 86_400);
    const status = i < 8 ? 'active' : i < 10 ? 'incomplete_expired' : 'trialing';
    acct.subscriptions.push(subscription({
      id: `sub_new${i}`, customer: customers[i]!, created, start_date: created, currency: 'jpy', status,
      ...(status === 'trialing' ? { trial_end: opts.now + 7 * 86_400 } : {}),
      ...(status === 'incomplete_expired' ? { ended_at: created + 86_400, canceled_at: null } : {}),
      items: [{ price: { unit_amount: 10_000, currency: 'jpy', recurring: { interval: 'month', interval_count: 3 } }, quantity: 1 + (i % 2) }],
    }));
  }
  return acct;
}

