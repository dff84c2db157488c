import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { charge, customer, event, invoice, paymentIntent, refund, stripeId, subscription } from '../fakes/stripe-objects.ts';
import { parseQuery, startFakeStripe, type FakeStripe } from '../fakes/stripe-server.ts';

/**
 * The fake Stripe server, exercised only through the real SDK: if these pass, code that lists
 * through `stripe.<resource>.list()` sees what it would see from Stripe.
 */

const NOW = 1_780_000_000; // 2026-05-28
const HOUR = 3600;
const DAY = 86_400;

// 250 payment intents, one every 3 hours going back from NOW, pairs sharing a `created` so the
// id tie-break is exercised; statuses cycle.
const STATUSES = ['succeeded', 'processing', 'requires_payment_method', 'requires_action', 'requires_confirmation', 'requires_capture', 'canceled'] as const;
const PIS = Array.from({ length: 250 }, (_, i) => paymentIntent({
  id: stripeId('pi', i + 1),
  amount: 500 + i * 7,
  created: NOW - Math.floor(i / 2) * 3 * HOUR,
  customer: stripeId('cus', (i % 5) + 1),
  status: STATUSES[i % STATUSES.length],
}));
/** The order Stripe lists in: created DESC, then id DESC. */
const newestFirst = <T extends { id: string; created: number }>(xs: T[]): T[] =>
  [...xs].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));

const SUB_STATUSES = ['active', 'trialing', 'past_due', 'canceled', 'unpaid', 'incomplete', 'incomplete_expired', 'paused'] as const;

let fake: FakeStripe;
let stripe: Stripe;

beforeAll(async () => {
  fake = await startFakeStripe({
    now: NOW,
    store: {
      payment_intents: PIS,
      subscriptions: SUB_STATUSES.map((status, i) => subscription({
        id: stripeId('sub', i + 1), status, customer: stripeId('cus', 1), created: NOW - (i + 1) * DAY,
        items: [{ price: { unit_amount: 1500, recurring: { interval: 'month', interval_count: 1 } }, quantity: 2 }],
      })),
      events: [
        event({ id: stripeId('evt', 1), type: 'charge.succeeded', created: NOW - 1 * DAY, object: charge({ id: stripeId('ch', 1) }) }),
        event({ id: stripeId('evt', 2), type: 'charge.refunded', created: NOW - 2 * DAY, object: charge({ id: stripeId('ch', 2), amount_refunded: 2000 }) }),
        event({ id: stripeId('evt', 3), type: 'payment_intent.succeeded', created: NOW - 3 * DAY, object: paymentIntent({ id: stripeId('pi', 9001) }) }),
        event({ id: stripeId('evt', 4), type: 'charge.succeeded', created: NOW - 10 * DAY, object: charge({ id: stripeId('ch', 4) }) }),
        event({ id: stripeId('evt', 5), type: 'charge.dispute.created', created: NOW - 29 * DAY, object: charge({ id: stripeId('ch', 5) }) }),
        event({ id: stripeId('evt', 6), type: 'charge.succeeded', created: NOW - 31 * DAY, object: charge({ id: stripeId('ch', 6) }) }),
      ],
    },
  });
  stripe = fake.client();
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.requests.length = 0;
});

describe('fake Stripe: wire format', () => {
  it('parses the SDK\'s bracketed query (and the types[] form other clients send)', () => {
    expect(parseQuery('types[0]=charge.succeeded&types[1]=invoice.%2A&created[gt]=5&created[lte]=9&limit=100&expand[0]=data.customer'))
      .toEqual({ types: ['charge.succeeded', 'invoice.*'], created: { gt: '5', lte: '9' }, limit: '100', expand: ['data.customer'] });
    expect(parseQuery('types[]=a&types[]=b&customer=cus_%201%26x')).toEqual({ types: ['a', 'b'], customer: 'cus_ 1&x' });
  });

  it('answers with Request-Id, JSON and the Stripe-Version it was sent', async () => {
    const res = await fetch(`${fake.url}/v1/payment_intents?limit=1`, { headers: { Authorization: `Bearer ${fake.apiKey}`, 'Stripe-Version': '2026-10-28.endive' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('stripe-version')).toBe('2026-10-28.endive');
    expect(await res.json()).toMatchObject({ object: 'list', has_more: true, url: '/v1/payment_intents', data: [{ id: newestFirst(PIS)[0]!.id }] });
  });
});

describe('fake Stripe: lists through the real SDK', () => {
  it('auto-paginates all 250 payment intents exactly once, newest first, in 3 requests', async () => {
    const ids: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 100 })) ids.push(pi.id);

    const expected = newestFirst(PIS).map((p) => p.id);
    expect(ids).toEqual(expected);
    expect(new Set(ids).size).toBe(250);
    expect(fake.requests.map((r) => [r.path, r.status])).toEqual([['/v1/payment_intents', 200], ['/v1/payment_intents', 200], ['/v1/payment_intents', 200]]);
    expect(fake.requests[0]!.query).toEqual({ limit: '100' });
    expect(fake.requests[1]!.query).toEqual({ limit: '100', starting_after: expected[99] });
    expect(fake.requests[2]!.query).toEqual({ limit: '100', starting_after: expected[199] });
  });

  it('returns the objects as stored (the SDK parses what the fake serialises)', async () => {
    const page = await stripe.paymentIntents.list({ limit: 3 });
    expect(page.data).toEqual(newestFirst(PIS).slice(0, 3));
    expect(page.has_more).toBe(true);
    const one = await stripe.paymentIntents.retrieve(stripeId('pi', 7));
    expect(one).toEqual(PIS[6]);
    expect(one.lastResponse.requestId).toMatch(/^req_/);
  });

  it('filters by created {gte, lt} exactly as a filter over the store, and by customer', async () => {
    const gte = NOW - 100 * 3 * HOUR;
    const lt = NOW - 20 * 3 * HOUR;
    const got: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 100, created: { gte, lt } })) got.push(pi.id);
    expect(got).toEqual(newestFirst(PIS.filter((p) => p.created >= gte && p.created < lt)).map((p) => p.id));
    expect(got.length).toBe(160);
    expect(fake.requests[0]!.query).toEqual({ limit: '100', created: { gte: String(gte), lt: String(lt) } });

    const exact = await stripe.paymentIntents.list({ created: NOW - 3 * HOUR });
    expect(exact.data.map((p) => p.id)).toEqual([stripeId('pi', 4), stripeId('pi', 3)]);

    const cus = await stripe.paymentIntents.list({ customer: stripeId('cus', 2), limit: 100 });
    expect(cus.data.map((p) => p.id)).toEqual(newestFirst(PIS.filter((p) => p.customer === stripeId('cus', 2))).map((p) => p.id));
  });

  it('resumes after a starting_after given as the first request\'s param, and pages back with ending_before', async () => {
    const expected = newestFirst(PIS).map((p) => p.id);
    const rest: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 100, starting_after: expected[41] })) rest.push(pi.id);
    expect(rest).toEqual(expected.slice(42));
    expect(fake.requests).toHaveLength(3); // 208 left: 100 + 100 + 8

    const before = await stripe.paymentIntents.list({ limit: 5, ending_before: expected[41] });
    expect(before.data.map((p) => p.id)).toEqual(expected.slice(36, 41)); // the 5 just newer, still newest first
    expect(before.has_more).toBe(true);
  });

  it('rejects an unknown cursor as Stripe does', async () => {
    const err = await stripe.paymentIntents.list({ starting_after: 'pi_nope' }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'starting_after', message: "No such payment_intent: 'pi_nope'" });
  });

  it('hides canceled subscriptions unless status is given; all returns every status', async () => {
    const byDefault: Stripe.Subscription[] = [];
    for await (const s of stripe.subscriptions.list()) byDefault.push(s);
    expect(byDefault.map((s) => s.status).sort()).toEqual(SUB_STATUSES.filter((s) => s !== 'canceled').sort());

    const all = await stripe.subscriptions.list({ status: 'all', limit: 100 });
    expect(all.data.map((s) => s.status).sort()).toEqual([...SUB_STATUSES].sort());
    expect(all.data.map((s) => s.id)).toEqual(newestFirst(fake.store.subscriptions).map((s) => s.id));

    expect((await stripe.subscriptions.list({ status: 'canceled' })).data.map((s) => s.status)).toEqual(['canceled']);
    expect((await stripe.subscriptions.list({ status: 'ended' })).data.map((s) => s.status).sort()).toEqual(['canceled', 'incomplete_expired']);

    // API 2026: the period lives on the items; the price's decimal comes back as the SDK's Decimal.
    const item = all.data[0]!.items.data[0]!;
    expect(item.current_period_end - item.current_period_start).toBe(30 * DAY);
    expect(item.price.unit_amount_decimal?.toString()).toBe('1500');
    expect(item.quantity).toBe(2);
  });

  it('filters events by types and created, and forgets events older than 30 days', async () => {
    const got = await stripe.events.list({ types: ['charge.succeeded', 'charge.refunded'], created: { gt: NOW - 5 * DAY } });
    expect(got.data.map((e) => e.id)).toEqual([stripeId('evt', 1), stripeId('evt', 2)]);
    expect(fake.requests[0]!.query).toEqual({ types: ['charge.succeeded', 'charge.refunded'], created: { gt: String(NOW - 5 * DAY) } });

    const every: string[] = [];
    for await (const e of stripe.events.list({ limit: 2 })) every.push(e.id);
    expect(every).toEqual([1, 2, 3, 4, 5].map((n) => stripeId('evt', n))); // evt 6 is 31 days old

    const wildcard = await stripe.events.list({ type: 'charge.*' });
    expect(wildcard.data.map((e) => e.type)).toEqual(['charge.succeeded', 'charge.refunded', 'charge.succeeded', 'charge.dispute.created']);

    await expect(stripe.events.retrieve(stripeId('evt', 6))).rejects.toMatchObject({ statusCode: 404, code: 'resource_missing' });

    // The window moves with the fake's clock.
    fake.setNow(NOW + 2 * DAY);
    try {
      expect((await stripe.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual([1, 2, 3, 4].map((n) => stripeId('evt', n)));
    } finally {
      fake.setNow(NOW);
    }
  });

  it('sends includable fields only when expanded, and finds an invoice\'s subscription in parent', async () => {
    const inv = invoice({ id: stripeId('in', 1), customer: stripeId('cus', 1), subscription: stripeId('sub', 1), payment_intent: stripeId('pi', 1), created: NOW - DAY });
    const other = invoice({ id: stripeId('in', 2), customer: stripeId('cus', 2), created: NOW - 2 * DAY, status: 'open' });
    const ch = charge({ id: stripeId('ch', 1), payment_intent: stripeId('pi', 1), amount_refunded: 500, created: NOW - DAY,
      refunds: { object: 'list', data: [refund({ id: stripeId('re', 1), charge: stripeId('ch', 1), amount: 500 })], has_more: false, url: `/v1/refunds?charge=${stripeId('ch', 1)}` } });
    fake.store.invoices = [inv, other];
    fake.store.charges = [ch];
    fake.store.customers = [customer({ id: stripeId('cus', 1), email: 'a@example.com', created: NOW - 90 * DAY })];

    const plain = await stripe.invoices.retrieve(inv.id);
    expect(plain.payments).toBeUndefined();
    expect(plain.parent?.subscription_details?.subscription).toBe(stripeId('sub', 1));
    const expanded = await stripe.invoices.retrieve(inv.id, { expand: ['payments', 'customer'] });
    expect(expanded.payments?.data[0]?.payment.payment_intent).toBe(stripeId('pi', 1));
    expect(expanded.customer).toMatchObject({ object: 'customer', email: 'a@example.com' });

    const bySub = await stripe.invoices.list({ subscription: stripeId('sub', 1), expand: ['data.payments'] });
    expect(bySub.data.map((i) => i.id)).toEqual([inv.id]);
    expect(bySub.data[0]!.payments?.data).toHaveLength(1);
    expect((await stripe.invoices.list({ status: 'open' })).data.map((i) => i.id)).toEqual([other.id]);

    expect((await stripe.charges.list({ payment_intent: stripeId('pi', 1) })).data[0]!.refunds).toBeUndefined();
    expect((await stripe.charges.retrieve(ch.id, { expand: ['refunds'] })).refunds?.data[0]?.amount).toBe(500);

    await expect(stripe.invoices.list({ expand: ['payments'] })).rejects.toMatchObject({ param: 'expand' });
  });
});

describe('fake Stripe: errors and retries as the SDK meets them', () => {
  it('a 429 without Stripe-Should-Retry is not retried by the SDK; a 500 is', async () => {
    const retrying = fake.client({ maxNetworkRetries: 2 });

    fake.failNext(1, 429);
    const err = await retrying.paymentIntents.list({ limit: 1 }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect(err).toMatchObject({ statusCode: 429, rawType: 'rate_limit_error', message: 'Too many requests' });
    expect((err as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
    expect(fake.requests.map((r) => r.status)).toEqual([429]);

    fake.requests.length = 0;
    fake.failNext(1, 500, { pathPrefix: '/v1/payment_intents' });
    const page = await retrying.paymentIntents.list({ limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(fake.requests.map((r) => r.status)).toEqual([500, 200]);
  });

  it('honours Stripe-Should-Retry both ways, and failNext only hits its path prefix', async () => {
    const retrying = fake.client({ maxNetworkRetries: 2 });

    fake.failNext(1, 429, { shouldRetry: true, retryAfter: 1 });
    await retrying.events.list({ limit: 1 });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 200]);

    fake.requests.length = 0;
    fake.failNext(1, 503, { shouldRetry: false });
    await expect(retrying.events.list({ limit: 1 })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(fake.requests.map((r) => r.status)).toEqual([503]);

    fake.requests.length = 0;
    fake.failNext(1, 500, { pathPrefix: '/v1/charges' });
    await stripe.events.list({ limit: 1 });
    await expect(stripe.charges.list()).rejects.toMatchObject({ statusCode: 500 });
    expect(fake.requests.map((r) => `${r.status} ${r.path}`)).toEqual(['200 /v1/events', '500 /v1/charges']);
  });

  it('rejects a wrong key, a bad limit, an unknown parameter and a missing object as Stripe does', async () => {
    const wrong = new Stripe('sk_test_wrong_key_000000000000', { host: fake.host, port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
    const auth = await wrong.paymentIntents.list().then(() => null, (e: unknown) => e);
    expect(auth).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((auth as Error).message).toMatch(/^Invalid API Key provided: sk_test_\**0000$/);

    for (const limit of [0, 101]) {
      const bad = await stripe.paymentIntents.list({ limit }).then(() => null, (e: unknown) => e);
      expect(bad).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(bad).toMatchObject({ statusCode: 400, param: 'limit' });
    }

    const unknown = await stripe.refunds.list({ customer: 'cus_1' } as Stripe.RefundListParams).then(() => null, (e: unknown) => e);
    expect(unknown).toMatchObject({ type: 'StripeInvalidRequestError', param: 'customer', code: 'parameter_unknown' });

    const badInt = await stripe.charges.list({ created: { gte: 'yesterday' as unknown as number } }).then(() => null, (e: unknown) => e);
    expect(badInt).toMatchObject({ type: 'StripeInvalidRequestError', param: 'created[gte]' });

    const missing = await stripe.subscriptions.retrieve('sub_missing').then(() => null, (e: unknown) => e);
    expect(missing).toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing' });

    const res = await fetch(`${fake.url}/v1/payouts`, { headers: { Authorization: `Bearer ${fake.apiKey}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });

    expect(fake.requests.map((r) => r.status)).toEqual([401, 400, 400, 400, 400, 404, 404]);
  });
});
