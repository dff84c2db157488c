import type { Warehouse } from '../../warehouse/warehouse.ts';
import { db, type KpiRange, num, rangeParams } from './common.ts';
import { normaliseAmount, subtractAmounts } from './money.ts';
import { STILL_COUNTS } from './summing.ts';

/** One (country, currency) pair of the paying customers' revenue. */
export interface CountryRow {
  /** customers.country of the paying customer as it is now; null when the payment has no customer or the customer no country. */
  country: string | null;
  currency: string;
  /** Σ amount of succeeded/refunded payments created in the range. */
  revenue_gross: string;
  /** revenue_gross − Σ refunded_amount of those payments. */
  revenue_net: string;
  /** Number of succeeded/refunded payments. */
  payments: number;
  /** Distinct customers with such a payment. */
  paying_customers: number;
}

/**
 * Revenue by the paying customer's country. Country is joined at query time from `customers`, so a
 * customer who moves is reported under the new country without recomputing rollups.
 */
export async function getCountries(wh: Warehouse, r: KpiRange): Promise<CountryRow[]> {
  // kpi_customer_15m is a summing table (see rollups.ts): a customer pays in the range when its rows
  // there sum to at least one payment.
  const rows = await db(wh).query<{ country: string | null; currency: string; gross: string; refunds: string; payments: string; customers: string }>(`
    WITH k AS (
      SELECT tenant_id, customer_id, currency, sum(gross) AS gross, sum(refunds) AS refunds, sum(payments) AS payments
      FROM kpi_customer_15m
      WHERE tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP
      GROUP BY ALL HAVING ${STILL_COUNTS.kpi_customer_15m})
    SELECT cu.country, k.currency, sum(k.gross) AS gross, sum(k.refunds) AS refunds, sum(k.payments) AS payments,
           count(k.customer_id) AS customers
    FROM k
    LEFT JOIN customers cu ON cu.tenant_id = k.tenant_id AND cu.customer_id = k.customer_id
    GROUP BY ALL
    ORDER BY sum(k.gross) DESC, cu.country NULLS LAST, k.currency`, rangeParams(r));
  return rows.map((x) => ({
    country: x.country,
    currency: x.currency,
    revenue_gross: normaliseAmount(x.gross),
    revenue_net: subtractAmounts(x.gross, x.refunds),
    payments: num(x.payments),
    paying_customers: num(x.customers),
  }));
}
