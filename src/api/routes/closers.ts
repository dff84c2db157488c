import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Config } from '../../config.ts';
import { GRANULARITIES } from '../../models/kpis/buckets.ts';
import type { KpiCache } from '../../models/kpis/cache.ts';
import { getFreshness } from '../../models/kpis/common.ts';
import { CLOSERS, getClosers } from '../../models/closers/get-closers.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { csvFormat, jsonOrCsv } from '../params.ts';
import { authorise, freshnessShape, moneySchema, nullableMoneySchema, rangeParams, rangeSchema } from './kpis.ts';

export interface CloserRouteDeps {
  config: Config;
  warehouse: Warehouse;
  now: () => Date;
  cache: KpiCache;
  /** Why the source has no conversations, when it has none (conversation metrics are then null). */
  noConversations: string | null;
}

const differenceSchema = z.object({
  estimate: z.number().openapi({ description: 'AI minus human' }),
  ci: z.tuple([z.number(), z.number()]).openapi({ description: 'Welch t interval at `level`' }),
  level: z.number(),
  p_value: z.number(),
}).nullable().openapi('CloserDifference');

const closerSchema = z.object({
  closer: z.enum(CLOSERS),
  conversations: z.number().int().nullable().openapi({ description: 'Conversations this closer answered first (an AI conversation escalated to a person stays the AI\'s).' }),
  converted: z.number().int().nullable(),
  conversion_rate: z.number().nullable().openapi({ description: 'Share of those conversations with at least one order pointing at them.' }),
  escalations: z.number().int().nullable(),
  escalation_rate: z.number().nullable().openapi({ description: 'AI only: share of its conversations handed to a person.' }),
  median_first_response_seconds: z.number().nullable(),
  orders_closed: z.number().int(),
  orders_kept: z.number().int().openapi({ description: 'Orders closed that are paid or fulfilled.' }),
  revenue: z.array(moneySchema).openapi({ description: 'Σ total of the kept orders, per currency.' }),
  aov: z.array(nullableMoneySchema),
  cancel_refund_rate: z.number().nullable().openapi({ description: '(cancelled + refunded) ÷ decided (non-pending) orders closed.' }),
}).openapi('CloserStats');

export const closersResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape,
  granularity: z.enum(GRANULARITIES),
  currency: z.string().openapi({ description: 'Currency of the AOV difference and of the series: the one most kept orders are in.' }),
  closers: z.array(closerSchema),
  difference: z.object({ conversion_rate: differenceSchema, aov: differenceSchema }),
  series: z.array(z.object({
    bucket: z.string(), start: z.string(), end: z.string(), closer: z.enum(CLOSERS),
    conversations: z.number().int().nullable(), conversion_rate: z.number().nullable(),
    orders_closed: z.number().int(), revenue: z.string(), aov: z.string().nullable(),
  })),
  unavailable: z.record(z.string(), z.string()).optional(),
}).openapi('AiVsAdmin');

export function registerCloserRoutes(app: OpenAPIHono<AppEnv>, deps: CloserRouteDeps): void {
  const { warehouse: wh, config } = deps;
  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/ai-vs-admin', tags: ['KPIs'], security: [{ bearerAuth: [] }],
      summary: 'Who closes sales, AI or people, and who does it better',
      description: 'Per closer: conversations answered first, conversion, escalation, median first response; orders closed, revenue, AOV and cancel/refund rate. '
        + 'AI − human differences of conversion and AOV with Welch intervals and p-values (observational: a difference, not a cause), and a series per local period. '
        + 'CSV gives the series.',
      request: {
        query: z.object({
          ...rangeParams,
          granularity: z.enum(GRANULARITIES).default('week'),
          level: z.coerce.number().gt(0.5).lt(1).default(0.95).openapi({ description: 'Confidence level of the intervals' }),
          format: csvFormat,
        }),
      },
      responses: jsonOrCsv(closersResponseSchema, 'AI vs admin'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const fresh = await getFreshness(wh, deps.now(), config.STALE_AFTER_MINUTES);
      const opts = { granularity: q.granularity, tz: q.tz, level: q.level, conversations: deps.noConversations === null, defaultCurrency: config.DEFAULT_CURRENCY };
      const result = await deps.cache.get(
        [wh.path, 'closers', range.tenantId, range.from.getTime(), range.to.getTime(), q.granularity, q.tz, q.level, fresh.computed_at],
        () => getClosers(wh, range, opts));
      if (wantsCsv(q.format, c.req.header('accept'))) {
        return csvResponse(c, 'kpi-ai-vs-admin', ['bucket', 'start', 'end', 'closer', 'conversations', 'conversion_rate', 'orders_closed', 'currency', 'revenue', 'aov'],
          result.series.map((p) => ({ ...p, currency: result.currency })) as never) as never;
      }
      return c.json({
        tenant: range.tenantId, range: echo, ...fresh, granularity: q.granularity, ...result,
        ...(deps.noConversations ? { unavailable: { conversations: deps.noConversations } } : {}),
      }, 200);
    },
  );
}
