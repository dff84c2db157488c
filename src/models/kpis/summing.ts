/**
 * The summing rollups (see rollups.ts): a refresh appends its signed sums as new rows, so a key's rows
 * add up, and a key still counts only while they sum to at least one payment. Readers group a key's
 * rows and keep it with this HAVING predicate.
 */
export const STILL_COUNTS = {
  kpi_customer_15m: 'sum(payments) > 0',
  kpi_product_payments_15m: 'sum(units) > 0',
} as const;
