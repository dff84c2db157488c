import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import { matchedRoutes } from 'hono/route';
import type pg from 'pg';
import type { Logger } from 'pino';
import { Histogram, type Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { bearerAuth } from './auth.ts';
import { type Capabilities, configuredCapabilities, guardRoutes, unavailableMetrics } from './availability.ts';
import type { AppEnv } from './context.ts';
import { scalarBundle } from './docs.ts';
import { ApiError, problemResponse, renderError } from './errors.ts';
import { requestIdFrom } from './request-id.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { KpiCache } from '../models/kpis/cache.ts';
import { registerCloserRoutes } from './routes/closers.ts';
import { registerCustomerRoutes } from './routes/customers.ts';
import { registerExperimentRoutes } from './routes/experiments.ts';
import { registerForecastRoutes } from './routes/forecasts.ts';
import { registerKpiRoutes } from './routes/kpis.ts';
import { registerPricingRoutes } from './routes/pricing.ts';

export interface AppDeps {
  config: Config;
  warehouse: Warehouse;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
  /** Response cache for summary and timeseries (a fresh one per app unless given; pass a disabled one to measure). */
  cache?: KpiCache;
  readiness?: () => Promise<{ ready: boolean; detail?: Record<string, unknown> }>;
  /** What the configured profile supports (default: derived from its SQL files and manifest). */
  capabilities?: Capabilities;
  /** The source database, for price write-back (POST /v1/pricing/apply answers 503 without it). */
  source?: pg.Pool;
}

const DURATION_METRIC = 'http_request_duration_seconds';

/** One histogram per registry, even when several apps share it (tests build many). */
function durationHistogram(registry: Registry): Histogram<'route' | 'method' | 'status'> {
  const existing = registry.getSingleMetric(DURATION_METRIC);
  if (existing) return existing as Histogram<'route' | 'method' | 'status'>;
  return new Histogram({
    name: DURATION_METRIC,
    help: 'HTTP request duration in seconds, by matched route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
}

/**
 * Builds the API: every route and the OpenAPI document are registered here, before the first
 * request. Services arrive in `deps`; nothing is read from module state or the environment.
 */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const now = deps.now ?? (() => new Date());
  const { logger } = deps;
  const histogram = durationHistogram(deps.registry);

  const app = new OpenAPIHono<AppEnv>({
    // A query parameter that fails its schema is a 400 naming it, never a 500.
    defaultHook: (result, c) => {
      if (result.success) return;
      // A body field is named by its whole path (items.2.price); a query parameter by its name.
      const body = result.target === 'json';
      const invalid = result.error.issues.map((i) => ({ name: body ? i.path.join('.') || '(body)' : String(i.path[0] ?? result.target), reason: i.message }));
      const detail = invalid.map((p) => `${body ? 'body field' : 'query parameter'} "${p.name}": ${p.reason}`).join('; ');
      return problemResponse(c, 'bad_request', detail, invalid);
    },
  });

  // Request id, then one wide log line and one histogram observation per request.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdFrom(c.req.header('x-request-id'));
    c.set('requestId', requestId);
    await next();
    c.res.headers.set('X-Request-Id', requestId);
    const seconds = (performance.now() - started) / 1000;
    // Label by the matched pattern (not the raw path) so label cardinality stays bounded.
    const route = matchedRoutes(c).filter((r) => r.method !== 'ALL').at(-1)?.path ?? 'unmatched';
    histogram.observe({ route, method: c.req.method, status: String(c.res.status) }, seconds);
    const principal = c.get('principal');
    // Headers are never logged: the Authorization header must not reach the logs.
    logger.info({
      request_id: requestId, method: c.req.method, path: c.req.path, route, status: c.res.status,
      duration_ms: Math.round(seconds * 10_000) / 10, key_id: principal?.keyId, tenant: c.get('tenantId'),
    }, 'request');
  });

  app.use('/v1/*', bearerAuth(deps.config.API_KEYS));
  const caps = deps.capabilities ?? configuredCapabilities(deps.config);
  guardRoutes(app, caps);

  registerHealthRoutes(app, { warehouse: deps.warehouse, registry: deps.registry, readiness: deps.readiness });
  const cache = deps.cache ?? new KpiCache();
  registerKpiRoutes(app, { config: deps.config, warehouse: deps.warehouse, now, cache, unavailable: unavailableMetrics(caps) });
  const conversations = caps.conversations;
  registerCloserRoutes(app, { config: deps.config, warehouse: deps.warehouse, now, cache, noConversations: conversations.available ? null : conversations.reason });
  registerForecastRoutes(app, { config: deps.config, warehouse: deps.warehouse, now });
  registerPricingRoutes(app, { config: deps.config, warehouse: deps.warehouse, source: deps.source });
  registerExperimentRoutes(app, { warehouse: deps.warehouse, now });
  registerCustomerRoutes(app, { warehouse: deps.warehouse, now });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http', scheme: 'bearer', description: 'API key issued with `pricecast keygen`; stored hashed (SHA-256).',
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'pricecast API',
      version: '1',
      description: 'KPIs from rollups of the commerce warehouse. Errors are RFC 9457 problem+json. Money is a decimal string with its currency.',
    },
  });

  app.get('/docs/scalar.js', (c) => {
    const bundle = scalarBundle();
    if (!bundle) throw new ApiError('not_found', 'The API reference bundle (@scalar/api-reference) is not installed.');
    return c.body(new Uint8Array(bundle), 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=86400' });
  });
  app.get('/docs', Scalar({ url: '/openapi.json', cdn: '/docs/scalar.js', pageTitle: 'pricecast API' }));

  app.notFound((c) => problemResponse(c, 'not_found', `No route for ${c.req.method} ${c.req.path}.`));
  app.onError((err, c) => renderError(err, c, logger));
  return app;
}
