import type { DuckDBConnection } from '@duckdb/node-api';
import { fingerprintFromHexSql, keyHashSql } from '../ingest/row-hash.ts';

/** Fills kpi_subscription_days from kpi_subscription_events (also run by every rebuild of the events). */
export const SUBSCRIPTION_DAYS_SQL = `INSERT INTO kpi_subscription_days
  SELECT tenant_id, currency, d, sum(m) OVER w, sum(a) OVER w, sum(c) OVER w FROM (
    SELECT tenant_id, currency, ts::DATE AS d, sum(mrr_delta) AS m, sum(active_delta) AS a, sum(cancels) AS c
    FROM kpi_subscription_events GROUP BY ALL)
  WINDOW w AS (PARTITION BY tenant_id, currency ORDER BY d ROWS UNBOUNDED PRECEDING)
  ORDER BY tenant_id, d`;

/** The canonical tables and their keys (after tenant_id) as of migration 6, frozen with it. */
const KEYS_V6: Record<string, string[]> = {
  customers: ['customer_id'], products: ['product_id'], orders: ['order_id'], order_items: ['order_id', 'line_no'],
  payments: ['payment_id'], subscriptions: ['subscription_id'], page_views: ['page_view_id'], product_events: ['event_id'],
  experiments: ['experiment_id'], experiment_units: ['experiment_id', 'unit_id'], conversations: ['conversation_id'],
};

/**
 * Versioned, append-only migrations. Canonical tables have no PRIMARY KEY constraint on purpose:
 * DuckDB's ART index costs memory per row and INSERT OR REPLACE is slow on big batches, so the
 * loader keeps keys unique itself (delete-then-insert inside one transaction).
 * `_hash` is the md5 of the source row as the profile returned it: reconciliation compares it to
 * find rows that changed at a source that has no updated_at column.
 */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'canonical tables and bookkeeping',
    sql: `
CREATE TABLE customers (
  tenant_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, email VARCHAR, country VARCHAR,
  segment VARCHAR, raw_segment VARCHAR, lead_score DOUBLE,
  created_at TIMESTAMP, updated_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE products (
  tenant_id VARCHAR NOT NULL, product_id VARCHAR NOT NULL, name VARCHAR, category VARCHAR,
  base_price DECIMAL(18,2), base_cost DECIMAL(18,2), current_price DECIMAL(18,2), currency VARCHAR,
  inventory INTEGER, reorder_point INTEGER, active BOOLEAN, pricing_factors JSON,
  last_price_update TIMESTAMP, created_at TIMESTAMP, updated_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE orders (
  tenant_id VARCHAR NOT NULL, order_id VARCHAR NOT NULL, customer_id VARCHAR,
  status VARCHAR NOT NULL, raw_status VARCHAR, total DECIMAL(18,2) NOT NULL, currency VARCHAR NOT NULL,
  channel VARCHAR, closed_by VARCHAR, conversation_id VARCHAR,
  created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE order_items (
  tenant_id VARCHAR NOT NULL, order_id VARCHAR NOT NULL, line_no INTEGER NOT NULL, product_id VARCHAR,
  quantity INTEGER NOT NULL, unit_price DECIMAL(18,2) NOT NULL, created_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE payments (
  tenant_id VARCHAR NOT NULL, payment_id VARCHAR NOT NULL, source VARCHAR NOT NULL, external_id VARCHAR,
  order_id VARCHAR, customer_id VARCHAR, product_id VARCHAR,
  amount DECIMAL(18,2) NOT NULL, currency VARCHAR NOT NULL, status VARCHAR NOT NULL, raw_status VARCHAR,
  refunded_amount DECIMAL(18,2) NOT NULL DEFAULT 0, created_at TIMESTAMP NOT NULL, completed_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE subscriptions (
  tenant_id VARCHAR NOT NULL, subscription_id VARCHAR NOT NULL, customer_id VARCHAR, plan_id VARCHAR,
  plan_name VARCHAR, monthly_amount DECIMAL(18,2), currency VARCHAR, status VARCHAR, raw_status VARCHAR,
  started_at TIMESTAMP, current_period_end TIMESTAMP, cancelled_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE page_views (
  tenant_id VARCHAR NOT NULL, page_view_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, page VARCHAR,
  user_id VARCHAR, product_id VARCHAR, views INTEGER NOT NULL, _hash VARCHAR);
CREATE TABLE product_events (
  tenant_id VARCHAR NOT NULL, event_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, product_id VARCHAR,
  views INTEGER NOT NULL, cart_adds INTEGER NOT NULL, sales INTEGER NOT NULL, _hash VARCHAR);
CREATE TABLE experiments (
  tenant_id VARCHAR NOT NULL, experiment_id VARCHAR NOT NULL, name VARCHAR, metric VARCHAR,
  status VARCHAR, raw_status VARCHAR, variants JSON, started_at TIMESTAMP, _hash VARCHAR);
CREATE TABLE experiment_units (
  tenant_id VARCHAR NOT NULL, experiment_id VARCHAR NOT NULL, unit_id VARCHAR NOT NULL, variant VARCHAR NOT NULL,
  converted BOOLEAN, revenue DECIMAL(18,2), ts TIMESTAMP, _hash VARCHAR);
CREATE TABLE conversations (
  tenant_id VARCHAR NOT NULL, conversation_id VARCHAR NOT NULL, customer_id VARCHAR, channel VARCHAR,
  handled_by VARCHAR, started_at TIMESTAMP, first_response_at TIMESTAMP, escalated BOOLEAN, _hash VARCHAR);

CREATE TABLE ingest_state (
  source VARCHAR NOT NULL, entity VARCHAR NOT NULL, watermark_ts TIMESTAMP,
  updated_at TIMESTAMP, reconciled_at TIMESTAMP, PRIMARY KEY (source, entity));
CREATE SEQUENCE rejected_rows_seq;
CREATE TABLE rejected_rows (
  id BIGINT DEFAULT nextval('rejected_rows_seq'), source VARCHAR NOT NULL, entity VARCHAR NOT NULL,
  tenant_id VARCHAR, key VARCHAR, reason VARCHAR NOT NULL, payload JSON, row_hash VARCHAR, job_run_id BIGINT, rejected_at TIMESTAMP NOT NULL);
CREATE SEQUENCE job_runs_seq;
CREATE TABLE job_runs (
  id BIGINT PRIMARY KEY DEFAULT nextval('job_runs_seq'), job VARCHAR NOT NULL, attempt INTEGER NOT NULL DEFAULT 1,
  started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, status VARCHAR NOT NULL,
  rows_in BIGINT DEFAULT 0, rows_out BIGINT DEFAULT 0, rows_rejected BIGINT DEFAULT 0, error VARCHAR, detail JSON);
CREATE TABLE currencies (code VARCHAR PRIMARY KEY);
`,
  },
  {
    version: 2,
    name: 'kpi rollups',
    // 15-minute UTC buckets: every IANA offset in use is a multiple of 15 minutes, so any zone's local
    // days, ISO weeks and months are exact unions of these buckets. Money sums stay DECIMAL (never
    // floats); counts are BIGINT. Dimensions that change in place (customers.country, product names
    // and prices) are joined at query time, so an edit to them never leaves a rollup wrong.
    sql: `
CREATE TABLE kpi_payments_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, currency VARCHAR NOT NULL,
  succeeded BIGINT NOT NULL, refunded BIGINT NOT NULL, failed BIGINT NOT NULL, pending BIGINT NOT NULL,
  gross DECIMAL(18,2) NOT NULL, refunds DECIMAL(18,2) NOT NULL);
CREATE TABLE kpi_orders_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, currency VARCHAR NOT NULL,
  orders BIGINT NOT NULL, order_value DECIMAL(18,2) NOT NULL);
-- \`rows\` counts the facts behind a row: a row is dropped when its last fact goes (views may be 0).
CREATE TABLE kpi_page_views_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, views BIGINT NOT NULL, rows BIGINT NOT NULL);
CREATE TABLE kpi_product_events_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, product_id VARCHAR,
  views BIGINT NOT NULL, cart_adds BIGINT NOT NULL, sales BIGINT NOT NULL, rows BIGINT NOT NULL);
CREATE TABLE kpi_product_payments_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, product_id VARCHAR NOT NULL, currency VARCHAR NOT NULL,
  units BIGINT NOT NULL, gross DECIMAL(18,2) NOT NULL, refunds DECIMAL(18,2) NOT NULL);
-- Per-country figures: one narrow row per (bucket, customer, currency) with a succeeded/refunded payment.
CREATE TABLE kpi_customer_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, customer_id VARCHAR, currency VARCHAR NOT NULL,
  payments BIGINT NOT NULL, gross DECIMAL(18,2) NOT NULL, refunds DECIMAL(18,2) NOT NULL);
-- Distinct paying customers over any range, exactly, without count(DISTINCT): one row per (customer,
-- bucket with a succeeded/refunded payment) with the customer's previous and next such bucket. The
-- customers paying in [a, b) are the rows in [a, b) whose prev is before a (or null): each customer
-- has exactly one such row, its first in the range.
CREATE TABLE kpi_paying_15m (
  tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, customer_id VARCHAR NOT NULL, prev TIMESTAMP, next TIMESTAMP);
-- The same count for whole UTC days, so a long range costs O(days), not O(customers): n = rows of
-- kpi_paying_15m on day d whose prev is before midnight of day p (or null), for every p in [lo, d],
-- lo being kpi_paying_lo.lo of the tenant (for p <= lo the count is the one at lo).
CREATE TABLE kpi_paying_days (tenant_id VARCHAR NOT NULL, p DATE NOT NULL, d DATE NOT NULL, n BIGINT NOT NULL);
CREATE TABLE kpi_paying_lo (tenant_id VARCHAR NOT NULL, lo DATE NOT NULL);
-- First ever succeeded/refunded payment per customer (rows of kpi_paying_15m with a null prev), counted per bucket.
CREATE TABLE kpi_new_customers_15m (tenant_id VARCHAR NOT NULL, bucket TIMESTAMP NOT NULL, customers BIGINT NOT NULL);
-- Subscriptions as signed events at exact timestamps (start +, cancel -): MRR at t = sum of deltas
-- with ts <= t. Rebuilt whole on each refresh (subscriptions carry no deltas and are small).
CREATE TABLE kpi_subscription_events (
  tenant_id VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, currency VARCHAR,
  mrr_delta DECIMAL(18,2) NOT NULL, active_delta INTEGER NOT NULL, cancels INTEGER NOT NULL);
CREATE TABLE kpi_rollup_state (
  id INTEGER PRIMARY KEY, computed_at TIMESTAMP NOT NULL, as_of TIMESTAMP, days BIGINT NOT NULL, full_refresh BOOLEAN NOT NULL);
`,
  },
  {
    version: 3,
    name: 'fact deltas for the kpi rollups',
    // The ingest writes these in the same transaction as the facts: sign -1 for every version it
    // replaces or deletes, +1 for every version it inserts, with only the columns the rollups read.
    // A rollup refresh folds them into the rollups (signed sums) and deletes them, so its cost follows
    // the change, not the history. A batch too big to be worth copying (a first or full load) marks
    // its entity in delta_overflow instead, and the refresh rebuilds that entity's rollups from the facts.
    sql: `
CREATE TABLE delta_payments (
  tenant_id VARCHAR NOT NULL, sign TINYINT NOT NULL, created_at TIMESTAMP, customer_id VARCHAR, product_id VARCHAR,
  currency VARCHAR, status VARCHAR, amount DECIMAL(18,2), refunded_amount DECIMAL(18,2));
CREATE TABLE delta_orders (
  tenant_id VARCHAR NOT NULL, sign TINYINT NOT NULL, created_at TIMESTAMP, currency VARCHAR, status VARCHAR, total DECIMAL(18,2));
CREATE TABLE delta_page_views (tenant_id VARCHAR NOT NULL, sign TINYINT NOT NULL, ts TIMESTAMP, views INTEGER);
CREATE TABLE delta_product_events (
  tenant_id VARCHAR NOT NULL, sign TINYINT NOT NULL, ts TIMESTAMP, product_id VARCHAR, views INTEGER, cart_adds INTEGER, sales INTEGER);
CREATE TABLE delta_overflow (entity VARCHAR NOT NULL);
`,
  },
  {
    version: 4,
    name: 'entities changed since the last rollup refresh',
    // Marked by the ingest when a batch writes or deletes rows, cleared by the refresh: rollups that are
    // rebuilt whole rather than folded from deltas (subscription events) are rebuilt only when their
    // facts really changed, not after every lookback re-read.
    sql: `CREATE TABLE changed_entities (entity VARCHAR NOT NULL);`,
  },
  {
    version: 5,
    name: 'subscription events as daily running totals',
    // MRR at t sums every event up to t: over the exact events that is a scan of the whole history
    // (430k rows at 10M orders) per metric. The running totals through the end of each day with events
    // make it one row per currency from a table of about (days × currencies), plus t's own day of
    // exact events, which are stored in ts order so the scan skips the rest. Refreshed with the events.
    sql: `
CREATE TABLE kpi_subscription_days (
  tenant_id VARCHAR NOT NULL, currency VARCHAR, d DATE NOT NULL,
  mrr_cum DECIMAL(18,2) NOT NULL, active_cum BIGINT NOT NULL, cancels_cum BIGINT NOT NULL);
${SUBSCRIPTION_DAYS_SQL};
CREATE TEMP TABLE _events AS SELECT * FROM kpi_subscription_events;
DELETE FROM kpi_subscription_events;
INSERT INTO kpi_subscription_events SELECT * FROM _events ORDER BY tenant_id, ts;
DROP TABLE _events;`,
  },
  {
    version: 6,
    name: 'row, key and customer fingerprints',
    // See rowHashSql and keyHashSql: a batch's current versions are found through `_key` and compared
    // by `_hash`, 8 bytes a row each. A table created by a later migration declares
    // `_hash UBIGINT, _key UBIGINT NOT NULL` itself.
    sql: Object.entries(KEYS_V6).map(([table, key]) => `
ALTER TABLE ${table} ALTER COLUMN _hash SET DATA TYPE UBIGINT USING ${fingerprintFromHexSql('_hash')};
ALTER TABLE ${table} ADD COLUMN _key UBIGINT;
UPDATE ${table} SET _key = ${keyHashSql(['tenant_id', ...key], table)};
ALTER TABLE ${table} ALTER COLUMN _key SET NOT NULL;`).join('') + `
UPDATE rejected_rows SET row_hash = (${fingerprintFromHexSql('row_hash')})::VARCHAR WHERE length(row_hash) = 32;
-- The per-customer rollups are as long as the payments: their refresh matches customers by
-- md5_number(customer_id) (16 bytes, no collision in practice) instead of by the id's string, and
-- kpi_paying_15m, which no reader asks for the id, keeps only the fingerprint.
ALTER TABLE kpi_customer_15m ADD COLUMN cfp UHUGEINT;
UPDATE kpi_customer_15m SET cfp = md5_number(customer_id);
ALTER TABLE kpi_paying_15m ADD COLUMN cfp UHUGEINT;
UPDATE kpi_paying_15m SET cfp = md5_number(customer_id);
ALTER TABLE kpi_paying_15m ALTER COLUMN cfp SET NOT NULL;
ALTER TABLE kpi_paying_15m DROP COLUMN customer_id;`,
  },
  {
    version: 7,
    name: 'rows seen inside the lookback window',
    // Key and row fingerprint of every row a batch read whose cursor is inside the lookback window of
    // its entity's watermark. The next pull asks the source to leave out the rows it would send back
    // unchanged, so an entity with nothing new costs its scan at the source and no batch here.
    sql: `
CREATE TABLE ingest_recent (
  source VARCHAR NOT NULL, entity VARCHAR NOT NULL, key VARCHAR NOT NULL, row_hash UBIGINT NOT NULL, cursor_ts TIMESTAMP NOT NULL);`,
  },
  {
    version: 8,
    name: 'forecast runs',
    // Every run is kept: forecast vs actual is scored as the days arrive. `errors` holds the chosen
    // model's backtest error paths (on the scale of the series at the run), from which the API draws
    // intervals for weekly and monthly totals; `scale` is the in-sample seasonal naive MAE (MASE).
    sql: `
CREATE SEQUENCE forecast_runs_seq;
CREATE TABLE forecast_runs (
  run_id BIGINT PRIMARY KEY DEFAULT nextval('forecast_runs_seq'), tenant_id VARCHAR NOT NULL, metric VARCHAR NOT NULL,
  currency VARCHAR, computed_at TIMESTAMP NOT NULL, as_of TIMESTAMP NOT NULL, last_day DATE NOT NULL, horizon INTEGER NOT NULL,
  model VARCHAR NOT NULL, choice VARCHAR NOT NULL, history_days INTEGER NOT NULL,
  scores JSON, params JSON, coverage JSON, errors JSON, scale DOUBLE);
CREATE TABLE forecast_points (
  run_id BIGINT NOT NULL, day DATE NOT NULL, h INTEGER NOT NULL, point DOUBLE NOT NULL, bounds JSON);`,
  },
  {
    version: 9,
    name: 'pricing runs',
    // One run per tenant and job; every recommendation with its elasticity, expected outcome, factors
    // (the seed's pricing_factors shape), the guardrails that bound it and a one-line reason.
    sql: `
CREATE SEQUENCE pricing_runs_seq;
CREATE TABLE pricing_runs (
  run_id BIGINT PRIMARY KEY DEFAULT nextval('pricing_runs_seq'), tenant_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL,
  as_of TIMESTAMP NOT NULL, last_day DATE NOT NULL, settings JSON);
CREATE TABLE pricing_recommendations (
  run_id BIGINT NOT NULL, product_id VARCHAR NOT NULL, category VARCHAR, currency VARCHAR,
  current_price DOUBLE NOT NULL, price DOUBLE NOT NULL, change_pct DOUBLE NOT NULL,
  elasticity DOUBLE NOT NULL, elasticity_sd DOUBLE NOT NULL, elasticity_lo DOUBLE NOT NULL, elasticity_hi DOUBLE NOT NULL,
  elasticity_source VARCHAR NOT NULL, confidence VARCHAR NOT NULL, own_estimate DOUBLE, optimal_price DOUBLE,
  expected JSON, factors JSON, bound_by JSON, reason VARCHAR NOT NULL);`,
  },
  {
    version: 10,
    name: 'price write-back audit and idempotency',
    // One audit row per item of every POST /v1/pricing/apply, applied or refused; the first response
    // to each Idempotency-Key, returned again to a repeat of the same request.
    sql: `
CREATE TABLE pricing_audit (
  applied_at TIMESTAMP NOT NULL, tenant_id VARCHAR NOT NULL, key_id VARCHAR, request_id VARCHAR, idempotency_key VARCHAR,
  product_id VARCHAR NOT NULL, expected_price DOUBLE, price DOUBLE NOT NULL, status VARCHAR NOT NULL, current_price DOUBLE, detail VARCHAR);
CREATE TABLE pricing_idempotency (
  tenant_id VARCHAR NOT NULL, idempotency_key VARCHAR NOT NULL, request_hash VARCHAR NOT NULL, response JSON NOT NULL,
  created_at TIMESTAMP NOT NULL, PRIMARY KEY (tenant_id, idempotency_key));`,
  },
  {
    version: 11,
    name: 'experiment units keyed by arm; experiment runs',
    // A unit in two arms (an assignment bug, or a re-assignment) used to keep only its last row: the
    // key now includes the variant, so both rows stay and the analysis can flag and exclude the unit.
    // Its fingerprint is recomputed; the seen-row list of the entity is dropped (its keys changed).
    sql: `
UPDATE experiment_units SET _key = ${keyHashSql(['tenant_id', 'experiment_id', 'unit_id', 'variant'], 'experiment_units')};
DELETE FROM ingest_recent WHERE entity = 'experiment_units';
CREATE SEQUENCE experiment_runs_seq;
CREATE TABLE experiment_runs (
  run_id BIGINT PRIMARY KEY DEFAULT nextval('experiment_runs_seq'), tenant_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL,
  as_of TIMESTAMP, settings JSON);
CREATE TABLE experiment_results (
  run_id BIGINT NOT NULL, experiment_id VARCHAR NOT NULL, name VARCHAR, status VARCHAR, metric VARCHAR,
  started_at TIMESTAMP, last_unit_at TIMESTAMP, units BIGINT NOT NULL, multi_arm_units BIGINT NOT NULL,
  winsor_cap DOUBLE, srm_p DOUBLE, srm_flagged BOOLEAN NOT NULL, result JSON NOT NULL);`,
  },
  {
    version: 12,
    name: 'customer model runs',
    // One run per tenant: the fitted models (parameters, standard errors, covariances), the store's
    // repurchase-gap quantiles, the holdout report, why a fit failed if one did, the currency spend
    // and CLV are in, and every customer's scores.
    sql: `
CREATE SEQUENCE customer_model_runs_seq;
CREATE TABLE customer_model_runs (
  run_id BIGINT PRIMARY KEY DEFAULT nextval('customer_model_runs_seq'), tenant_id VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL,
  as_of TIMESTAMP NOT NULL, last_day DATE NOT NULL, customers BIGINT NOT NULL, currency VARCHAR,
  bgnbd JSON, gamma_gamma JSON, gaps JSON, holdout JSON, fit_errors JSON, settings JSON);
CREATE TABLE customer_scores (
  run_id BIGINT NOT NULL, customer_id VARCHAR NOT NULL, orders INTEGER NOT NULL, x INTEGER, tx DOUBLE, "T" DOUBLE,
  first_order DATE, last_order DATE, monetary DOUBLE, status VARCHAR NOT NULL, typical_gap DOUBLE, expected_next_order DATE,
  p_alive DOUBLE, expected_30 DOUBLE, expected_90 DOUBLE, expected_365 DOUBLE, p_no_purchase DOUBLE, spend DOUBLE,
  clv DOUBLE, value_at_risk DOUBLE);`,
  },
  {
    version: 13,
    name: 'customer status write-back audit',
    // One row per tenant and write-back (CUSTOMERS_WRITE_BACK): which run's statuses went to the
    // source, how many rows changed, were already so, or had no source row.
    sql: `
CREATE TABLE customer_write_back_audit (
  written_at TIMESTAMP NOT NULL, tenant_id VARCHAR NOT NULL, run_id BIGINT NOT NULL, job_run_id BIGINT,
  updated BIGINT NOT NULL, unchanged BIGINT NOT NULL, missing BIGINT NOT NULL);`,
  },
  {
    version: 14,
    name: 'stripe objects; external ids of customers and subscriptions',
    // Stripe's objects as last seen (from a list or an event, whichever is newer), the canonical rows
    // still to be derived from them, and the Stripe ids the source keeps beside its own rows, by which
    // a Stripe payment or subscription is matched to the customer and the database row it duplicates.
    // customers and subscriptions are recreated so the new columns come before _hash/_key, where the
    // loader's swap path expects the entity's columns.
    sql: `
CREATE TABLE stripe_objects (
  tenant_id VARCHAR NOT NULL, type VARCHAR NOT NULL, id VARCHAR NOT NULL, parent VARCHAR, created TIMESTAMP NOT NULL,
  seen_at TIMESTAMP NOT NULL, data JSON NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE stripe_pending (tenant_id VARCHAR NOT NULL, type VARCHAR NOT NULL, id VARCHAR NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE customers_v14 (
  tenant_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, email VARCHAR, country VARCHAR,
  segment VARCHAR, raw_segment VARCHAR, lead_score DOUBLE, created_at TIMESTAMP, updated_at TIMESTAMP,
  external_id VARCHAR, _hash UBIGINT, _key UBIGINT NOT NULL);
INSERT INTO customers_v14 SELECT tenant_id, customer_id, email, country, segment, raw_segment, lead_score, created_at, updated_at,
  NULL, _hash, _key FROM customers;
DROP TABLE customers;
ALTER TABLE customers_v14 RENAME TO customers;
CREATE TABLE subscriptions_v14 (
  tenant_id VARCHAR NOT NULL, subscription_id VARCHAR NOT NULL, customer_id VARCHAR, plan_id VARCHAR,
  plan_name VARCHAR, monthly_amount DECIMAL(18,2), currency VARCHAR, status VARCHAR, raw_status VARCHAR,
  started_at TIMESTAMP, current_period_end TIMESTAMP, cancelled_at TIMESTAMP, source VARCHAR, external_id VARCHAR,
  _hash UBIGINT, _key UBIGINT NOT NULL);
INSERT INTO subscriptions_v14 SELECT tenant_id, subscription_id, customer_id, plan_id, plan_name, monthly_amount, currency, status, raw_status,
  started_at, current_period_end, cancelled_at, 'db', NULL, _hash, _key FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_v14 RENAME TO subscriptions;
-- A database payment is superseded by the Stripe payment it duplicates: its deltas need to know.
ALTER TABLE delta_payments ADD COLUMN source VARCHAR;
ALTER TABLE delta_payments ADD COLUMN external_id VARCHAR;`,
  },
  {
    version: 15,
    name: 'summing rollups mark the rows a refresh appended',
    // The refresh appends signed sums to these two (see rollups.ts); compaction merges the keys of
    // the marked rows back into one row each.
    sql: `
ALTER TABLE kpi_product_payments_15m ADD COLUMN appended BOOLEAN DEFAULT false;
ALTER TABLE kpi_customer_15m ADD COLUMN appended BOOLEAN DEFAULT false;`,
  },
  {
    version: 16,
    name: 'payment deltas without source and external_id',
    // Only the supersession join read them, from the rows a batch replaces; it now reads them there
    // directly, and only while a Stripe payment is held (EntitySpec.deltaExclude).
    sql: `
ALTER TABLE delta_payments DROP COLUMN source;
ALTER TABLE delta_payments DROP COLUMN external_id;`,
  },
];

export async function migrate(conn: DuckDBConnection): Promise<number> {
  await conn.run(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)`);
  const reader = await conn.runAndReadAll('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
  const current = Number(reader.getRowObjectsJson()[0]?.v ?? 0);
  let applied = 0;
  for (const m of MIGRATIONS.filter((m) => m.version > current)) {
    await conn.run('BEGIN TRANSACTION');
    try {
      await conn.run(m.sql);
      if (m.version === 1) await seedCurrencies(conn);
      await conn.run(`INSERT INTO schema_migrations VALUES ($1, $2, now()::TIMESTAMP)`, [m.version, m.name]);
      await conn.run('COMMIT');
      applied++;
    } catch (err) {
      await conn.run('ROLLBACK');
      throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
    }
  }
  return applied;
}

/** ISO 4217 codes from the runtime's ICU data: the loader rejects money in any other currency. */
async function seedCurrencies(conn: DuckDBConnection): Promise<void> {
  const codes = Intl.supportedValuesOf('currency').filter((c) => /^[A-Z]{3}$/.test(c));
  await conn.run(`INSERT INTO currencies VALUES ${codes.map((c) => `('${c}')`).join(',')}`);
}