import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Config } from '../../config.ts';
import { FORECAST_GRANULARITIES, getAccuracy, getForecast } from '../../models/forecast/get-forecast.ts';
import { jobFreshness } from '../../models/kpis/common.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { csvFormat, jsonOrCsv, readTenant, tenantParam } from '../params.ts';

export interface ForecastRouteDeps {
  config: Config;
  warehouse: Warehouse;
  now: () => Date;
}

/** A forecast is stale when the daily job's last run failed or none succeeded in this long. */
const FORECAST_STALE_HOURS = 26;

const currencyParam = z.string().regex(/^[A-Za-z]{3}$/, 'must be a three-letter currency code').transform((v) => v.toUpperCase()).optional()
  .openapi({ description: 'Only this currency (default: every currency the tenant has revenue in).', example: 'USD' });

const intervalSchema = z.object({ lo: z.number(), hi: z.number() }).nullable();
const periodSchema = z.object({
  start: z.string(), end: z.string(), days: z.number().int(), partial: z.boolean(),
  point: z.number().openapi({ description: 'Expected net revenue of the period (currency units), never negative' }),
  intervals: z.record(z.string(), intervalSchema).openapi({ description: 'Per level (percent): prediction interval, null where uncalibrated' }),
});
const freshness = {
  computed_at: z.string().nullable(), stale: z.boolean().openapi({ description: 'True when the last forecast job failed or none succeeded in 26 hours.' }),
};
const forecastResponse = z.object({
  tenant: z.string(), metric: z.literal('revenue_net'), horizon: z.number().int(), granularity: z.enum(FORECAST_GRANULARITIES),
  levels: z.array(z.number().int()), as_of: z.string().nullable(), ...freshness,
  series: z.array(z.object({
    run_id: z.number().int(), currency: z.string().nullable(), last_day: z.string(), model: z.string(), choice: z.string(),
    history_days: z.number().int(),
    backtest: z.object({ scores: z.unknown(), coverage: z.record(z.string(), z.number().nullable()) }),
    params: z.record(z.string(), z.number()),
    periods: z.array(periodSchema),
  })),
}).openapi('RevenueForecast');
const accuracyResponse = z.object({
  tenant: z.string(), metric: z.literal('revenue_net'), ...freshness,
  runs: z.array(z.object({
    run_id: z.number().int(), currency: z.string().nullable(), computed_at: z.string(), model: z.string(), days_compared: z.number().int(),
    mape: z.number().nullable(), mase: z.number().nullable(), coverage: z.record(z.string(), z.number().nullable()),
  })),
}).openapi('ForecastAccuracy');





export function registerForecastRoutes(app: OpenAPIHono<AppEnv>, deps: ForecastRouteDeps): void {
  const { warehouse: wh, config } = deps;
  const stored = config.FORECAST_LEVELS;
  const levelsParam = z.string().default(stored.join(',')).transform((v, ctx) => {
    const levels = v.split(',').map((x) => Number(x.trim()));
    const bad = levels.filter((l) => !stored.includes(l));
    if (bad.length || levels.length === 0) {
      ctx.addIssue({ code: 'custom', message: `must be a comma-separated subset of the stored levels ${stored.join(', ')}` });
      return z.NEVER;
    }
    return [...new Set(levels)].sort((a, b) => a - b);
  }).openapi({ description: `Interval levels in percent, from those the job stores (FORECAST_LEVELS: ${stored.join(', ')}).`, example: '80,95' });

  // Both routes read the same stored series: the same levels, currency, tenant and format, and the same job's freshness.
  const seriesParams = { levels: levelsParam, currency: currencyParam, tenant: tenantParam, format: csvFormat };
  const freshness = () => jobFreshness(wh, 'forecast', deps.now(), FORECAST_STALE_HOURS * 3_600_000);

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/forecasts/revenue', tags: ['Forecasts'], security: [{ bearerAuth: [] }],
      summary: 'Revenue forecast with prediction intervals',
      description: 'Daily net revenue forecast per currency from the latest forecast run: the model its backtest chose, '
        + 'points and intervals by day, ISO week or calendar month (UTC). Daily intervals are the empirical quantiles of the '
        + "model's backtest errors by horizon; weekly and monthly ones are simulated from whole backtest error paths.",
      request: {
        query: z.object({
          horizon: z.coerce.number().int().min(1).max(config.FORECAST_HORIZON_DAYS).default(30)
            .openapi({ description: `Days ahead (1-${config.FORECAST_HORIZON_DAYS}).` }),
          granularity: z.enum(FORECAST_GRANULARITIES).default('day'),
          ...seriesParams,
        }),
      },
      responses: jsonOrCsv(forecastResponse, 'Revenue forecast'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
      const [series, fresh] = await Promise.all([
        getForecast(wh, { tenantId, metric: 'revenue_net', horizon: q.horizon, granularity: q.granularity, levels: q.levels, currency: q.currency }),
        freshness(),
      ]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = ['currency', 'start', 'end', 'days', 'partial', 'point', ...q.levels.flatMap((l) => [`lo${l}`, `hi${l}`]), 'model'];
        const rows = series.flatMap((s) => s.periods.map((p) => ({
          currency: s.currency, start: p.start, end: p.end, days: p.days, partial: p.partial, point: p.point, model: s.model,
          ...Object.fromEntries(q.levels.flatMap((l) => [[`lo${l}`, p.intervals[String(l)]?.lo ?? null], [`hi${l}`, p.intervals[String(l)]?.hi ?? null]])),
        })));
        return csvResponse(c, 'forecast-revenue', columns, rows) as never;
      }
      return c.json({
        tenant: tenantId, metric: 'revenue_net' as const, horizon: q.horizon, granularity: q.granularity, levels: q.levels,
        as_of: series[0]?.as_of ?? null, ...fresh,
        series: series.map(({ computed_at: _c, as_of: _a, ...s }) => s),
      }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/forecasts/revenue/accuracy', tags: ['Forecasts'], security: [{ bearerAuth: [] }],
      summary: 'How past revenue forecasts did',
      description: 'Past forecast runs, newest first, scored against the daily net revenue that has arrived since: MAPE, '
        + 'MASE (scaled by the in-sample seasonal naive error of the history the run saw) and interval coverage.',
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(366).default(30),
          ...seriesParams,
        }),
      },
      responses: jsonOrCsv(accuracyResponse, 'Forecast accuracy by run'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
      const [runs, fresh] = await Promise.all([
        getAccuracy(wh, { tenantId, metric: 'revenue_net', currency: q.currency, limit: q.limit, levels: q.levels }),
        freshness(),
      ]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = ['run_id', 'currency', 'computed_at', 'model', 'days_compared', 'mape', 'mase', ...q.levels.map((l) => `coverage${l}`)];
        const rows = runs.map((r) => ({ ...r, ...Object.fromEntries(q.levels.map((l) => [`coverage${l}`, r.coverage[String(l)] ?? null])) }));
        return csvResponse(c, 'forecast-accuracy', columns, rows) as never;
      }
      return c.json({ tenant: tenantId, metric: 'revenue_net' as const, ...fresh, runs }, 200);
    },
  );
}
