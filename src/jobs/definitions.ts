import { ingestAll, type IngestContext } from '../ingest/run.ts';
import { reconcileAll } from '../ingest/reconcile.ts';
import type { Config } from '../config.ts';
import { runForecasts } from '../models/forecast/run-forecasts.ts';
import { writeRevenuePredictions } from '../models/forecast/write-back.ts';
import { autoApply } from '../models/pricing/apply.ts';
import { runPricing } from '../models/pricing/run-pricing.ts';
import { runExperiments, type ExperimentJobOptions } from '../models/experiments/run-experiments.ts';
import { runCustomers, type CustomerJobOptions } from '../models/customers/run-customers.ts';
import { STATUS_WRITE_BACK_PROFILES, writeCustomerStatuses } from '../models/customers/write-back.ts';
import { refreshRollups } from '../models/kpis/rollups.ts';
import type { JobFn } from './runner.ts';
import { stripeClient } from '../ingest/stripe/client.ts';
import { syncStripe, type StripeSyncMode } from '../ingest/stripe/sync.ts';

/**
 * The jobs pricecast runs. `ingest` pulls every entity incrementally then refreshes the rollups of the
 * days that moved; `reconcile` (daily) finds deletes and changes the cursors cannot see; `rollups`
 * rebuilds every rollup from the facts; `forecast` (daily) forecasts revenue and orders per series;
 * `pricing` (daily) recommends a price per product; `experiments` (hourly) analyses every A/B test;
 * `customers` (daily) scores every customer's status, risk and lifetime value. With a Stripe key,
 * `stripe` pulls new Stripe objects and the events since the last run, and `stripe-resync` (daily)
 * re-reads the trailing STRIPE_RESYNC_DAYS; both refresh the rollups after.
 */
export function defineJobs(
  ctx: IngestContext & { config: Pick<Config, 'FORECAST_HORIZON_DAYS' | 'FORECAST_LEVELS' | 'FORECAST_HOLIDAYS' | 'FORECAST_WRITE_BACK' | 'PRICING_AUTO_APPLY' | 'PRICING_MIN_MARGIN'
    | 'PRICING_MIN_RATIO' | 'PRICING_MAX_RATIO' | 'PRICING_MAX_CHANGE' | 'PRICING_ENDING' | 'PRICING_CATEGORY_SETTINGS'
    | 'PRICING_SIGNAL_WEIGHT' | 'PRICING_SIGNAL_CAP' | 'PRICING_INVENTORY_STEP' | 'PRICING_OVERSTOCK_DAYS' | ExperimentSettingKey | CustomerSettingKey
    | 'CUSTOMERS_WRITE_BACK' | StripeSettingKey> },
): Record<string, JobFn> {
  const stripe = ctx.config.STRIPE_API_KEY ? stripeClient({ apiKey: ctx.config.STRIPE_API_KEY, apiBase: ctx.config.STRIPE_API_BASE }) : null;
  const stripeJob = (mode: StripeSyncMode): JobFn => async ({ jobRunId }) => {
    const r = await syncStripe({ ...ctx, stripe: stripe! }, { mode, jobRunId });
    const rollups = await refreshRollups(ctx.warehouse);
    const rowsOut = (r.payments?.rowsOut ?? 0) + (r.subscriptions?.rowsOut ?? 0);
    const rowsIn = Object.values(r.read).reduce((s, n) => s + n, 0);
    return { rowsIn, rowsOut, rejected: r.rejected, detail: { ...r, rollups } };
  };
  return {
    ...(stripe ? { stripe: stripeJob('incremental'), 'stripe-resync': stripeJob('resync') } : {}),
    ingest: async ({ jobRunId }) => {
      const summary = await ingestAll(ctx, { jobRunId });
      const rollups = await refreshRollups(ctx.warehouse);
      return {
        rowsIn: summary.rowsIn,
        rowsOut: summary.rowsOut,
        rejected: summary.rejected,
        detail: { entities: summary.entities.map(({ entity, rowsIn, rowsOut, rejected, since, ms }) => ({ entity, rowsIn, rowsOut, rejected, since, ms })), rollups },
      };
    },
    reconcile: async ({ jobRunId }) => {
      const results = await reconcileAll(ctx, { jobRunId });
      // Once a day, the summing rollups' appended rows merged, and whatever the WAL holds written
      // (see DUCKDB_CHECKPOINT_THRESHOLD).
      const rollups = await refreshRollups(ctx.warehouse, { compact: true });
      await ctx.warehouse.checkpoint();
      return {
        rowsIn: results.reduce((s, r) => s + r.sourceRows, 0),
        rowsOut: results.reduce((s, r) => s + (r.reloaded?.rowsOut ?? 0) + r.deleted, 0),
        rejected: results.reduce((s, r) => s + (r.reloaded?.rejected ?? 0), 0),
        detail: { entities: results, rollups },
      };
    },
    rollups: async () => {
      const rollups = await refreshRollups(ctx.warehouse, { full: true });
      return { detail: rollups };
    },
    forecast: async () => {
      const r = await runForecasts(ctx.warehouse, {
        horizon: ctx.config.FORECAST_HORIZON_DAYS,
        levels: ctx.config.FORECAST_LEVELS.map((l) => l / 100),
        holidays: ctx.config.FORECAST_HOLIDAYS,
      });
      const written = ctx.config.FORECAST_WRITE_BACK && ctx.config.PROFILE === 'pricing-platform'
        ? await writeRevenuePredictions(ctx.source, ctx.warehouse, { tenantId: ctx.config.TENANT_ID, currency: ctx.config.DEFAULT_CURRENCY })
        : 0;
      return { rowsOut: r.runs, detail: { ...r, revenuePredictionsWritten: written } };
    },
    pricing: async () => {
      const c = ctx.config;
      const r = await runPricing(ctx.warehouse, {
        settings: {
          minMargin: c.PRICING_MIN_MARGIN, minRatio: c.PRICING_MIN_RATIO, maxRatio: c.PRICING_MAX_RATIO, maxChange: c.PRICING_MAX_CHANGE,
          ending: c.PRICING_ENDING, signalWeight: c.PRICING_SIGNAL_WEIGHT, signalCap: c.PRICING_SIGNAL_CAP,
          inventoryStep: c.PRICING_INVENTORY_STEP, overstockDays: c.PRICING_OVERSTOCK_DAYS,
        },
        categories: c.PRICING_CATEGORY_SETTINGS,
      });
      const applied = c.PRICING_AUTO_APPLY && c.PROFILE === 'pricing-platform'
        ? await autoApply(ctx.source, ctx.warehouse, { tenantId: c.TENANT_ID, settings: { minMargin: c.PRICING_MIN_MARGIN, minRatio: c.PRICING_MIN_RATIO, maxRatio: c.PRICING_MAX_RATIO } })
        : null;
      return { rowsOut: r.products, detail: { ...r, autoApply: applied && { applied: applied.applied, refused: applied.refused } } };
    },
    experiments: async () => {
      const r = await runExperiments(ctx.warehouse, experimentOptions(ctx.config));
      return { rowsOut: r.experiments, detail: r };
    },
    customers: async ({ jobRunId }) => {
      const r = await runCustomers(ctx.warehouse, customerOptions(ctx.config));
      const written = ctx.config.CUSTOMERS_WRITE_BACK && (STATUS_WRITE_BACK_PROFILES as readonly string[]).includes(ctx.config.PROFILE) && !ctx.config.PROFILE_DIR
        ? await writeCustomerStatuses(ctx.source, ctx.warehouse, { jobRunId })
        : null;
      return { rowsOut: r.customers, detail: { ...r, statusesWritten: written } };
    },
  };
}

type StripeSettingKey = 'STRIPE_API_KEY' | 'STRIPE_API_BASE' | 'STRIPE_OVERLAP_MINUTES' | 'STRIPE_RESYNC_DAYS' | 'STRIPE_RETRIES'
  | 'STRIPE_RETRY_BASE_MS' | 'STRIPE_RETRY_MAX_MS';

type CustomerSettingKey = 'CUSTOMERS_RISK_DAYS' | 'CUSTOMERS_CLV_MONTHS' | 'CUSTOMERS_DISCOUNT_RATE' | 'CUSTOMERS_HOLDOUT_DAYS'
  | 'CUSTOMERS_SHRINK_ORDERS' | 'CUSTOMERS_AT_RISK_QUANTILE' | 'CUSTOMERS_STOPPED_QUANTILE' | 'CUSTOMERS_KEEP_RUNS';

export function customerOptions(c: Pick<Config, CustomerSettingKey>): CustomerJobOptions {
  return {
    rules: { shrinkOrders: c.CUSTOMERS_SHRINK_ORDERS, atRiskQuantile: c.CUSTOMERS_AT_RISK_QUANTILE, stoppedQuantile: c.CUSTOMERS_STOPPED_QUANTILE },
    clv: { months: c.CUSTOMERS_CLV_MONTHS, annualDiscount: c.CUSTOMERS_DISCOUNT_RATE },
    riskDays: c.CUSTOMERS_RISK_DAYS,
    holdoutDays: c.CUSTOMERS_HOLDOUT_DAYS,
    keepRuns: c.CUSTOMERS_KEEP_RUNS,
  };
}

type ExperimentSettingKey = 'EXPERIMENTS_ALPHA' | 'EXPERIMENTS_SEQUENTIAL_TUNING' | 'EXPERIMENTS_PRIOR' | 'EXPERIMENTS_CORRECTION' | 'EXPERIMENTS_SRM_ALPHA'
  | 'EXPERIMENTS_SRM_MIN_UNITS' | 'EXPERIMENTS_TARGET_LIFT' | 'EXPERIMENTS_WINSORIZE' | 'EXPERIMENTS_DRAWS' | 'EXPERIMENTS_SEED' | 'EXPERIMENTS_KEEP_RUNS';

export function experimentOptions(c: Pick<Config, ExperimentSettingKey>): ExperimentJobOptions {
  return {
    settings: {
      alpha: c.EXPERIMENTS_ALPHA, sequentialTuning: c.EXPERIMENTS_SEQUENTIAL_TUNING, prior: c.EXPERIMENTS_PRIOR, correction: c.EXPERIMENTS_CORRECTION,
      srmAlpha: c.EXPERIMENTS_SRM_ALPHA, srmMinUnits: c.EXPERIMENTS_SRM_MIN_UNITS, targetLift: c.EXPERIMENTS_TARGET_LIFT,
      draws: c.EXPERIMENTS_DRAWS, seed: c.EXPERIMENTS_SEED,
    },
    winsorize: c.EXPERIMENTS_WINSORIZE,
    keepRuns: c.EXPERIMENTS_KEEP_RUNS,
  };
}
