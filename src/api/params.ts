import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireScope, resolveTenant } from './auth.ts';
import type { AppEnv } from './context.ts';
import { problemResponses } from './errors.ts';

/** Query parameters every area's routes share. */

export const tenantParam = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -').optional()
  .openapi({ description: "Tenant to read; defaults to the key's own. Only admin keys may read another tenant." });

export const csvFormat = z.enum(['json', 'csv']).optional()
  .openapi({ description: 'Response format; `Accept: text/csv` also selects CSV.' });

/** The tenant a read request is for (its key's own, or one an admin key names), recorded for the request log. */
export function readTenant(c: Context<AppEnv>, tenant: string | undefined): string {
  const tenantId = resolveTenant(requireScope(c.get('principal'), 'read'), tenant);
  c.set('tenantId', tenantId);
  return tenantId;
}

/** Responses of a read route that answers JSON or CSV, with the problems every read route can give. */
export const jsonOrCsv = <T extends z.ZodType>(schema: T, description: string) => ({
  200: {
    description,
    content: {
      'application/json': { schema },
      'text/csv': { schema: z.string().openapi({ description: 'RFC 4180 CSV with a header row' }) },
    },
  },
  ...problemResponses('bad_request', 'unauthorized', 'forbidden', 'not_found'),
});
