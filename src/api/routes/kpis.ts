import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Config } from '../../config.ts';
import { GRANULARITIES, isValidTimeZone } from '../../models/kpis/buckets.ts';
import { getFreshness, type KpiRange } from '../../models/kpis/common.ts';
import { summaryDeltas } from '../../models/kpis/deltas.ts';
import { getCountries } from '../../models/kpis/get-countries.ts';
import { getFunnel, FUNNEL_STEPS } from '../../models/kpis/get-funnel.ts';
import { getProducts, PRODUCT_SORTS } from '../../models/kpis/get-products.ts';
import type { KpiCache } from '../../models/kpis/cache.ts';
import { getSummaries } from '../../models/kpis/get-summary.ts';
import { getKpiSources } from '../../models/kpis/sources.ts';
import { getTimeseries, TIMESERIES_METRICS } from '../../models/kpis/get-timeseries.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';
import { csvFormat, jsonOrCsv, readTenant, tenantParam } from '../params.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { ApiError, problemResponses } from '../errors.ts';
import type { OptionalMetric } from '../availability.ts';
import { previousPeriod, type RangeInput, resolveRange } from '../time-range.ts';

export interface KpiRouteDeps {
  config: Config;
  warehouse: Warehouse;
  now: () => Date;
  cache: KpiCache;
  /** Optional metrics the profile cannot provide, with the reason. */
  unavailable: Partial<Record<OptionalMetric, string>>;
}

// ---------------------------------------------------------------------------------------------
// Shared parameter and response schemas

export const rangeParams = {
  from: z.string().optional().openapi({
    description: 'Range start, inclusive: ISO-8601 (with Z/offset, or local to `tz`), a local date, or epoch ms. Default: 30 days before `to`.',
    example: '2024-03-01',
  }),
  to: z.string().optional().openapi({ description: 'Range end, exclusive; same formats as `from`. Default: now.', example: '2024-04-01' }),
  tz: z.string().refine(isValidTimeZone, { message: 'must be an IANA time zone name such as "America/New_York"' }).default('UTC')
    .openapi({ description: 'IANA time zone for local dates in `from`/`to` and for buckets.', example: 'America/New_York' }),
  tenant: tenantParam,
};

export const moneySchema = z.object({
  currency: z.string().openapi({ example: 'USD' }),
  amount: z.string().openapi({ description: 'Decimal string, two fraction digits', example: '1234.50' }),
}).openapi('Money');
export const nullableMoneySchema = z.object({ currency: z.string(), amount: z.string().nullable() }).openapi('NullableMoney');

export const freshnessShape = {
  as_of: z.string().nullable().openapi({ description: 'Greatest ingest watermark the rollups saw (ISO-8601 UTC).' }),
  computed_at: z.string().nullable().openapi({ description: 'When the rollups were computed (ISO-8601 UTC).' }),
  stale: z.boolean().openapi({ description: 'True when the last ingest failed, is overdue, or never ran.' }),
};
export const rangeSchema = z.object({
  from: z.string().openapi({ description: 'Effective start (ISO-8601 UTC, on the 15-minute rollup grid)' }),
  to: z.string().openapi({ description: 'Effective end, exclusive' }),
  tz: z.string(),
}).openapi('Range');

export const summaryMetricsSchema = z.object({
  revenue_gross: z.array(moneySchema), refunds: z.array(moneySchema), revenue_net: z.array(moneySchema),
  orders: z.number().int(), order_value: z.array(moneySchema), aov: z.array(nullableMoneySchema),
  paying_customers: z.number().int(), new_customers: z.number().int(),
  payment_success_rate: z.number().nullable(),
  page_views: z.number().int().nullable().openapi({ description: 'Null when the source has no page views (see `unavailable`).' }),
  conversion_rate: z.number().nullable(),
  mrr: z.array(moneySchema).nullable().openapi({ description: 'Null when the source has no subscriptions (see `unavailable`).' }),
  arr: z.array(moneySchema).nullable(), subscription_churn: z.number().nullable(),
}).openapi('SummaryMetrics');

const countDelta = z.object({ previous: z.number(), change: z.number(), change_ratio: z.number().nullable() }).openapi('CountDelta');
const rateDelta = z.object({ previous: z.number().nullable(), change: z.number().nullable() }).openapi('RateDelta');
const moneyDelta = z.array(z.object({
  currency: z.string(), previous: z.string().nullable(), change: z.string().nullable(), change_ratio: z.number().nullable(),
})).openapi('MoneyDeltas');
export const summaryDeltasSchema = z.object({
  revenue_gross: moneyDelta, refunds: moneyDelta, revenue_net: moneyDelta, orders: countDelta, order_value: moneyDelta,
  aov: moneyDelta, paying_customers: countDelta, new_customers: countDelta, payment_success_rate: rateDelta,
  page_views: countDelta.nullable(), conversion_rate: rateDelta.nullable(), mrr: moneyDelta.nullable(), arr: moneyDelta.nullable(),
  subscription_churn: rateDelta.nullable(),
}).openapi('SummaryDeltas');

const sourceUseSchema = z.object({
  source: z.string().openapi({ example: 'stripe' }), as_of: z.string().nullable(),
});

export const summaryResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape,
  metrics: summaryMetricsSchema,
  previous: z.object({ range: rangeSchema, metrics: summaryMetricsSchema }).optional(),
  deltas: summaryDeltasSchema.optional(),
  unavailable: z.record(z.string(), z.string()).optional().openapi({
    description: 'Metrics this source cannot provide (they are null), each with the reason, e.g. MRR without subscriptions.',
  }),
  sources: z.object({
    payments: z.array(sourceUseSchema), subscriptions: z.array(sourceUseSchema),
  }).openapi({
    description: 'The sources the payment metrics (revenue, refunds, payment success, paying and new customers) and the subscription metrics (MRR, ARR, churn) drew on, each with its newest change read. A payment or subscription present in both the database and Stripe counts once, as Stripe\'s.',
  }),
}).openapi('KpiSummary');
export type SummaryResponse = z.infer<typeof summaryResponseSchema>;

export const timeseriesResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape,
  metric: z.enum(TIMESERIES_METRICS), unit: z.enum(['money', 'count', 'ratio']), granularity: z.enum(GRANULARITIES),
  series: z.array(z.object({
    currency: z.string().nullable(),
    points: z.array(z.object({
      bucket: z.string().openapi({ description: 'Local date starting the bucket in tz', example: '2024-03-10' }),
      start: z.string(), end: z.string(),
      value: z.union([z.string(), z.number()]).nullable(),
    })),
  })),
}).openapi('KpiTimeseries');
export type TimeseriesResponse = z.infer<typeof timeseriesResponseSchema>;

export const funnelResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape,
  steps: z.array(z.object({
    step: z.enum(FUNNEL_STEPS), count: z.number().int(),
    conversion_from_previous: z.number().nullable(), conversion_from_first: z.number().nullable(),
  })),
  overall_conversion: z.number().nullable(),
}).openapi('KpiFunnel');
export type FunnelResponse = z.infer<typeof funnelResponseSchema>;

export const productRowSchema = z.object({
  product_id: z.string(), name: z.string().nullable(), category: z.string().nullable(), current_price: moneySchema.nullable(),
  units: z.number().int(), revenue_gross: z.array(moneySchema), revenue_net: z.array(moneySchema),
  views: z.number().int(), cart_adds: z.number().int(), purchases: z.number().int(), view_to_purchase: z.number().nullable(),
}).openapi('ProductKpis');
export const productsResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape,
  total: z.number().int(), limit: z.number().int(), offset: z.number().int(),
  sort: z.enum(PRODUCT_SORTS), order: z.enum(['asc', 'desc']),
  items: z.array(productRowSchema),
}).openapi('KpiProducts');
export type ProductsResponse = z.infer<typeof productsResponseSchema>;

export const countryRowSchema = z.object({
  country: z.string().nullable(), currency: z.string(), revenue_gross: z.string(), revenue_net: z.string(),
  payments: z.number().int(), paying_customers: z.number().int(),
}).openapi('CountryKpis');
export const countriesResponseSchema = z.object({
  tenant: z.string(), range: rangeSchema, ...freshnessShape, items: z.array(countryRowSchema),
}).openapi('KpiCountries');
export type CountriesResponse = z.infer<typeof countriesResponseSchema>;

const errors = problemResponses('bad_request', 'unauthorized', 'forbidden', 'not_found');
const security = [{ bearerAuth: [] }];

// ---------------------------------------------------------------------------------------------
// Handlers: parse → authorise → query → respond

interface Authorised {
  range: KpiRange;
  echo: { from: string; to: string; tz: string };
}

/** Scope, tenant and range of a KPI request; every failure is an ApiError (401/403/404/400). */
export function authorise(c: Context<AppEnv>, q: RangeInput & { tenant?: string | undefined }, now: Date): Authorised {
  const tenantId = readTenant(c, q.tenant);
  const { from, to } = resolveRange(q, now);
  return { range: { tenantId, from, to }, echo: { from: from.toISOString(), to: to.toISOString(), tz: q.tz } };
}

/** getSummaries returns one result per window asked for; the first always exists. */
function emptyGuard(): never {
  throw new Error('summary query returned no window');
}

export function registerKpiRoutes(app: OpenAPIHono<AppEnv>, deps: KpiRouteDeps): void {
  const { warehouse: wh, config } = deps;
  const freshness = () => getFreshness(wh, deps.now(), config.STALE_AFTER_MINUTES);
  // A metric the source cannot feed is null with its reason, never a zero that reads as a fact.
  const unavailable = Object.keys(deps.unavailable) as OptionalMetric[];
  const blank = <T extends Record<OptionalMetric, unknown>>(m: T): { [K in keyof T]: K extends OptionalMetric ? T[K] | null : T[K] } => {
    const out: Record<string, unknown> = { ...m };
    for (const k of unavailable) out[k] = null;
    return out as never;
  };

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/summary', tags: ['KPIs'], security,
      summary: 'Headline KPIs over a range',
      description: 'Revenue (gross, net, refunds), orders and AOV, paying/new customers, payment success, page views and conversion, MRR/ARR and churn. `compare=previous_period` adds the same metrics for the preceding range of equal length and their deltas.',
      request: {
        query: z.object({
          ...rangeParams,
          compare: z.enum(['previous_period']).optional(),
          format: z.enum(['json']).optional().openapi({ description: 'Only JSON: the summary is not list-shaped.' }),
        }),
      },
      responses: { 200: { description: 'KPI summary', content: { 'application/json': { schema: summaryResponseSchema } } }, ...errors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const prev = q.compare === 'previous_period' ? { ...previousPeriod(range), tenantId: range.tenantId } : undefined;
      // Freshness first: its computed_at keys the cache, so a cached body never predates the rollups.
      const fresh = await freshness();
      const windows = prev ? [range, prev] : [range];
      // The sources change only with an ingest, which the rollup refresh's computed_at follows.
      const [[metrics = emptyGuard(), previous], sources] = await deps.cache.get(
        [wh.path, 'summary', range.tenantId, ...windows.flatMap((w) => [w.from.getTime(), w.to.getTime()]), fresh.computed_at],
        () => Promise.all([getSummaries(wh, range.tenantId, windows), getKpiSources(wh, range.tenantId)]));
      const body: SummaryResponse = { tenant: range.tenantId, range: echo, ...fresh, metrics: blank(metrics), sources };
      if (prev && previous) {
        body.previous = { range: { from: prev.from.toISOString(), to: prev.to.toISOString(), tz: q.tz }, metrics: blank(previous) };
        body.deltas = blank(summaryDeltas(metrics, previous));
      }
      if (unavailable.length > 0) body.unavailable = deps.unavailable;
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/timeseries', tags: ['KPIs'], security,
      summary: 'One metric per local day, ISO week or month',
      description: 'Dense, zero-filled buckets of local calendar periods in `tz` (DST days have 23 or 25 hours); the first and last bucket are clipped to the range. Money metrics give one series per currency.',
      request: {
        query: z.object({
          ...rangeParams,
          metric: z.enum(TIMESERIES_METRICS).default('revenue_gross'),
          granularity: z.enum(GRANULARITIES).default('day'),
          format: csvFormat,
        }),
      },
      responses: jsonOrCsv(timeseriesResponseSchema, 'Time series'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const reason = deps.unavailable[q.metric as OptionalMetric];
      if (reason) throw new ApiError('not_applicable', `query parameter "metric": ${reason}`, { invalidParams: [{ name: 'metric', reason }] });
      const fresh = await freshness();
      const opts = { metric: q.metric, granularity: q.granularity, tz: q.tz, defaultCurrency: config.DEFAULT_CURRENCY };
      const ts = await deps.cache.get(
        [wh.path, 'timeseries', range.tenantId, range.from.getTime(), range.to.getTime(), opts.metric, opts.granularity, opts.tz, opts.defaultCurrency, fresh.computed_at],
        () => getTimeseries(wh, range, opts));
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const rows = ts.series.flatMap((s) => s.points.map((p) => ({ ...p, currency: s.currency })));
        return csvResponse(c, `kpi-${q.metric}`, ['bucket', 'start', 'end', 'currency', 'value'], rows) as never;
      }
      const body: TimeseriesResponse = { tenant: range.tenantId, range: echo, ...fresh, granularity: q.granularity, ...ts };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/funnel', tags: ['KPIs'], security,
      summary: 'Page view → product view → cart add → purchase',
      request: { query: z.object({ ...rangeParams, format: csvFormat }) },
      responses: jsonOrCsv(funnelResponseSchema, 'Funnel'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const [funnel, fresh] = await Promise.all([getFunnel(wh, range), freshness()]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        return csvResponse(c, 'kpi-funnel', ['step', 'count', 'conversion_from_previous', 'conversion_from_first'], funnel.steps as never) as never;
      }
      const body: FunnelResponse = { tenant: range.tenantId, range: echo, ...fresh, ...funnel };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/products', tags: ['KPIs'], security,
      summary: 'Per-product units, revenue, views, cart adds and conversion',
      description: 'Every catalogue product (and any product id seen in the range), sorted and paginated. In CSV a product with revenue in several currencies has one line per currency.',
      request: {
        query: z.object({
          ...rangeParams,
          sort: z.enum(PRODUCT_SORTS).default('revenue_gross'),
          order: z.enum(['asc', 'desc']).default('desc'),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
          format: csvFormat,
        }),
      },
      responses: jsonOrCsv(productsResponseSchema, 'Products page'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const [page, fresh] = await Promise.all([
        getProducts(wh, range, { sort: q.sort, order: q.order, limit: q.limit, offset: q.offset }),
        freshness(),
      ]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const rows = page.rows.flatMap((p): Record<string, unknown>[] => {
          const base = {
            product_id: p.product_id, name: p.name, category: p.category,
            current_price: p.current_price?.amount, price_currency: p.current_price?.currency,
            units: p.units, views: p.views, cart_adds: p.cart_adds, purchases: p.purchases, view_to_purchase: p.view_to_purchase,
          };
          if (!p.revenue_gross.length) return [{ ...base, revenue_currency: null, revenue_gross: '0.00', revenue_net: '0.00' }];
          return p.revenue_gross.map((g, i) => ({ ...base, revenue_currency: g.currency, revenue_gross: g.amount, revenue_net: p.revenue_net[i]?.amount }));
        });
        return csvResponse(c, 'kpi-products', ['product_id', 'name', 'category', 'current_price', 'price_currency', 'units',
          'revenue_currency', 'revenue_gross', 'revenue_net', 'views', 'cart_adds', 'purchases', 'view_to_purchase'], rows) as never;
      }
      const body: ProductsResponse = {
        tenant: range.tenantId, range: echo, ...fresh,
        total: page.total, limit: q.limit, offset: q.offset, sort: q.sort, order: q.order, items: page.rows,
      };
      return c.json(body, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/kpis/countries', tags: ['KPIs'], security,
      summary: "Revenue by paying customer's country and currency",
      request: { query: z.object({ ...rangeParams, format: csvFormat }) },
      responses: jsonOrCsv(countriesResponseSchema, 'Countries'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { range, echo } = authorise(c, q, deps.now());
      const [items, fresh] = await Promise.all([getCountries(wh, range), freshness()]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        return csvResponse(c, 'kpi-countries', ['country', 'currency', 'revenue_gross', 'revenue_net', 'payments', 'paying_customers'], items as never) as never;
      }
      const body: CountriesResponse = { tenant: range.tenantId, range: echo, ...fresh, items };
      return c.json(body, 200);
    },
  );
}
