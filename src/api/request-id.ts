import { randomUUID } from 'node:crypto';

/** Accepts a caller's X-Request-Id when it is short and plain (it lands in logs), else makes one. */
export function requestIdFrom(header: string | undefined): string {
  return header && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
}
