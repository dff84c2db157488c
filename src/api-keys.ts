import { createHash, randomBytes } from 'node:crypto';
import { SCOPES, type Scope } from './config.ts';

/** SHA-256 hex of a key: the only form a key is stored or configured in. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A new random key and the `API_KEYS` entry that grants it `scopes` on `tenantId`. */
export function generateApiKey(tenantId: string, scopes: Scope[] = ['read']): { key: string; entry: string } {
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`unknown scope(s): ${unknown.join(', ')}`);
  const key = `pc_${randomBytes(24).toString('base64url')}`;
  return { key, entry: `${hashApiKey(key)}:${tenantId}:${scopes.join('+')}` };
}
