import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type pg from 'pg';
import type { Config } from '../../config.ts';
import { APPLY_PROFILES, applyPrices, IdempotencyMismatch } from '../../models/pricing/apply.ts';
import { CONFIDENCES, getProductPricing, getRecommendations } from '../../models/pricing/get-recommendations.ts';
import { HISTORY_DAYS } from '../../models/pricing/run-pricing.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../context.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { csvFormat, jsonOrCsv, readTenant, tenantParam } from '../params.ts';
import { ApiError, problemResponses } from '../errors.ts';

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

const money = (what: string) => z.number().positive().max(1e8).refine((v) => Math.abs(v * 100 - Math.round(v * 100)) < 1e-6, { message: 'must have at most two decimals' })
  .openapi({ description: what, example: 19.99 });
const applyBody = z.object({
  items: z.array(z.object({
    product_id: z.string().min(1).max(200),
    price: money('New price'),
    expected_current_price: money('The price the engine believes the product has now; the item is refused if it differs'),
  })).min(1).max(1000).refine((items) => new Set(items.map((i) => i.product_id)).size === items.length, { message: 'a product may appear once' }),
}).openapi('PriceApplyRequest');
const applyResponse = z.object({
  applied: z.number().int(), refused: z.number().int(),
  items: z.array(z.object({
    product_id: z.string(), status: z.enum(['applied', 'conflict', 'not_found', 'below_cost_floor', 'out_of_bounds']),
    price: z.number(), current_price: z.number().nullable(), detail: z.string(),
  })),
}).openapi('PriceApplyResult');

export function registerPricingRoutes(app: OpenAPIHono<AppEnv>, deps: { config: Config; warehouse: Warehouse; source?: pg.Pool }): void {
  app.openapi(
    createRoute({
      method: 'post', path: '/v1/pricing/apply', tags: ['Pricing'], security: [{ bearerAuth: [] }],
      summary: 'Write prices to the source',
      description: "Sets current_price, pricing_factors and last_price_update in the source's products table in one transaction. "
        + 'Each item is applied only if the product still has `expected_current_price` (otherwise `conflict`) and the price keeps '
        + 'the cost floor and the base-price bounds; refusals are reported per item. With an `Idempotency-Key` header a repeat of '
        + 'the same request returns the first response and writes nothing. Every item is audited. Scope `pricing:write`.',
      request: {
        headers: z.object({ 'idempotency-key': z.string().min(1).max(255).optional() }),
        body: { content: { 'application/json': { schema: applyBody } }, required: true },
      },
      responses: {
        200: { description: 'Outcome per item', content: { 'application/json': { schema: applyResponse } } },
        ...problemResponses('bad_request', 'unauthorized', 'forbidden', 'unprocessable', 'unavailable'),
      },
    }),
    async (c) => {
      const principal = requireScope(c.get('principal'), 'pricing:write');
      c.set('tenantId', principal.tenantId);
      if (!(APPLY_PROFILES as readonly string[]).includes(deps.config.PROFILE)) {
        throw new ApiError('unprocessable', `Writing prices back is not supported for profile "${deps.config.PROFILE}" (only ${APPLY_PROFILES.join(', ')}).`);
      }
      if (!deps.source) throw new ApiError('unavailable', 'No source database is configured to write prices to.');
      const { items } = c.req.valid('json');
      const idempotencyKey = c.req.valid('header')['idempotency-key'] ?? null;
      try {
        const { response, replayed } = await applyPrices(deps.source, deps.warehouse, {
          tenantId: principal.tenantId, keyId: principal.keyId, requestId: c.get('requestId'), idempotencyKey, items,
          settings: { minMargin: deps.config.PRICING_MIN_MARGIN, minRatio: deps.config.PRICING_MIN_RATIO, maxRatio: deps.config.PRICING_MAX_RATIO },
        });
        if (replayed) c.header('Idempotent-Replayed', 'true');
        return c.json(response, 200);
      } catch (err) {
        if (err instanceof IdempotencyMismatch) throw new ApiError('unprocessable', err.message);
        throw err;
      }
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/pricing/products/{id}', tags: ['Pricing'], security: [{ bearerAuth: [] }],
      summary: "One product's price: recommendation, history, fitted demand and profit curves",
      request: {
        params: z.object({ id: z.string().min(1).max(200) }),
        query: z.object({ tenant: tenantParam }),
      },
      responses: {
        200: { description: 'Product pricing detail', content: { 'application/json': { schema: z.object({
          product_id: z.string(), name: z.string().nullable(), category: z.string().nullable(), currency: z.string().nullable(),
          base_price: z.number().nullable(), unit_cost: z.number().nullable(), recommendation: recommendation.nullable(),
          history: z.array(z.object({ day: z.string(), units: z.number(), avg_price: z.number() })),
          curve: z.array(z.object({ price: z.number(), units: z.number(), profit: z.number().nullable() })),
        }).openapi('ProductPricing') } } },
        ...problemResponses('bad_request', 'unauthorized', 'forbidden', 'not_found'),
      },
    }),
    async (c) => {
      const tenantId = readTenant(c, c.req.valid('query').tenant);
      const detail = await getProductPricing(deps.warehouse, tenantId, c.req.valid('param').id, HISTORY_DAYS);
      if (!detail) throw new ApiError('not_found', 'No such product.');
      return c.json(detail, 200);
    },
  );

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
          tenant: tenantParam,
          format: csvFormat,
        }),
      },
      responses: jsonOrCsv(pageSchema, 'Recommendations'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
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
        return csvResponse(c, 'pricing-recommendations', columns, rows) as never;
      }
      return c.json({ tenant: tenantId, ...page, limit: q.limit, offset: q.offset }, 200);
    },
  );
}
