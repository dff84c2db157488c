import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';

export interface HealthRouteDeps {
  warehouse: Warehouse;
  registry: Registry;
  readiness?: () => Promise<{ ready: boolean; detail?: Record<string, unknown> }>;
}

export const readinessSchema = z.object({
  ready: z.boolean(),
  checks: z.object({
    warehouse: z.object({ ok: z.boolean(), error: z.string().optional() }),
    dependencies: z.object({ ok: z.boolean(), detail: z.record(z.string(), z.unknown()).optional(), error: z.string().optional() }),
  }),
}).openapi('Readiness');

/** /healthz (the process answers), /readyz (warehouse and dependencies answer), /metrics (Prometheus). */
export function registerHealthRoutes(app: OpenAPIHono<AppEnv>, deps: HealthRouteDeps): void {
  app.openapi(
    createRoute({
      method: 'get', path: '/healthz', tags: ['Operations'], summary: 'Liveness: the process is up',
      responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/readyz', tags: ['Operations'], summary: 'Readiness: the warehouse answers and dependencies are ready',
      responses: {
        200: { description: 'Ready', content: { 'application/json': { schema: readinessSchema } } },
        503: { description: 'Not ready', content: { 'application/json': { schema: readinessSchema } } },
      },
    }),
    async (c) => {
      const [warehouse, dependencies] = await Promise.all([
        deps.warehouse.query('SELECT 1 AS ok').then(() => ({ ok: true }), (err: Error) => ({ ok: false, error: err.message })),
        (deps.readiness ?? (async (): Promise<{ ready: boolean; detail?: Record<string, unknown> }> => ({ ready: true })))().then(
          (r) => ({ ok: r.ready, ...(r.detail ? { detail: r.detail } : {}) }),
          (err: Error) => ({ ok: false, error: err.message }),
        ),
      ]);
      const ready = warehouse.ok && dependencies.ok;
      const body = { ready, checks: { warehouse, dependencies } };
      return ready ? c.json(body, 200) : c.json(body, 503);
    },
  );

  // Plain route: the exposition format is text and the document need not describe it.
  app.get('/metrics', async (c) => c.body(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType }));
}
