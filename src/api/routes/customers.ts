import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { atRisk, customerDetail, decodeCursor, modelReport } from '../../models/customers/get-customers.ts';
import { STATUSES, type Status } from '../../models/customers/rules.ts';
import { jobFreshness } from '../../models/kpis/common.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { ApiError, problemResponses } from '../errors.ts';
import { csvFormat, jsonOrCsv, readTenant, tenantParam } from '../params.ts';

/** Scores are stale when the daily customers job's last run failed or none succeeded in this long. */
const STALE_HOURS = 26;

const run = z.object({
  run_id: z.number().int(), computed_at: z.string(), as_of: z.string(), last_day: z.string(),
  currency: z.string().nullable().openapi({ description: "What spend, CLV and value at risk are in: the tenant's main currency (orders in others count for timing only)" }),
});
const customer = z.object({
  customer_id: z.string(), orders: z.number().int().openapi({ description: 'Purchase days (paid or fulfilled orders; several on one day count once)' }),
  first_order: z.string().nullable(), last_order: z.string().nullable(), days_since_last_order: z.number().nullable(),
  status: z.enum(STATUSES), typical_gap: z.number().nullable().openapi({ description: "Days: the customer's mean gap shrunk toward the store's median" }),
  expected_next_order: z.string().nullable(),
  p_alive: z.number().nullable().openapi({ description: 'BG/NBD P(active); always 1 for one-time buyers' }),
  expected_30: z.number().nullable(), expected_90: z.number().nullable(), expected_365: z.number().nullable(),
  p_no_purchase: z.number().nullable().openapi({ description: 'P(no purchase in the next risk_days days): the risk score' }),
  spend: z.number().nullable().openapi({ description: 'Expected value of a purchase (Gamma-Gamma)' }),
  clv: z.number().nullable().openapi({ description: 'Expected revenue over the CLV horizon, discounted' }),
  value_at_risk: z.number().nullable().openapi({ description: 'p_no_purchase × clv' }),
}).openapi('CustomerScore');

const STATUS_FILTER_DEFAULT: Status[] = ['ORDERING', 'AT_RISK', 'STOPPED_ORDERING'];

export function registerCustomerRoutes(app: OpenAPIHono<AppEnv>, deps: { warehouse: Warehouse; now: () => Date }): void {
  const wh = deps.warehouse;
  const stale = async (): Promise<boolean> => (await jobFreshness(wh, 'customers', deps.now(), STALE_HOURS * 3_600_000)).stale;
  const errors = problemResponses('bad_request', 'unauthorized', 'forbidden', 'not_found');

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/customers/at-risk', tags: ['Customers'], security: [{ bearerAuth: [] }],
      summary: 'Customers by value at risk',
      description: 'Customers of the latest customers run, largest expected lost value first (P(no purchase in the next '
        + '`risk_days` days) × CLV), with their rule status, P(alive), expected purchases and CLV. `total` and `value_at_risk` '
        + 'cover every customer matching the filters. Cursor pagination: pass `next_cursor` back as `cursor`.',
      request: {
        query: z.object({
          status: z.string().optional().transform((v, ctx) => {
            if (v === undefined) return STATUS_FILTER_DEFAULT;
            const list = v.split(',').map((s) => s.trim().toUpperCase());
            const bad = list.filter((s) => !(STATUSES as readonly string[]).includes(s));
            if (bad.length) {
              ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${STATUSES.join(', ')}` });
              return z.NEVER;
            }
            return list as Status[];
          }).openapi({ type: 'string', description: `Comma-separated statuses (default: ${STATUS_FILTER_DEFAULT.join(',')})`, example: 'AT_RISK,STOPPED_ORDERING' }),
          min_value: z.coerce.number().min(0).default(0).openapi({ description: 'Only customers with at least this value at risk' }),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(500).optional().transform((v, ctx) => {
            if (v === undefined) return null;
            const c = decodeCursor(v);
            if (!c) {
              ctx.addIssue({ code: 'custom', message: 'is not a cursor this endpoint returned' });
              return z.NEVER;
            }
            return c;
          }).openapi({ type: 'string' }),
          tenant: tenantParam,
          format: csvFormat,
        }),
      },
      responses: jsonOrCsv(z.object({
        tenant: z.string(), run: run.nullable(), stale: z.boolean(), risk_days: z.number().int().nullable(),
        total: z.number().int(), value_at_risk: z.number(), items: z.array(customer), next_cursor: z.string().nullable(),
      }).openapi('CustomersAtRisk'), 'Customers at risk'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
      const [page, isStale] = await Promise.all([
        atRisk(wh, { tenantId, statuses: q.status, minValue: q.min_value, limit: q.limit, cursor: q.cursor }),
        stale(),
      ]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = Object.keys(customer.shape);
        if (page.next_cursor) {
          // The same query, filters and format included, continued after this page.
          const next = new URL(c.req.url);
          next.searchParams.set('cursor', page.next_cursor);
          c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
        }
        return csvResponse(c, 'customers-at-risk', columns, page.items) as never;
      }
      return c.json({ tenant: tenantId, stale: isStale, ...page }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/customers/model', tags: ['Customers'], security: [{ bearerAuth: [] }],
      summary: 'The fitted customer models and how they did on held-out days',
      description: 'BG/NBD (r, α in days, a, b) and Gamma-Gamma (p, q, v) parameters with standard errors and log-likelihoods, '
        + "the store's repurchase gaps behind the rule view, counts by status, total value at risk, and the holdout report: the "
        + 'model fitted on all but the last N days against the purchases that followed (total, by frequency, AUC of the risk score).',
      request: { query: z.object({ tenant: tenantParam }) },
      responses: { 200: { description: 'Customer model', content: { 'application/json': { schema: z.object({
        tenant: z.string(), stale: z.boolean(), run, customers: z.number().int(), time_unit: z.literal('day'), days_per_month: z.number(),
        bgnbd: z.unknown(), gamma_gamma: z.unknown(), settings: z.unknown(), statuses: z.record(z.string(), z.number().int()),
        value_at_risk: z.number(), repurchase_gap_days: z.object({ median: z.number(), p80: z.number(), p95: z.number() }).nullable(),
        holdout: z.unknown(), fit_errors: z.array(z.string()),
      }).openapi('CustomerModel') } } }, ...errors },
    }),
    async (c) => {
      const tenantId = readTenant(c, c.req.valid('query').tenant);
      const [report, isStale] = await Promise.all([modelReport(wh, tenantId), stale()]);
      if (!report) throw new ApiError('not_found', 'The customers job has not run for this tenant yet.');
      return c.json({ tenant: tenantId, stale: isStale, ...report }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/customers/{id}', tags: ['Customers'], security: [{ bearerAuth: [] }],
      summary: 'One customer: history, status, risk and lifetime value',
      description: 'The order history, rule status and expected next order, P(alive), expected purchases, and CLV with a 90% '
        + 'interval carrying the fitted parameters\' uncertainty (delta method on the inverse Hessians).',
      request: { params: z.object({ id: z.string().min(1).max(200) }), query: z.object({ tenant: tenantParam }) },
      responses: { 200: { description: 'Customer', content: { 'application/json': { schema: customer.extend({
        tenant: z.string(), stale: z.boolean(), run, repeat_purchases: z.number().int().nullable(), mean_repeat_value: z.number().nullable(),
        clv_interval: z.object({ lo: z.number(), hi: z.number(), level: z.number(), months: z.number().int() }).nullable(),
        history: z.array(z.object({ order_id: z.string(), created_at: z.string(), status: z.string(), total: z.string(), currency: z.string() })),
      }).openapi('CustomerDetail') } } }, ...errors },
    }),
    async (c) => {
      const tenantId = readTenant(c, c.req.valid('query').tenant);
      const [detail, isStale] = await Promise.all([customerDetail(wh, tenantId, c.req.valid('param').id), stale()]);
      if (!detail) throw new ApiError('not_found', 'No such customer in the latest customers run.');
      return c.json({ tenant: tenantId, stale: isStale, ...detail }, 200);
    },
  );
}
