import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { reconcileAll } from '../../src/ingest/reconcile.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { syncStripe, type StripeSyncContext } from '../../src/ingest/stripe/sync.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { defineJobs } from '../../src/jobs/definitions.ts';
import { JobRunner } from '../../src/jobs/runner.ts';
import pino from 'pino';
import { charge, dispute, event, paymentIntent, refund } from '../fakes/stripe-objects.ts';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe-server.ts';
import { serveApi } from '../helpers/api.ts';
import { generatedSource, type SourceDb } from '../helpers/source-db.ts';
import { stripeAccountFrom, type StripeAccount } from '../helpers/stripe-account.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * Stripe as a payment source, through the real `stripe` SDK against a local server that speaks its
 * list API. The KPIs must equal the same sums computed here straight from the fake's objects (and,
 * for the database payments Stripe does not have, from PostgreSQL), by code that shares nothing with
 * the mapping: one loop per metric over the objects as Stripe states them.
 */
const END = new Date('2026-09-15T00:00:00Z');
const NOW = END.getTime() / 1000 + 2 * 86_400;
const FROM = '2026-06-01T00:00:00Z';
const EXP: Record<string, number> = { usd: 2, jpy: 0 };

interface Expected {
  gross: Record<string, number>; refunds: Record<string, number>; ok: number; failed: number; paying: Set<string>; mrr: Record<string, number>;
  /** Subscriptions ended in the range, and active at its start (the churn rate's parts). */
  cancels: number; activeAtFrom: number;
}

describe('Stripe source', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let fake: FakeStripe;
  let acct: StripeAccount;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let ours: Map<string, string>;
  const key = generateApiKey('default', ['read']);
  const stripeCtx = (over: Partial<StripeSyncContext['config']> = {}): StripeSyncContext => ({
    config: { ...tw.config, STRIPE_RETRY_BASE_MS: 5, STRIPE_RETRY_MAX_MS: 20, ...over },
    warehouse: tw.warehouse, stripe: fake.client({ maxNetworkRetries: 0 }), now: () => new Date(fake.now() * 1000),
  });

  /** Every metric of [FROM, to) recomputed from the fake's objects and the database-only rows. */
  async function expected(to: number): Promise<Expected> {
    const s = fake.store;
    const e: Expected = { gross: {}, refunds: {}, ok: 0, failed: 0, paying: new Set(), mrr: {}, cancels: 0, activeAtFrom: 0 };
    const lo = Date.parse(FROM) / 1000;
    const add = (m: Record<string, number>, cur: string, minor: number) => { m[cur.toUpperCase()] = (m[cur.toUpperCase()] ?? 0) + minor / 10 ** EXP[cur]!; };
    const customerOf = (c: string | null) => (c ? ours.get(c) ?? c : null);
    const money = (chargeIds: string[], piId: string | null) => {
      const refunds = s.refunds.filter((r) => ((r.charge && chargeIds.includes(r.charge as string)) || (piId && r.payment_intent === piId)) && (r.status === 'succeeded' || r.status === 'pending'));
      const lost = s.disputes.filter((d) => chargeIds.includes(d.charge as string) && d.status === 'lost');
      return refunds.reduce((t, r) => t + r.amount, 0) + lost.reduce((t, d) => t + d.amount, 0);
    };
    for (const pi of s.payment_intents) {
      if (pi.id.startsWith('pi_bad')) continue; // rejected, below
      if (pi.created < lo || pi.created >= to) continue;
      if (pi.status === 'succeeded') {
        const charges = s.charges.filter((c) => c.payment_intent === pi.id).map((c) => c.id);
        add(e.gross, pi.currency, pi.amount_received);
        add(e.refunds, pi.currency, Math.min(pi.amount_received, money(charges, pi.id)));
        e.ok++;
        e.paying.add(customerOf(pi.customer as string)!);
      } else if (pi.status === 'requires_payment_method' && pi.last_payment_error) e.failed++;
    }
    for (const c of s.charges.filter((x) => x.payment_intent === null && x.created >= lo && x.created < to)) {
      add(e.gross, c.currency, c.amount);
      add(e.refunds, c.currency, Math.min(c.amount, money([c.id], null)));
      e.ok++;
      e.paying.add(customerOf(c.customer as string)!);
    }
    const { rows } = await db.pool.query<{ user_id: string; amount: string; status: string }>(`
      SELECT user_id::text, amount::text, status FROM payments WHERE stripe_payment_id = ANY($1) AND created_at >= $2 AND created_at < to_timestamp($3) AT TIME ZONE 'UTC'`,
      [acct.dbOnly, FROM.replace('Z', ''), to]);
    for (const r of rows) {
      if (r.status === 'completed' || r.status === 'refunded') {
        add(e.gross, 'usd', Math.round(Number(r.amount) * 100));
        if (r.status === 'refunded') add(e.refunds, 'usd', Math.round(Number(r.amount) * 100));
        e.ok++;
        e.paying.add(r.user_id);
      } else if (r.status === 'failed') e.failed++;
    }
    // MRR at `to`: each subscription's month rounded to the cent, as a month's price is stated.
    for (const sub of s.subscriptions) {
      const end = sub.status === 'canceled' ? sub.ended_at : null;
      if (end !== null && end >= lo && end < to) e.cancels++;
      if (['trialing', 'paused', 'incomplete', 'incomplete_expired'].includes(sub.status)) continue;
      const start = sub.trial_end && sub.trial_end > sub.start_date ? sub.trial_end : sub.start_date;
      if (start <= lo && (end === null || end > lo) && (end === null || end > start)) e.activeAtFrom++;
      if (start > to || (end !== null && end <= to) || (end !== null && end <= start)) continue;
      let month = 0;
      for (const item of sub.items.data) {
        const r = item.price.recurring!;
        const months = ({ day: 12 / 365, week: 12 / 52, month: 1, year: 12 } as Record<string, number>)[r.interval]! * r.interval_count;
        month += (item.price.unit_amount! * (item.quantity ?? 1)) / months;
      }
      const cur = sub.currency.toUpperCase();
      e.mrr[cur] = (e.mrr[cur] ?? 0) + Math.round((month / 10 ** EXP[sub.currency]!) * 100) / 100;
    }
    const { rows: dbSubs } = await db.pool.query<{ currency: string; mrr: string }>(`
      SELECT upper(p.currency) AS currency, sum(round(CASE WHEN lower(p.interval) IN ('year','yearly','annual') THEN p.price / 12 ELSE p.price END, 2))::text AS mrr
      FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id
      WHERE s.stripe_subscription_id = ANY($1) AND s.created_at <= to_timestamp($2) AT TIME ZONE 'UTC'
        AND (s.cancelled_at IS NULL OR s.cancelled_at > to_timestamp($2) AT TIME ZONE 'UTC') AND lower(s.status) NOT IN ('trialing', 'paused')
      GROUP BY 1`, [acct.dbOnlySubscriptions, to]);
    for (const r of dbSubs) e.mrr[r.currency] = (e.mrr[r.currency] ?? 0) + Number(r.mrr);
    const [churn] = (await db.pool.query<{ cancels: string; active: string }>(`
      SELECT count(*) FILTER (WHERE cancelled_at >= $2 AND cancelled_at < to_timestamp($3) AT TIME ZONE 'UTC')::text AS cancels,
        count(*) FILTER (WHERE created_at <= $2 AND (cancelled_at IS NULL OR cancelled_at > $2) AND lower(status) NOT IN ('trialing', 'paused')
          AND (cancelled_at IS NULL OR cancelled_at > created_at))::text AS active
      FROM subscriptions WHERE stripe_subscription_id = ANY($1)`, [acct.dbOnlySubscriptions, FROM.replace('Z', ''), to])).rows;
    e.cancels += Number(churn!.cancels);
    e.activeAtFrom += Number(churn!.active);
    return e;
  }

  async function expectKpis(to: number): Promise<void> {
    const e = await expected(to);
    const res = await http.get(`/v1/kpis/summary?from=${FROM}&to=${new Date(to * 1000).toISOString()}`, key.key);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { metrics: Record<string, unknown>; sources: { payments: { source: string }[]; subscriptions: { source: string }[] } };
    const m = body.metrics as { revenue_gross: { currency: string; amount: string }[]; refunds: { currency: string; amount: string }[];
      payment_success_rate: number; paying_customers: number; mrr: { currency: string; amount: string }[]; arr: { currency: string; amount: string }[];
      subscription_churn: number | null };
    const asMap = (xs: { currency: string; amount: string }[]) => Object.fromEntries(xs.map((x) => [x.currency, Number(x.amount)]));
    const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 100) / 100]));
    expect(asMap(m.revenue_gross)).toEqual(round(e.gross));
    expect(asMap(m.refunds)).toEqual(round(e.refunds));
    expect(m.payment_success_rate).toBeCloseTo(e.ok / (e.ok + e.failed), 12);
    expect(m.paying_customers).toBe(e.paying.size);
    expect(asMap(m.mrr)).toEqual(round(e.mrr));
    expect(asMap(m.arr)).toEqual(Object.fromEntries(Object.entries(round(e.mrr)).map(([c, v]) => [c, Math.round(v * 12 * 100) / 100])));
    expect(e.cancels).toBeGreaterThan(0);
    expect(m.subscription_churn).toBeCloseTo(e.cancels / e.activeAtFrom, 12);
    expect(body.sources.payments.map((x) => x.source)).toEqual(['stripe', 'postgres:pricing-platform']);
    expect(body.sources.subscriptions.map((x) => x.source)).toEqual(['stripe', 'postgres:pricing-platform']);
  }

  beforeAll(async () => {
    ({ db } = await generatedSource({ seed: 21, orders: 2500, products: 30, days: 100, end: END }));
    tw = await openTestWarehouse(db.pool, { API_KEYS: key.entry });
    expect((await ingestAll(tw.ctx)).rejected).toBe(0);
    acct = await stripeAccountFrom(db.pool, { seed: 7, now: NOW });
    // Two objects no payment can be made of: an unknown currency and an amount that is not a number.
    const bad = [paymentIntent({ id: 'pi_bad_currency', amount: 100, currency: 'zzz', created: NOW - 5000, customer: 'cus_x' }),
      { ...paymentIntent({ id: 'pi_bad_amount', created: NOW - 5000, customer: 'cus_x' }), amount: 'lots' } as unknown as Stripe.PaymentIntent];
    fake = await startFakeStripe({ now: NOW, store: { ...acct, payment_intents: [...acct.payment_intents, ...bad] } });
    ours = new Map((await db.pool.query<{ c: string; id: string }>(`SELECT stripe_customer_id AS c, id::text FROM users`)).rows.map((r) => [r.c, r.id]));
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await fake?.close();
    await tw?.close();
    await db?.drop();
  });

  it('a first sync reads every object; the KPIs equal the sums over the fake\'s objects', async () => {
    const r = await syncStripe(stripeCtx());
    expect(r.read.payment_intents).toBe(acct.payment_intents.length + 2);
    expect(r.read.subscriptions).toBe(acct.subscriptions.length); // status=all: cancelled ones too
    await refreshRollups(tw.warehouse);
    await expectKpis(NOW);
    // Counted once: every mirrored database payment and its Stripe twin are both kept, Stripe's counts.
    const twin = acct.payment_intents.find((p) => p.status === 'succeeded' && !p.id.startsWith('pi_new'))!;
    const [pair] = await tw.warehouse.query<{ db: string; stripe: string }>(`
      SELECT count(*) FILTER (WHERE source = 'db') AS db, count(*) FILTER (WHERE source = 'stripe') AS stripe FROM payments WHERE payment_id = $id OR external_id = $id`, { id: twin.id });
    expect(pair).toEqual({ db: '1', stripe: '1' });
  });

  it('JPY amounts are whole yen; a Stripe payment takes our customer and product from the database row it matches', async () => {
    const jpy = await tw.warehouse.query<{ amount: string }>(`SELECT amount::VARCHAR AS amount FROM payments WHERE payment_id = 'pi_new0'`);
    expect(jpy[0]!.amount).toBe(`${acct.payment_intents.find((p) => p.id === 'pi_new0')!.amount}.00`);
    const first = acct.payment_intents.find((p) => p.status === 'succeeded' && !acct.dbOnly.includes(p.id))!;
    const [twin] = await db.pool.query<{ user_id: string; product_id: string }>(`SELECT user_id::text, product_id::text FROM payments WHERE stripe_payment_id = $1`, [first.id]).then((x) => x.rows);
    const [row] = await tw.warehouse.query(`SELECT customer_id, product_id FROM payments WHERE payment_id = $id`, { id: first.id });
    expect(row).toEqual({ customer_id: twin!.user_id, product_id: twin!.product_id });
  });

  it('objects no payment can be made of are rejected with their reason', async () => {
    const rows = await tw.warehouse.query<{ key: string; reason: string }>(`SELECT key, reason FROM rejected_rows WHERE source = 'stripe:default' ORDER BY key`);
    expect(rows.map((r) => r.key)).toEqual(['default|pi_bad_amount', 'default|pi_bad_currency']);
    expect(rows[0]!.reason).toMatch(/invalid Stripe payment_intent: amount/);
    expect(rows[1]!.reason).toMatch(/unknown currency/);
  });

  it('429s without Stripe-Should-Retry are retried by us with backoff; an outage keeps the watermarks and the next run resumes', async () => {
    fake.failNext(3, 429, { pathPrefix: '/v1/payment_intents' });
    const ok = await syncStripe(stripeCtx());
    expect(ok.retries).toBe(3);
    expect(fake.requests.filter((q) => q.status === 429)).toHaveLength(3);

    const state = () => tw.warehouse.query(`SELECT source, entity, watermark_ts::VARCHAR AS wm FROM ingest_state WHERE source LIKE 'stripe:%' ORDER BY 1, 2`);
    const before = await state();
    fake.setNow(NOW + 3600);
    fake.store.payment_intents.push(paymentIntent({ id: 'pi_during_outage', amount: 700, currency: 'usd', created: NOW + 1000, customer: 'cus_x' }));
    // Three attempts (two retries), each failing: the run gives up.
    fake.failNext(3, 500, { pathPrefix: '/v1/refunds' });
    await expect(syncStripe(stripeCtx({ STRIPE_RETRIES: 2 }))).rejects.toThrow(/something went wrong/);
    expect(await state()).toEqual(before);
    expect(await tw.warehouse.query(`SELECT 1 FROM stripe_objects WHERE id = 'pi_during_outage'`)).toHaveLength(0);
    const resumed = await syncStripe(stripeCtx());
    expect(resumed.payments?.rowsOut).toBeGreaterThanOrEqual(1);
    expect(await tw.warehouse.query(`SELECT 1 FROM payments WHERE payment_id = 'pi_during_outage'`)).toHaveLength(1);
  });

  it('later changes of old objects arrive through events: a refund, a lost dispute, a cancellation; the database catching up counts once', async () => {
    const t = NOW + 86_400;
    fake.setNow(t);
    const s = fake.store;
    const old = s.payment_intents.filter((p) => p.status === 'succeeded' && p.created < NOW - 30 * 86_400 && !s.refunds.some((r) => r.payment_intent === p.id));
    // A partial refund of an old payment: the refund is new (the refunds list has it), the charge's change only an event.
    const [a, b] = [old[0]!, old[1]!];
    const chA = s.charges.find((c) => c.payment_intent === a.id)!;
    const re = refund({ id: 're_late', amount: Math.round(a.amount * 0.4), currency: 'usd', created: t - 500, charge: chA.id, payment_intent: a.id, status: 'succeeded' });
    s.refunds.push(re);
    const chA2 = charge({ ...chA, amount_refunded: re.amount });
    s.charges[s.charges.indexOf(chA)] = chA2;
    s.events.push(event({ type: 'charge.refunded', created: t - 500, object: chA2 }), event({ type: 'refund.created', created: t - 500, object: re }));
    // A dispute lost on another: disputes are read from events only.
    const chB = s.charges.find((c) => c.payment_intent === b.id)!;
    const dp = dispute({ id: 'du_lost', amount: b.amount, currency: 'usd', created: t - 400, charge: chB.id, payment_intent: b.id, status: 'lost' });
    s.disputes.push(dp);
    s.events.push(event({ type: 'charge.dispute.closed', created: t - 300, object: dp }));
    // An old subscription cancelled: only the event tells.
    const sub = s.subscriptions.find((x) => x.status === 'active' && x.created < NOW - 30 * 86_400)!;
    const cancelled = { ...sub, status: 'canceled' as const, canceled_at: t - 200, ended_at: t - 200 };
    s.subscriptions[s.subscriptions.indexOf(sub)] = cancelled;
    s.events.push(event({ type: 'customer.subscription.deleted', created: t - 200, object: cancelled }));
    // The database catches up with a payment only Stripe had: it must not count twice.
    const late = s.payment_intents.find((p) => p.id === 'pi_new1')!;
    const [u] = (await db.pool.query<{ id: string; product_id: string }>(`SELECT u.id::text, (SELECT id::text FROM products ORDER BY id LIMIT 1) AS product_id FROM users u WHERE u.stripe_customer_id = $1`, [late.customer])).rows;
    await db.pool.query(`INSERT INTO payments (user_id, product_id, amount, currency, stripe_payment_id, status, created_at, completed_at)
      VALUES ($1, $2, $3, 'USD', $4, 'completed', to_timestamp($5) AT TIME ZONE 'UTC', to_timestamp($5) AT TIME ZONE 'UTC')`,
      [u!.id, u!.product_id, (late.amount / 100).toFixed(2), late.id, late.created]);

    await ingestAll(tw.ctx);
    const r = await syncStripe(stripeCtx());
    expect(r.read.events).toBeGreaterThanOrEqual(4);
    await refreshRollups(tw.warehouse);
    await expectKpis(t);
    const [linked] = await tw.warehouse.query(`SELECT product_id FROM payments WHERE payment_id = 'pi_new1'`);
    expect(linked).toEqual({ product_id: u!.product_id });

    // The deltas folded in agree with a rebuild from the facts; the nightly reconciliation leaves Stripe's rows alone.
    await reconcileAll(tw.ctx);
    await refreshRollups(tw.warehouse, { full: true });
    await expectKpis(t);
  });

  it('an events watermark past Stripe\'s 30 days turns the next sync into a full re-read', async () => {
    fake.setNow(NOW + 40 * 86_400);
    const r = await syncStripe(stripeCtx());
    expect(r.mode).toBe('full');
    expect(r.read.payment_intents).toBe(fake.store.payment_intents.length);
  });

  it('a crash while loading the derived payments leaves them as they were; the queue survives and the next run completes', async () => {
    fake.store.payment_intents.push(paymentIntent({ id: 'pi_crash', amount: 1234, currency: 'usd', created: fake.now() - 60, customer: 'cus_x' }));
    const payments = () => tw.warehouse.query(`SELECT count(*) AS n, sum(amount)::VARCHAR AS s FROM payments`);
    const before = await payments();
    const crash = { beforeCommit: (entity: string) => { if (entity === 'payments') throw new Error('injected crash'); } };
    await expect(syncStripe(stripeCtx(), { hooks: crash })).rejects.toThrow('injected crash');
    expect(await payments()).toEqual(before);
    expect(await tw.warehouse.query(`SELECT type FROM stripe_pending WHERE id = 'pi_crash'`)).toEqual([{ type: 'payment' }]);
    await syncStripe(stripeCtx());
    expect(await tw.warehouse.query(`SELECT amount::VARCHAR AS amount FROM payments WHERE payment_id = 'pi_crash'`)).toEqual([{ amount: '12.34' }]);
    expect(await tw.warehouse.query(`SELECT count(*) AS n FROM stripe_pending`)).toEqual([{ n: '0' }]);
  });

  it('the stripe job records a failed run with its error, and the next run completes', async () => {
    const config = { ...tw.config, STRIPE_API_KEY: fake.apiKey, STRIPE_API_BASE: fake.url, STRIPE_RETRIES: 1, STRIPE_RETRY_BASE_MS: 5, STRIPE_RETRY_MAX_MS: 10 };
    const runner = new JobRunner(tw.warehouse, defineJobs({ ...tw.ctx, config }), { retries: 0, retryBaseMs: 10, logger: pino({ level: 'silent' }) });
    // A 429 without Stripe-Should-Retry: the SDK (2 network retries) gives it straight back; ours retry once more.
    fake.failNext(2, 429, { pathPrefix: '/v1/charges' });
    await expect(runner.run('stripe')).rejects.toThrow(/Too many requests/);
    await runner.run('stripe');
    const runs = await tw.warehouse.query<{ status: string; error: string | null }>(`SELECT status, error FROM job_runs WHERE job = 'stripe' ORDER BY id`);
    expect(runs).toEqual([{ status: 'failed', error: expect.stringMatching(/Too many requests/) }, { status: 'succeeded', error: null }]);
  });
});
