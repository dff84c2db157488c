import type { Warehouse } from '../../warehouse/warehouse.ts';
import { db, type KpiRange, num, rangeParams } from './common.ts';
import type { Money } from './money.ts';
import { normaliseAmount } from './money.ts';
import { STILL_COUNTS } from './summing.ts';

export const PRODUCT_SORTS = ['units', 'revenue_gross', 'revenue_net', 'views', 'cart_adds', 'purchases', 'conversion', 'product_id', 'name'] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** Sort keys → SQL expressions over the `rows` CTE below (a closed list: user text never reaches SQL). */
const SORT_SQL: Record<ProductSort, string> = {
  units: 'units',
  // Amounts in different currencies are not converted: a mixed-currency tenant sorts by raw sums.
  revenue_gross: 'sort_gross',
  revenue_net: 'sort_net',
  views: 'views',
  cart_adds: 'cart_adds',
  purchases: 'purchases',
  conversion: 'view_to_purchase',
  product_id: 'product_id',
  name: 'name',
};

export interface ProductRow {
  product_id: string;
  name: string | null;
  category: string | null;
  /** products.current_price now, in the product's currency. */
  current_price: Money | null;
  /** Succeeded/refunded payments for this product created in the range. */
  units: number;
  /** Σ amount of those payments, per currency. */
  revenue_gross: Money[];
  /** Σ (amount − refunded_amount) of those payments, per currency. */
  revenue_net: Money[];
  /** Σ product_events.views in the range. */
  views: number;
  /** Σ product_events.cart_adds in the range. */
  cart_adds: number;
  /** Σ product_events.sales in the range. */
  purchases: number;
  /** purchases ÷ views (product events); null with no views. */
  view_to_purchase: number | null;
}

export interface ProductsOptions {
  sort: ProductSort;
  order: 'asc' | 'desc';
  limit: number;
  offset: number;
}

export interface ProductsResult {
  /** Products in the catalogue plus any product id seen in payments or events in the range. */
  total: number;
  rows: ProductRow[];
}

/** Per-product sales, revenue and engagement over [from, to), one page. */
export async function getProducts(wh: Warehouse, r: KpiRange, o: ProductsOptions): Promise<ProductsResult> {
  const p = { ...rangeParams(r), limit: o.limit, offset: o.offset };
  const ctes = `
    WITH pay AS (
      SELECT product_id, currency, sum(units) AS units, sum(gross) AS gross, sum(refunds) AS refunds
      FROM kpi_product_payments_15m
      WHERE tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP
      -- A summing table (see rollups.ts): a currency whose rows cancel out has no sales left.
      GROUP BY ALL HAVING ${STILL_COUNTS.kpi_product_payments_15m}),
    payp AS (
      SELECT product_id, sum(units) AS units, sum(gross) AS sort_gross, sum(gross - refunds) AS sort_net,
             list({'currency': currency, 'gross': gross::VARCHAR, 'net': (gross - refunds)::VARCHAR} ORDER BY currency) AS money
      FROM pay GROUP BY ALL),
    ev AS (
      SELECT product_id, sum(views) AS views, sum(cart_adds) AS cart_adds, sum(sales) AS purchases
      FROM kpi_product_events_15m
      WHERE tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP AND product_id IS NOT NULL GROUP BY ALL),
    ids AS (
      SELECT product_id FROM products WHERE tenant_id = $tenant
      UNION SELECT product_id FROM payp UNION SELECT product_id FROM ev),
    rows AS (
      SELECT ids.product_id, pr.name, pr.category, pr.current_price::VARCHAR AS current_price, pr.currency,
             coalesce(payp.units, 0) AS units, coalesce(payp.sort_gross, 0) AS sort_gross, coalesce(payp.sort_net, 0) AS sort_net,
             payp.money, coalesce(ev.views, 0) AS views, coalesce(ev.cart_adds, 0) AS cart_adds,
             coalesce(ev.purchases, 0) AS purchases,
             CASE WHEN coalesce(ev.views, 0) = 0 THEN NULL ELSE ev.purchases / ev.views END AS view_to_purchase
      FROM ids
      LEFT JOIN products pr ON pr.tenant_id = $tenant AND pr.product_id = ids.product_id
      LEFT JOIN payp ON payp.product_id = ids.product_id
      LEFT JOIN ev ON ev.product_id = ids.product_id)`;
  const dir = o.order === 'asc' ? 'ASC' : 'DESC';
  const [rows, total] = await Promise.all([
    db(wh).query<{
      product_id: string; name: string | null; category: string | null; current_price: string | null; currency: string | null;
      units: string; money: { currency: string; gross: string; net: string }[] | null; views: string; cart_adds: string;
      purchases: string; view_to_purchase: number | null;
    }>(`${ctes} SELECT * EXCLUDE (sort_gross, sort_net) FROM rows
        ORDER BY ${SORT_SQL[o.sort]} ${dir} NULLS LAST, product_id ASC LIMIT $limit OFFSET $offset`, p),
    db(wh).query<{ n: string }>(`${ctes} SELECT count(*) AS n FROM rows`, rangeParams(r)),
  ]);
  return {
    total: num(total[0]?.n),
    rows: rows.map((x) => ({
      product_id: x.product_id,
      name: x.name,
      category: x.category,
      current_price: x.current_price != null && x.currency != null ? { currency: x.currency, amount: normaliseAmount(x.current_price) } : null,
      units: num(x.units),
      revenue_gross: (x.money ?? []).map((m) => ({ currency: m.currency, amount: normaliseAmount(m.gross) })),
      revenue_net: (x.money ?? []).map((m) => ({ currency: m.currency, amount: normaliseAmount(m.net) })),
      views: num(x.views),
      cart_adds: num(x.cart_adds),
      purchases: num(x.purchases),
      view_to_purchase: x.view_to_purchase == null ? null : Number(x.view_to_purchase),
    })),
  };
}
