import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromMinorUnits, minorUnitExponent, scaledToCents } from '../../src/ingest/stripe/currency.ts';
import { mapPaymentIntent, mapSubscription, monthlyAmount, paymentIntentSchema, subscriptionSchema, type Subscription } from '../../src/ingest/stripe/map.ts';
import { keyOf } from '../../src/ingest/stripe/sync.ts';

const SEEN = '2026-01-01 00:00:00';

const sub = (items: { unit: number | null; interval: 'day' | 'week' | 'month' | 'year'; count?: number; qty?: number }[], extra: Partial<Subscription> = {}, currency = 'usd'): Subscription =>
  subscriptionSchema.parse({
    id: 'sub_1', object: 'subscription', customer: 'cus_1', currency, created: 1_700_000_000, status: 'active', start_date: 1_700_000_000,
    items: { data: items.map((x, i) => ({ id: `si_${i}`, quantity: x.qty ?? 1, current_period_end: 1_702_592_000,
      price: { id: `price_${i}`, currency, unit_amount: x.unit, nickname: null, product: 'prod_1', recurring: { interval: x.interval, interval_count: x.count ?? 1 } } })) },
    ...extra,
  });

describe('Stripe amounts', () => {
  it('uses Stripe\'s exponents: zero-decimal JPY/KRW/UGX, three-decimal KWD, two-decimal ISK and HUF', () => {
    expect(['JPY', 'krw', 'UGX', 'XOF'].map(minorUnitExponent)).toEqual([0, 0, 0, 0]);
    expect(['KWD', 'bhd', 'TND'].map(minorUnitExponent)).toEqual([3, 3, 3]);
    expect(['USD', 'ISK', 'HUF', 'TWD', 'THB'].map(minorUnitExponent)).toEqual([2, 2, 2, 2, 2]);
    expect(fromMinorUnits(1999, 'usd')).toBe('19.99');
    expect(fromMinorUnits(5, 'usd')).toBe('0.05');
    expect(fromMinorUnits(500, 'jpy')).toBe('500');
    expect(fromMinorUnits(5120, 'kwd')).toBe('5.120');
    expect(fromMinorUnits(-250, 'eur')).toBe('-2.50');
  });

  it('reads every integer amount exactly (checked against division in floating point)', () => {
    fc.assert(fc.property(fc.integer({ min: -1e9, max: 1e9 }), fc.constantFrom('usd', 'jpy', 'kwd', 'isk'), (n, cur) => {
      expect(Number(fromMinorUnits(n, cur))).toBeCloseTo(n / 10 ** minorUnitExponent(cur), 6);
    }));
  });

  it('rounds a scaled amount half away from zero to cents', () => {
    expect(scaledToCents(10_000n, 1n, 12n, 'jpy')).toBe('833.33');
    expect(scaledToCents(1n, 1n, 2n, 'jpy')).toBe('0.50');
    expect(scaledToCents(1n, 1n, 2n, 'usd')).toBe('0.01'); // half a cent
    expect(scaledToCents(-1n, 1n, 2n, 'usd')).toBe('-0.01');
    expect(scaledToCents(1n, 1n, 3n, 'usd')).toBe('0.00');
  });
});

describe('monthly amounts', () => {
  it('counts yearly plans as a twelfth, quarterly (3 months) as a third, weekly as 52/12', () => {
    expect(monthlyAmount(sub([{ unit: 120_000, interval: 'year' }]))).toBe('100.00');
    expect(monthlyAmount(sub([{ unit: 3_000, interval: 'month', count: 3 }]))).toBe('10.00');
    expect(monthlyAmount(sub([{ unit: 1_000, interval: 'week' }]))).toBe('43.33');
    expect(monthlyAmount(sub([{ unit: 10_000, interval: 'year' }], {}, 'jpy'))).toBe('833.33');
    expect(monthlyAmount(sub([{ unit: 500, interval: 'month', qty: 3 }, { unit: 1_200, interval: 'year' }]))).toBe('16.00');
    expect(monthlyAmount(sub([{ unit: null, interval: 'month' }]))).toBeNull();
  });

  it('agrees with the same sum in floating point, to the cent', () => {
    const item = fc.record({ unit: fc.integer({ min: 0, max: 1e7 }), interval: fc.constantFrom('day', 'week', 'month', 'year' as const), count: fc.integer({ min: 1, max: 12 }), qty: fc.integer({ min: 1, max: 5 }) });
    fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 3 }), (items) => {
      const perMonth = { day: 365 / 12, week: 52 / 12, month: 1, year: 1 / 12 };
      const expected = items.reduce((s, x) => s + (x.unit * x.qty * perMonth[x.interval]) / x.count, 0) / 100;
      expect(Math.abs(Number(monthlyAmount(sub(items))) - expected)).toBeLessThanOrEqual(0.005 + 1e-9);
    }));
  });
});

describe('mapping', () => {
  const pi = (over: Record<string, unknown>) => paymentIntentSchema.parse({
    id: 'pi_1', object: 'payment_intent', amount: 5000, amount_received: 5000, currency: 'jpy', created: 1_700_000_000, status: 'succeeded',
    customer: 'cus_9', latest_charge: 'ch_1', last_payment_error: null, metadata: {}, ...over,
  });
  const charge = (over: Record<string, unknown> = {}) => ({ id: 'ch_1', object: 'charge' as const, amount: 5000, amount_refunded: 0, currency: 'jpy', created: 1_700_000_010,
    status: 'succeeded', customer: 'cus_9', payment_intent: 'pi_1', metadata: {}, ...over });

  it('maps a JPY payment with a partial refund and a lost dispute, linking our customer and product', () => {
    const row = mapPaymentIntent(pi({}), {
      charges: [charge({ amount_refunded: 1000 })],
      refunds: [{ id: 're_1', object: 'refund', amount: 1000, currency: 'jpy', created: 1_700_000_100, status: 'succeeded', charge: 'ch_1', payment_intent: 'pi_1' }],
      disputes: [{ id: 'dp_1', object: 'dispute', amount: 2500, currency: 'jpy', created: 1_700_000_200, status: 'lost', charge: 'ch_1', payment_intent: 'pi_1' }],
    }, { customerId: 'u-9', db: { customer_id: 'u-9', product_id: 'p-3', order_id: null } }, SEEN)!;
    expect(row).toMatchObject({ payment_id: 'pi_1', external_id: 'ch_1', customer_id: 'u-9', product_id: 'p-3', amount: '5000', currency: 'JPY',
      status: 'succeeded', refunded_amount: '3500', created_at: '2023-11-14 22:13:20', completed_at: '2023-11-14 22:13:30' });
  });

  it('is refunded when all of it went back, failed after a failed charge, and not a payment when cancelled untried', () => {
    expect(mapPaymentIntent(pi({}), { charges: [charge({ amount_refunded: 5000 })], refunds: [], disputes: [] }, {}, SEEN)?.status).toBe('refunded');
    expect(mapPaymentIntent(pi({ status: 'requires_payment_method', last_payment_error: { code: 'card_declined' }, amount_received: 0 }),
      { charges: [], refunds: [], disputes: [] }, {}, SEEN)).toMatchObject({ status: 'failed', amount: '5000', refunded_amount: '0', completed_at: null });
    expect(mapPaymentIntent(pi({ status: 'canceled', amount_received: 0 }), { charges: [], refunds: [], disputes: [] }, {}, SEEN)).toBeNull();
    expect(mapPaymentIntent(pi({ status: 'processing' }), { charges: [], refunds: [], disputes: [] }, {}, SEEN)?.status).toBe('pending');
    // An unknown status goes through as it is, so the loader rejects the row naming it.
    expect(mapPaymentIntent(pi({ status: 'teleported' }), { charges: [], refunds: [], disputes: [] }, {}, SEEN)?.status).toBe('teleported');
  });

  it('keeps the Stripe customer id when the customer is not ours', () => {
    expect(mapPaymentIntent(pi({}), { charges: [], refunds: [], disputes: [] }, {}, SEEN)?.customer_id).toBe('cus_9');
  });

  it('starts a subscription at its trial end and ends it when it ended, not when cancellation was asked', () => {
    const s = sub([{ unit: 120_000, interval: 'year' }], { status: 'canceled', trial_end: 1_700_500_000, canceled_at: 1_701_000_000, ended_at: 1_702_000_000 });
    expect(mapSubscription(s, { customerId: 'u-1' }, SEEN)).toMatchObject({
      subscription_id: 'sub_1', customer_id: 'u-1', status: 'cancelled', monthly_amount: '100.00', currency: 'USD',
      started_at: '2023-11-20 17:06:40', cancelled_at: '2023-12-08 01:46:40', current_period_end: '2023-12-14 22:13:20', source: 'stripe',
    });
    const expired = mapSubscription(sub([{ unit: 100, interval: 'month' }], { status: 'incomplete_expired', ended_at: 1_700_100_000 }), {}, SEEN);
    expect(expired).toMatchObject({ status: 'incomplete', cancelled_at: null, customer_id: 'cus_1' });
  });

  it('files each object under the canonical row it feeds', () => {
    expect(keyOf({ object: 'charge', id: 'ch_1', payment_intent: 'pi_1' })).toEqual({ parent: 'pi_1', key_type: 'payment' });
    expect(keyOf({ object: 'charge', id: 'ch_2', payment_intent: null })).toEqual({ parent: 'ch_2', key_type: 'payment' });
    expect(keyOf({ object: 'refund', id: 're_1', payment_intent: null, charge: { id: 'ch_2' } })).toEqual({ parent: 'ch_2', key_type: 'payment' });
    expect(keyOf({ object: 'invoice', id: 'in_1' })).toEqual({ parent: null, key_type: null });
  });
});
