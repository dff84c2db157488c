import { STRIPE_SOURCE_PREFIX, stripeSource } from '../../ingest/stripe/sync.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import { isoFromSql } from './common.ts';

export interface SourceUse {
  source: string;
  /** The source's watermark for the entity: the newest change read from it. */
  as_of: string | null;
}

/** Which sources fed a tenant's payment and subscription KPIs, Stripe first (it wins a duplicate). */
export interface KpiSources {
  payments: SourceUse[];
  subscriptions: SourceUse[];
}

/**
 * The sources the payment metrics (revenue, refunds, payment success, paying and new customers) and
 * subscription metrics (MRR, ARR, churn) of a tenant draw on: the database profile's, and Stripe
 * once a Stripe sync has run for the tenant. Read from ingest_state, a table of a few rows.
 */
export async function getKpiSources(wh: Warehouse, tenantId: string): Promise<KpiSources> {
  const rows = await wh.query<{ source: string; entity: string; wm: string | null }>(`
    SELECT source, entity, watermark_ts::VARCHAR AS wm FROM ingest_state
    WHERE entity IN ('payments', 'subscriptions') AND (NOT starts_with(source, $prefix) OR source = $stripe)
    ORDER BY starts_with(source, $prefix) DESC, source`, { prefix: STRIPE_SOURCE_PREFIX, stripe: stripeSource(tenantId) });
  const of = (entity: string) => rows.filter((r) => r.entity === entity)
    .map((r) => ({ source: r.source.startsWith(STRIPE_SOURCE_PREFIX) ? 'stripe' : r.source, as_of: isoFromSql(r.wm) }));
  return { payments: of('payments'), subscriptions: of('subscriptions') };
}
