import type { Warehouse } from '../../warehouse/warehouse.ts';
import { isoFromSql } from '../kpis/common.ts';

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export interface RecommendationRow {
  product_id: string;
  category: string | null;
  currency: string | null;
  current_price: number;
  recommended_price: number;
  change_pct: number;
  elasticity: { estimate: number; sd: number; ci90: [number, number]; source: string; confidence: Confidence; own_estimate: number | null };
  optimal_price: number | null;
  expected: unknown;
  factors: unknown;
  bound_by: string[];
  reason: string;
}

export interface RecommendationPage {
  run: { run_id: number; computed_at: string; as_of: string; last_day: string } | null;
  total: number;
  items: RecommendationRow[];
}

const iso = (sql: string) => isoFromSql(sql)!;

/** The latest pricing run of a tenant, filtered and paginated (largest moves first). */
export async function getRecommendations(wh: Warehouse, q: {
  tenantId: string; changedOnly: boolean; category?: string; minConfidence: Confidence; limit: number; offset: number; productId?: string;
}): Promise<RecommendationPage> {
  const [run] = await wh.query<{ run_id: string; computed_at: string; as_of: string; last_day: string }>(`
    SELECT run_id::VARCHAR AS run_id, computed_at::VARCHAR AS computed_at, as_of::VARCHAR AS as_of, strftime(last_day, '%Y-%m-%d') AS last_day
    FROM pricing_runs WHERE tenant_id = $tenant ORDER BY run_id DESC LIMIT 1`, { tenant: q.tenantId });
  if (!run) return { run: null, total: 0, items: [] };
  const levels = CONFIDENCES.slice(CONFIDENCES.indexOf(q.minConfidence));
  const where = `run_id = $run::BIGINT AND ($changed = false OR price <> current_price) AND ($category::VARCHAR IS NULL OR category = $category::VARCHAR)
    AND ($product::VARCHAR IS NULL OR product_id = $product::VARCHAR) AND confidence IN (${levels.map((l) => `'${l}'`).join(', ')})`;
  const params = { run: run.run_id, changed: q.changedOnly, category: q.category ?? null, product: q.productId ?? null };
  const [count] = await wh.query<{ n: string }>(`SELECT count(*) AS n FROM pricing_recommendations WHERE ${where}`, params);
  const rows = await wh.query<Record<string, unknown>>(`
    SELECT product_id, category, currency, current_price, price, change_pct, elasticity, elasticity_sd, elasticity_lo, elasticity_hi,
      elasticity_source, confidence, own_estimate, optimal_price, expected::VARCHAR AS expected, factors::VARCHAR AS factors,
      bound_by::VARCHAR AS bound_by, reason
    FROM pricing_recommendations WHERE ${where}
    ORDER BY abs(change_pct) DESC, product_id LIMIT ${q.limit} OFFSET ${q.offset}`, params);
  const r2 = (x: unknown) => Math.round(Number(x) * 1000) / 1000;
  return {
    run: { run_id: Number(run.run_id), computed_at: iso(run.computed_at), as_of: iso(run.as_of), last_day: run.last_day },
    total: Number(count?.n ?? 0),
    items: rows.map((r) => ({
      product_id: String(r.product_id), category: (r.category as string | null) ?? null, currency: (r.currency as string | null) ?? null,
      current_price: Number(r.current_price), recommended_price: Number(r.price), change_pct: Number(r.change_pct),
      elasticity: {
        estimate: r2(r.elasticity), sd: r2(r.elasticity_sd), ci90: [r2(r.elasticity_lo), r2(r.elasticity_hi)],
        source: String(r.elasticity_source), confidence: r.confidence as Confidence, own_estimate: r.own_estimate === null ? null : r2(r.own_estimate),
      },
      optimal_price: r.optimal_price === null ? null : Number(r.optimal_price),
      expected: JSON.parse(String(r.expected)), factors: JSON.parse(String(r.factors)), bound_by: JSON.parse(String(r.bound_by)) as string[],
      reason: String(r.reason),
    })),
  };
}

export interface ProductPricing {
  product_id: string;
  name: string | null;
  category: string | null;
  currency: string | null;
  base_price: number | null;
  unit_cost: number | null;
  recommendation: RecommendationRow | null;
  /** Daily units sold and average price paid over the fitted history (UTC days with sales). */
  history: { day: string; units: number; avg_price: number }[];
  /** Units a day and profit a day along the fitted constant-elasticity curve, from 0.5× to 2× the current price. */
  curve: { price: number; units: number; profit: number | null }[];
}

/** One product's recommendation with the data behind it; null when the product is unknown. */
export async function getProductPricing(wh: Warehouse, tenantId: string, productId: string, historyDays: number): Promise<ProductPricing | null> {
  const [p] = await wh.query<{ name: string | null; category: string | null; currency: string | null; base_price: number | null; base_cost: number | null; current_price: number }>(`
    SELECT name, category, currency, base_price::DOUBLE AS base_price, base_cost::DOUBLE AS base_cost, current_price::DOUBLE AS current_price
    FROM products WHERE tenant_id = $t AND product_id = $p`, { t: tenantId, p: productId });
  if (!p) return null;
  const page = await getRecommendations(wh, { tenantId, changedOnly: false, minConfidence: 'low', limit: 1, offset: 0, productId });
  const rec = page.items[0] ?? null;
  const history = await wh.query<{ day: string; units: number; avg_price: number }>(`
    SELECT strftime(CAST(bucket AS DATE), '%Y-%m-%d') AS day, sum(units)::DOUBLE AS units, round(sum(gross)::DOUBLE / sum(units), 2) AS avg_price
    FROM kpi_product_payments_15m
    WHERE tenant_id = $t AND product_id = $p AND bucket >= (SELECT max(bucket) FROM kpi_product_payments_15m WHERE tenant_id = $t) - to_days(${Math.trunc(historyDays)})
    GROUP BY 1 HAVING sum(units) > 0 ORDER BY 1`, { t: tenantId, p: productId });
  const current = rec?.current_price ?? p.current_price;
  const unitsNow = (rec?.expected as { current?: { units?: number } } | undefined)?.current?.units ?? 0;
  const e = rec?.elasticity.estimate ?? null;
  const curve = e === null ? [] : Array.from({ length: 31 }, (_, i) => {
    const price = Math.round(current * (0.5 + (1.5 * i) / 30) * 100) / 100;
    const units = unitsNow * (price / current) ** e;
    return { price, units: Math.round(units * 1000) / 1000, profit: p.base_cost === null ? null : Math.round((price - p.base_cost) * units * 100) / 100 };
  });
  return {
    product_id: productId, name: p.name, category: p.category, currency: p.currency, base_price: p.base_price, unit_cost: p.base_cost,
    recommendation: rec, history: history.map((h) => ({ day: h.day, units: Number(h.units), avg_price: Number(h.avg_price) })), curve,
  };
}
