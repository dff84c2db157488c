import type { Warehouse } from '../../warehouse/warehouse.ts';

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

const iso = (sql: string) => `${sql.replace(' ', 'T')}Z`;

/** The latest pricing run of a tenant, filtered and paginated (largest moves first). */
export async function getRecommendations(wh: Warehouse, q: {
  tenantId: string; changedOnly: boolean; category?: string; minConfidence: Confidence; limit: number; offset: number;
}): Promise<RecommendationPage> {
  const [run] = await wh.query<{ run_id: string; computed_at: string; as_of: string; last_day: string }>(`
    SELECT run_id::VARCHAR AS run_id, computed_at::VARCHAR AS computed_at, as_of::VARCHAR AS as_of, strftime(last_day, '%Y-%m-%d') AS last_day
    FROM pricing_runs WHERE tenant_id = $tenant ORDER BY run_id DESC LIMIT 1`, { tenant: q.tenantId });
  if (!run) return { run: null, total: 0, items: [] };
  const levels = CONFIDENCES.slice(CONFIDENCES.indexOf(q.minConfidence));
  const where = `run_id = $run::BIGINT AND ($changed = false OR price <> current_price) AND ($category::VARCHAR IS NULL OR category = $category::VARCHAR)
    AND confidence IN (${levels.map((l) => `'${l}'`).join(', ')})`;
  const params = { run: run.run_id, changed: q.changedOnly, category: q.category ?? null };
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
