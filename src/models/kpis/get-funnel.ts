import type { Warehouse } from '../../warehouse/warehouse.ts';
import { db, type KpiRange, num, rangeParams, ratio } from './common.ts';

export const FUNNEL_STEPS = ['page_view', 'product_view', 'cart_add', 'purchase'] as const;
export type FunnelStepName = (typeof FUNNEL_STEPS)[number];

export interface FunnelStep {
  step: FunnelStepName;
  /**
   * page_view: Σ page_views.views; product_view: Σ product_events.views; cart_add: Σ
   * product_events.cart_adds; purchase: Σ product_events.sales — all by event ts in [from, to).
   */
  count: number;
  /** count ÷ previous step's count; null for the first step or when the previous step is 0. */
  conversion_from_previous: number | null;
  /** count ÷ page views; null when there were none. */
  conversion_from_first: number | null;
}

export interface FunnelResult {
  steps: FunnelStep[];
  /** purchases ÷ page views; null when there were no page views. */
  overall_conversion: number | null;
}

/** Page view → product view → cart add → purchase over [from, to), from the rollups. */
export async function getFunnel(wh: Warehouse, r: KpiRange): Promise<FunnelResult> {
  const rows = await db(wh).query<{ page_views: string | null; views: string | null; cart_adds: string | null; sales: string | null }>(`
    SELECT
      (SELECT sum(views) FROM kpi_page_views_15m WHERE tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP) AS page_views,
      sum(views) AS views, sum(cart_adds) AS cart_adds, sum(sales) AS sales
    FROM kpi_product_events_15m WHERE tenant_id = $tenant AND bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP`, rangeParams(r));
  const row = rows[0];
  const counts = [num(row?.page_views), num(row?.views), num(row?.cart_adds), num(row?.sales)];
  const first = counts[0]!;
  const steps = FUNNEL_STEPS.map((step, i) => ({
    step,
    count: counts[i]!,
    conversion_from_previous: i === 0 ? null : ratio(counts[i]!, counts[i - 1]!),
    conversion_from_first: ratio(counts[i]!, first),
  }));
  return { steps, overall_conversion: ratio(counts[3]!, first) };
}
