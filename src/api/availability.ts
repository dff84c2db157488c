import type { OpenAPIHono } from '@hono/zod-openapi';
import { type Analysis, type Availability, capabilities } from '../ingest/capabilities.ts';
import { configuredProfile } from '../ingest/profile.ts';
import type { Config } from '../config.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

/** The analysis each route serves. A route of an analysis the profile cannot support answers 404 not_applicable. */
const ROUTE_ANALYSES: [path: string, analysis: Analysis][] = [
  ['/v1/kpis/summary', 'kpis'], ['/v1/kpis/timeseries', 'kpis'], ['/v1/kpis/funnel', 'funnel'],
  ['/v1/kpis/products', 'products'], ['/v1/kpis/countries', 'countries'], ['/v1/kpis/ai-vs-admin', 'closers'],
  ['/v1/forecasts/*', 'forecasts'], ['/v1/pricing/*', 'pricing'], ['/v1/experiments', 'experiments'],
  ['/v1/experiments/*', 'experiments'], ['/v1/customers/*', 'customers'],
];

/** Summary and time-series metrics that need more than orders and payments. */
export const METRIC_ANALYSES = {
  mrr: 'subscriptions', arr: 'subscriptions', subscription_churn: 'subscriptions', page_views: 'funnel', conversion_rate: 'funnel',
} as const satisfies Record<string, Analysis>;
export type OptionalMetric = keyof typeof METRIC_ANALYSES;

export type Capabilities = Record<Analysis, Availability>;

export function configuredCapabilities(config: Config): Capabilities {
  return capabilities(configuredProfile(config));
}

/** The optional metrics this profile cannot compute, with the reason. */
export function unavailableMetrics(caps: Capabilities): Partial<Record<OptionalMetric, string>> {
  const out: Partial<Record<OptionalMetric, string>> = {};
  for (const [metric, analysis] of Object.entries(METRIC_ANALYSES) as [OptionalMetric, Analysis][]) {
    const a = caps[analysis];
    if (!a.available) out[metric] = a.reason;
  }
  return out;
}

/** Registers, after authentication, the guard of every route whose analysis the profile lacks. */
export function guardRoutes(app: OpenAPIHono<AppEnv>, caps: Capabilities): void {
  for (const [path, analysis] of ROUTE_ANALYSES) {
    const a = caps[analysis];
    if (a.available) continue;
    app.use(path, async () => {
      throw new ApiError('not_applicable', a.reason);
    });
  }
}
