import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { CONFIDENCES, getRecommendations } from '../../models/pricing/get-recommendations.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import { requireScope, resolveTenant } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { toCsv, wantsCsv } from '../csv.ts';
import { problemResponses } from '../errors.ts';

const recommendation = z.object({
  product_id: z.string(), category: z.string().nullable(), currency: z.string().nullable(),
  current_price: z.number(), recommended_price: z.number(), change_pct: z.number(),
  elasticity: z.object({
    estimate: z.number(), sd: z.number(), ci90: z.tuple([z.number(), z.number()]),
    source: z.string().openapi({ description: 'product: mostly its own history; category/global: mostly the pooled prior' }),
    confidence: z.enum(CONFIDENCES), own_estimate: z.number().nullable(),
  }),
  optimal_price: z.number().nullable().openapi({ description: 'Profit-maximising price under the curve, before signals and guardrails' }),
  expected: z.unknown().openapi({ description: 'Units a day and profit a day at the current and the recommended price' }),
  factors: z.unknown().openapi({ description: "Multipliers in the seed's pricing_factors shape (demand, inventory, elasticity, competition, seasonality)" }),
  bound_by: z.array(z.string()), reason: z.string(),
}).openapi('PriceRecommendation');
const pageSchema = z.object({
  tenant: z.string(),
  run: z.object({ run_id: z.number().int(), computed_at: z.string(), as_of: z.string(), last_day: z.string() }).nullable(),
  total: z.number().int(), limit: z.number().int(), offset: z.number().int(), items: z.array(recommendation),
}).openapi('PriceRecommendations');

export function registerPricingRoutes(app: OpenAPIHono<AppEnv>, deps: { warehouse: Warehouse }): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/pricing/recommendations', tags: ['Pricing'], security: [{ bearerAuth: [] }],
      summary: 'Recommended price per product, explained',
      description: 'The latest pricing run: per product the current and recommended price, elasticity with its 90% interval and '
        + 'where it comes from, expected units and profit at both prices, the factors, the guardrails that bound the price and a reason. '
        + 'Largest moves first.',
      request: {
        query: z.object({
          changed: z.enum(['true', 'false']).default('false').transform((v) => v === 'true').openapi({ description: 'Only products whose price would change.' }),
          category: z.string().max(200).optional(),
          min_confidence: z.enum(CONFIDENCES).default('low'),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          offset: z.coerce.number().int().min(0).default(0),
          tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -').optional(),
          format: z.enum(['json', 'csv']).optional(),
        }),
      },
      responses: {
        200: { description: 'Recommendations', content: { 'application/json': { schema: pageSchema }, 'text/csv': { schema: z.string() } } },
        ...problemResponses('bad_request', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = resolveTenant(requireScope(c.get('principal'), 'read'), q.tenant);
      c.set('tenantId', tenantId);
      const page = await getRecommendations(deps.warehouse, {
        tenantId, changedOnly: q.changed, category: q.category, minConfidence: q.min_confidence, limit: q.limit, offset: q.offset,
      });
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = ['product_id', 'category', 'currency', 'current_price', 'recommended_price', 'change_pct', 'elasticity', 'elasticity_lo',
          'elasticity_hi', 'confidence', 'optimal_price', 'bound_by', 'reason'];
        const rows = page.items.map((r) => ({
          ...r, elasticity: r.elasticity.estimate, elasticity_lo: r.elasticity.ci90[0], elasticity_hi: r.elasticity.ci90[1],
          confidence: r.elasticity.confidence, bound_by: r.bound_by.join('|'),
        }));
        return c.body(toCsv(columns, rows), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="pricing-recommendations.csv"', vary: 'Accept' }) as never;
      }
      return c.json({ tenant: tenantId, ...page, limit: q.limit, offset: q.offset }, 200);
    },
  );
}
