import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { hashApiKey } from '../api-keys.ts';
import type { ApiKeyEntry, Scope } from '../config.ts';
import type { AppEnv } from './context.ts';
import { ApiError } from './errors.ts';

/** Who is calling: the tenant and scopes of the matched key (never the key itself). */
export interface Principal {
  tenantId: string;
  scopes: readonly Scope[];
  /** First 12 hex digits of the key's SHA-256: enough to tell keys apart in logs, useless to an attacker. */
  keyId: string;
}

const REALM = 'Bearer realm="pricecast"';

interface StoredKey {
  digest: Buffer;
  entry: ApiKeyEntry;
}

/**
 * Finds the key whose stored SHA-256 matches `presented`. Every entry is compared with
 * timingSafeEqual on equal-length digests and the loop never exits early, so timing reveals neither
 * which entry matched nor how much of a hash did.
 */
export function matchApiKey(presented: string, keys: readonly { digest: Buffer; entry: ApiKeyEntry }[]): ApiKeyEntry | undefined {
  const digest = Buffer.from(hashApiKey(presented), 'hex');
  let found: ApiKeyEntry | undefined;
  for (const k of keys) {
    if (timingSafeEqual(digest, k.digest) && !found) found = k.entry;
  }
  return found;
}

/** Middleware: `Authorization: Bearer <key>` → principal, or a 401 carrying WWW-Authenticate. */
export function bearerAuth(keys: readonly ApiKeyEntry[]): MiddlewareHandler<AppEnv> {
  const stored: StoredKey[] = keys.map((entry) => ({ digest: Buffer.from(entry.hash, 'hex'), entry }));
  return async (c, next) => {
    const header = c.req.header('authorization');
    const m = header ? /^Bearer\s+([^\s]+)\s*$/i.exec(header) : null;
    if (!m) {
      throw new ApiError('unauthorized', 'An API key is required: send "Authorization: Bearer <key>".', { headers: { 'WWW-Authenticate': REALM } });
    }
    const entry = matchApiKey(m[1]!, stored);
    if (!entry) {
      throw new ApiError('unauthorized', 'The API key is not valid.', {
        headers: { 'WWW-Authenticate': `${REALM}, error="invalid_token", error_description="unknown API key"` },
      });
    }
    c.set('principal', { tenantId: entry.tenantId, scopes: entry.scopes, keyId: entry.hash.slice(0, 12) });
    await next();
  };
}

/** 403 unless the principal holds `scope` (admin holds every scope). */
export function requireScope(p: Principal | undefined, scope: Scope): Principal {
  if (!p) throw new ApiError('unauthorized', 'An API key is required.', { headers: { 'WWW-Authenticate': REALM } });
  if (!p.scopes.includes(scope) && !p.scopes.includes('admin')) {
    throw new ApiError('forbidden', `This API key lacks the "${scope}" scope.`, {
      headers: { 'WWW-Authenticate': `${REALM}, error="insufficient_scope", scope="${scope}"` },
    });
  }
  return p;
}

/**
 * The tenant a request reads. Without `requested` it is the key's own tenant. A non-admin key naming
 * another tenant gets the same 404 as a tenant that does not exist, so tenant names never leak.
 */
export function resolveTenant(p: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === p.tenantId) return p.tenantId;
  if (p.scopes.includes('admin')) return requested;
  throw new ApiError('not_found', `no such tenant: ${requested}`);
}
