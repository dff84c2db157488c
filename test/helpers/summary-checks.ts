import { expect } from 'vitest';

/** A summary's money, order and customer figures as SQL on a source computed them (numerics as text). */
export interface SourceSummary {
  pay: { gross: string; refunds: string; net: string; ok: string; failed: string; payers: string };
  ord: { n: string; value: string; aov: string };
  fresh: { n: string };
}

/** The summary metrics every profile's payments and orders feed equal the source's, to the cent. */
export function expectSummaryMatches(m: Record<string, unknown>, { pay, ord, fresh }: SourceSummary, currency: string): void {
  expect(m.revenue_gross).toEqual([{ currency, amount: pay.gross }]);
  expect(m.refunds).toEqual([{ currency, amount: pay.refunds }]);
  expect(m.revenue_net).toEqual([{ currency, amount: pay.net }]);
  expect(m.orders).toBe(Number(ord.n));
  expect(m.order_value).toEqual([{ currency, amount: ord.value }]);
  expect(m.aov).toEqual([{ currency, amount: ord.aov }]);
  expect(m.paying_customers).toBe(Number(pay.payers));
  expect(m.new_customers).toBe(Number(fresh.n));
  expect(m.payment_success_rate).toBeCloseTo(Number(pay.ok) / (Number(pay.ok) + Number(pay.failed)), 12);
}
