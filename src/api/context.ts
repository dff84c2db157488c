import type { Principal } from './auth.ts';

/** Per-request values the middleware sets for handlers (typed, no module singletons). */
export interface AppEnv {
  Variables: {
    requestId: string;
    principal?: Principal;
    /** Tenant the request was answered for, for the request log line. */
    tenantId?: string;
  };
}
