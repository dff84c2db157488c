import type { DuckDBConnection } from '@duckdb/node-api';
import { all, type Warehouse } from '../../warehouse/warehouse.ts';
import { kpiCache } from './cache.ts';
import { rebuildPayingAll, refreshPaying } from './paying.ts';

/**
 * KPI rollups: 15-minute UTC buckets per tenant (and currency / product / customer where a metric
 * needs it). The ingest marks `(tenant_id, day)` in `dirty_days` in the same transaction as the facts;
 * a refresh recomputes the rollup rows of exactly those UTC days from the facts, so a late update, a
 * status change or a delete lands in the right bucket without rescanning history.
 */

/** One fact rollup: `select` gets a join/filter clause restricting facts to the days being rebuilt. */
interface FactRollup {
  table: string;
  /** SELECT producing the rollup's columns in order; `{scope}` is replaced by the day filter on alias f. */
  select: (scope: string) => string;
  /** The fact's timestamp column (alias f), used for the day filter. */
  tsColumn: string;
}

const B = (col: string) => `time_bucket(INTERVAL 15 MINUTE, f.${col})`;

const ROLLUPS: FactRollup[] = [
  {
    table: 'kpi_payments_15m',
    tsColumn: 'created_at',
    select: (scope) => `
      SELECT f.tenant_id, ${B('created_at')} AS bucket, f.currency,
        count(*) FILTER (WHERE f.status = 'succeeded'), count(*) FILTER (WHERE f.status = 'refunded'),
        count(*) FILTER (WHERE f.status = 'failed'), count(*) FILTER (WHERE f.status = 'pending'),
        coalesce(sum(f.amount) FILTER (WHERE f.status IN ('succeeded', 'refunded')), 0),
        coalesce(sum(f.refunded_amount) FILTER (WHERE f.status IN ('succeeded', 'refunded')), 0)
      FROM payments f ${scope} GROUP BY ALL`,
  },
  {
    table: 'kpi_orders_15m',
    tsColumn: 'created_at',
    select: (scope) => `
      SELECT f.tenant_id, ${B('created_at')} AS bucket, f.currency, count(*), sum(f.total)
      FROM orders f ${scope} AND f.status IN ('paid', 'fulfilled', 'refunded') GROUP BY ALL`,
  },
  {
    table: 'kpi_page_views_15m',
    tsColumn: 'ts',
    select: (scope) => `SELECT f.tenant_id, ${B('ts')} AS bucket, sum(f.views) FROM page_views f ${scope} GROUP BY ALL`,
  },
  {
    table: 'kpi_product_events_15m',
    tsColumn: 'ts',
    select: (scope) => `
      SELECT f.tenant_id, ${B('ts')} AS bucket, f.product_id, sum(f.views), sum(f.cart_adds), sum(f.sales)
      FROM product_events f ${scope} GROUP BY ALL`,
  },
  {
    table: 'kpi_product_payments_15m',
    tsColumn: 'created_at',
    select: (scope) => `
      SELECT f.tenant_id, ${B('created_at')} AS bucket, f.product_id, f.currency, count(*), sum(f.amount), sum(f.refunded_amount)
      FROM payments f ${scope} AND f.status IN ('succeeded', 'refunded') AND f.product_id IS NOT NULL GROUP BY ALL`,
  },
  {
    table: 'kpi_customer_15m',
    tsColumn: 'created_at',
    select: (scope) => `
      SELECT f.tenant_id, ${B('created_at')} AS bucket, f.customer_id, f.currency, count(*), sum(f.amount), sum(f.refunded_amount)
      FROM payments f ${scope} AND f.status IN ('succeeded', 'refunded') GROUP BY ALL`,
  },
];

/** Every table the refresh owns, for a full rebuild. */
const ALL_TABLES = [...ROLLUPS.map((r) => r.table), 'kpi_subscription_events'];

/**
 * Above this share of a history's days dirty, recomputing the dirty days costs as much as the full
 * rebuild (both read nearly every fact) plus the deletes, so the full rebuild runs instead. A random
 * 1% change spread over the history dirties every day.
 */
const FULL_REBUILD_SHARE = 0.25;

export interface RefreshOptions {
  /** Rebuild everything from the facts (also done automatically when no refresh ever ran). */
  full?: boolean;
  /** Clock for `computed_at` (tests). */
  now?: () => Date;
}

export interface RefreshResult {
  /** (tenant, UTC day) pairs recomputed. */
  days: number;
  computedAt: string;
}

/**
 * Recomputes the rollups of the days listed in `dirty_days` (or everything when `full`, or when the
 * rollups were never computed), clears those dirty rows and records `computed_at` and `as_of`, all in
 * one writer transaction: readers see either the old rollups or the new ones, never a mix.
 */
export async function refreshRollups(wh: Warehouse, opts: RefreshOptions = {}): Promise<RefreshResult> {
  const computedAt = (opts.now?.() ?? new Date()).toISOString();
  const out = await wh.transaction(async (conn) => {
    const state = await all<{ n: string }>(conn, 'SELECT count(*) AS n FROM kpi_rollup_state');
    const full = opts.full === true || Number(state[0]?.n ?? 0) === 0 || (await mostlyDirty(conn));
    const days = full ? await rebuildAll(conn) : await rebuildDirty(conn);
    await rebuildSubscriptionEvents(conn);
    await conn.run(`DELETE FROM kpi_rollup_state`);
    await conn.run(
      `INSERT INTO kpi_rollup_state
       SELECT 1, $computed::TIMESTAMP, (SELECT max(watermark_ts) FROM ingest_state), $days, $full`,
      { computed: computedAt.replace('T', ' ').replace('Z', ''), days, full },
    );
    return { days, computedAt };
  });
  // After COMMIT: responses cached from the previous rollups must not be served again.
  kpiCache.invalidate();
  return out;
}

async function mostlyDirty(conn: DuckDBConnection): Promise<boolean> {
  const [r] = await all<{ dirty: string; total: string }>(conn, `
    SELECT (SELECT count(*) FROM (SELECT DISTINCT tenant_id, day FROM dirty_days)) AS dirty,
           (SELECT count(*) FROM (SELECT DISTINCT tenant_id, bucket::DATE FROM kpi_payments_15m)) AS total`);
  const dirty = Number(r?.dirty ?? 0);
  return dirty > 0 && dirty >= FULL_REBUILD_SHARE * Number(r?.total ?? 0);
}

async function rebuildAll(conn: DuckDBConnection): Promise<number> {
  for (const t of ALL_TABLES) await conn.run(`DELETE FROM ${t}`);
  // Sorted by (tenant, bucket): range queries then skip row groups by their min/max bucket.
  for (const r of ROLLUPS) await conn.run(`INSERT INTO ${r.table} ${r.select('WHERE TRUE')} ORDER BY 1, 2`);
  await rebuildPayingAll(conn);
  // Everything is clean now, including days marked while nothing had been computed yet.
  await conn.run('DELETE FROM dirty_days');
  const n = await all<{ n: string }>(conn, `
    SELECT count(*) AS n FROM (
      SELECT tenant_id, CAST(bucket AS DATE) FROM kpi_payments_15m UNION
      SELECT tenant_id, CAST(bucket AS DATE) FROM kpi_orders_15m UNION
      SELECT tenant_id, CAST(bucket AS DATE) FROM kpi_page_views_15m UNION
      SELECT tenant_id, CAST(bucket AS DATE) FROM kpi_product_events_15m)`);
  return Number(n[0]?.n ?? 0);
}

async function rebuildDirty(conn: DuckDBConnection): Promise<number> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_dirty AS SELECT DISTINCT tenant_id, day FROM dirty_days`);
  try {
    const cnt = await all<{ n: string; lo: string | null; hi: string | null }>(
      conn, `SELECT count(*) AS n, min(day)::VARCHAR AS lo, (max(day) + 1)::VARCHAR AS hi FROM _kpi_dirty`);
    const n = Number(cnt[0]?.n ?? 0);
    if (n === 0) return 0;
    // The explicit [lo, hi) range lets DuckDB skip row groups by zone map before the semi-join.
    const lo = cnt[0]!.lo!;
    const hi = cnt[0]!.hi!;
    const scope = (col: string) =>
      `WHERE f.${col} >= DATE '${lo}' AND f.${col} < DATE '${hi}'
         AND EXISTS (SELECT 1 FROM _kpi_dirty d WHERE d.tenant_id = f.tenant_id AND d.day = CAST(f.${col} AS DATE))`;
    const inDirty = (t: string) =>
      `${t}.bucket >= DATE '${lo}' AND ${t}.bucket < DATE '${hi}'
         AND EXISTS (SELECT 1 FROM _kpi_dirty d WHERE d.tenant_id = ${t}.tenant_id AND d.day = CAST(${t}.bucket AS DATE))`;

    // Customers whose paying rows may change: those with rollup rows on a dirty day, before and after.
    await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_touched AS
      SELECT DISTINCT tenant_id, customer_id FROM kpi_customer_15m c WHERE customer_id IS NOT NULL AND ${inDirty('c')}`);
    for (const r of ROLLUPS) {
      await conn.run(`DELETE FROM ${r.table} t WHERE ${inDirty('t')}`);
      await conn.run(`INSERT INTO ${r.table} ${r.select(scope(r.tsColumn))}`);
    }
    await conn.run(`INSERT INTO _kpi_touched
      SELECT DISTINCT tenant_id, customer_id FROM kpi_customer_15m c WHERE customer_id IS NOT NULL AND ${inDirty('c')}`);
    await refreshPaying(conn);
    await conn.run(`DELETE FROM dirty_days dd
      WHERE EXISTS (SELECT 1 FROM _kpi_dirty d WHERE d.tenant_id = dd.tenant_id AND d.day = dd.day)`);
    return n;
  } finally {
    await conn.run('DROP TABLE IF EXISTS _kpi_dirty');
    await conn.run('DROP TABLE IF EXISTS _kpi_touched');
  }
}

/**
 * Subscriptions as signed events. A subscription counts toward MRR at t when started_at <= t, it is
 * not cancelled by t (cancelled_at null or > t) and its status is not trialing/paused: +amount at
 * started_at, −amount at cancelled_at, so MRR(t) = Σ mrr_delta over ts <= t. One that was cancelled
 * before (or when) it started is never active and emits no MRR events. Every cancellation also counts
 * once in `cancels` at cancelled_at (the churn numerator).
 */
async function rebuildSubscriptionEvents(conn: DuckDBConnection): Promise<void> {
  await conn.run('DELETE FROM kpi_subscription_events');
  await conn.run(`
    INSERT INTO kpi_subscription_events
    WITH eligible AS (
      SELECT tenant_id, started_at, cancelled_at, currency, coalesce(monthly_amount, 0) AS amount
      FROM subscriptions
      WHERE started_at IS NOT NULL AND status NOT IN ('trialing', 'paused')
        AND (cancelled_at IS NULL OR cancelled_at > started_at)),
    ev AS (
      SELECT tenant_id, started_at AS ts, currency, amount AS mrr_delta, 1 AS active_delta, 0 AS cancels FROM eligible
      UNION ALL
      SELECT tenant_id, cancelled_at, currency, -amount, -1, 0 FROM eligible WHERE cancelled_at IS NOT NULL
      UNION ALL
      SELECT tenant_id, cancelled_at, currency, 0, 0, 1 FROM subscriptions WHERE cancelled_at IS NOT NULL)
    SELECT tenant_id, ts, currency, sum(mrr_delta), sum(active_delta), sum(cancels) FROM ev GROUP BY ALL`);
}
