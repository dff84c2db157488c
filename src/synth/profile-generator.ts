import type pg from 'pg';

/**
 * What every profile's synthetic generator takes and returns, so the demo, the tests and the bench
 * drive any profile the same way. A generator fills a database that already holds the profile's
 * fixture schema (test/fixtures/schemas/<profile>.sql), deterministically from `seed`.
 */
export interface ProfileGenerateOptions {
  seed?: number;
  /** Target number of orders (the profile's "orders": bookings, service orders, ...) over all tenants. */
  orders?: number;
  /** History length in days. */
  days?: number;
  /** Exclusive end of history (UTC midnight); default: today's UTC midnight. */
  end?: Date;
  /** Tenants to generate (multi-tenant profiles only; ignored by the others). */
  tenants?: number;
}

/** The true rates of one kind of closer, as the generator drew its outcomes. */
export interface CloserTruth {
  /** P(a conversation handled by this closer ends in an order); null where the source has no conversations. */
  conversion: number | null;
  /** Mean order value (in the profile's currency) of the orders this closer closes. */
  aov: number;
}

/** Ground truth every generator reports; profile-specific facts go in `extra`. Times are ISO-8601 UTC. */
export interface ProfileTruth {
  generator: string;
  seed: number;
  start: string;
  end: string;
  currency: string;
  /** Tenant ids as the canonical tables will carry them (one for single-tenant profiles). */
  tenants: string[];
  /** Orders written (all statuses). */
  orders: number;
  closers?: { ai: CloserTruth; human: CloserTruth };
  extra?: Record<string, unknown>;
}

export type ProfileGenerator = (client: pg.ClientBase, opts: ProfileGenerateOptions) => Promise<ProfileTruth>;
