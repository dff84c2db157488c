import { validate as validCron } from 'node-cron';
import { z } from 'zod';
import { profileLocation, readManifest, type Manifest } from './ingest/profile.ts';

/** The profiles pricecast ships: one per seed system (see DESIGN.md). */
export const PROFILES = ['pricing-platform', 'course-sales', 'b2b-distribution', 'field-services', 'voice-booking'] as const;
export type ProfileName = (typeof PROFILES)[number];

export const SCOPES = ['read', 'pricing:write', 'jobs:run', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** One API key as configured: only its SHA-256 is ever stored. */
export interface ApiKeyEntry {
  hash: string;
  tenantId: string;
  scopes: Scope[];
}

const intFrom = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/**
 * `API_KEYS` is a comma-separated list of `sha256hex:tenant:scope+scope` (create entries with
 * `pricecast keygen <tenant> [scopes]`). Hashes, not keys, live in configuration so a leaked
 * environment does not leak credentials.
 */
const apiKeys = z
  .string()
  .default('')
  .transform((raw, ctx) => {
    const out: ApiKeyEntry[] = [];
    for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      // Scopes contain colons themselves (pricing:write): only the first two separate fields.
      const [hash, tenantId, ...rest] = item.split(':');
      const scopeList = rest.join(':');
      if (!hash || !/^[0-9a-f]{64}$/.test(hash) || !tenantId) {
        ctx.addIssue({ code: 'custom', message: `entry "${item.slice(0, 12)}…" is not sha256hex:tenant:scopes` });
        continue;
      }
      const scopes = (scopeList || 'read').split('+').filter(Boolean);
      const bad = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `unknown scope(s) ${bad.join(', ')} (known: ${SCOPES.join(', ')})` });
      out.push({ hash, tenantId, scopes: scopes as Scope[] });
    }
    return out;
  });

const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|KiB|MiB|GiB)$/i;
const byteSize = z.string().regex(BYTE_SIZE, 'must be a size such as 384MB or 1GiB');

/** Bytes in a size as DuckDB reads it: KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024. */
export function bytesOf(size: string): number {
  const m = BYTE_SIZE.exec(size);
  if (!m) throw new Error(`unreadable size ${size}`);
  const unit = m[2]!.toUpperCase();
  return Number(m[1]) * (unit.endsWith('IB') ? 1024 : 1000) ** (unit.startsWith('K') ? 1 : unit.startsWith('M') ? 2 : 3);
}

const cronExpr = z.string().refine((v) => validCron(v), 'must be a valid cron expression (5 or 6 fields)');

export const configSchema = z.object({
  SOURCE_DATABASE_URL: z.string().url().optional(),
  DUCKDB_PATH: z.string().min(1).default('./data/pricecast.duckdb'),
  /**
   * DuckDB's buffer limit; it spills to disk past it. Peak RSS of the bench's 10M-order full ingest
   * plus rollup rebuild at 384MB: 788-972 MiB over three runs (at 512MB, before staging went straight
   * into the table, 1,209 MiB; 256MB cost 11% of the speed).
   */
  DUCKDB_MEMORY_LIMIT: byteSize.default('384MB'),
  /**
   * WAL size at which DuckDB checkpoints (its default is 16MB). Each checkpoint rewrites every row
   * group a write touched — at least the partly filled last one of a table that gained rows — so at
   * 16MB an incremental run that changed 1% of 1M payments paid a 0.4-0.6 s checkpoint almost every
   * time; at 64MB one checkpoint serves several runs. The daily reconciliation ends with one.
   */
  DUCKDB_CHECKPOINT_THRESHOLD: byteSize.default('64MB'),
  DUCKDB_THREADS: intFrom(2, 1, 256),
  PROFILE: z.enum(PROFILES).default('pricing-platform'),
  /** A directory holding a user's own profile (manifest.json + one SQL file per entity); overrides PROFILE. */
  PROFILE_DIR: z.string().min(1).optional(),
  TENANT_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('default'),
  /** Currency of source rows that carry none; default: the profile manifest's, else USD. */
  DEFAULT_CURRENCY: z.string().regex(/^[A-Z]{3}$/).optional(),
  HOST: z.string().default('127.0.0.1'),
  PORT: intFrom(8787, 0, 65535),
  API_KEYS: apiKeys,
  INGEST_SCHEDULE: cronExpr.default('*/5 * * * *'),
  RECONCILE_SCHEDULE: cronExpr.default('17 3 * * *'),
  /** Daily revenue and order forecasts (after the night's reconciliation). */
  FORECAST_SCHEDULE: cronExpr.default('47 3 * * *'),
  FORECAST_HORIZON_DAYS: intFrom(90, 7, 366),
  /** Interval levels (percent) every forecast run stores. */
  FORECAST_LEVELS: z.string().default('80,95').transform((v, ctx) => {
    const levels = v.split(',').map((x) => Number(x.trim()));
    if (levels.some((l) => !Number.isInteger(l) || l < 50 || l > 99)) {
      ctx.addIssue({ code: 'custom', message: 'must be whole percentages between 50 and 99, comma-separated' });
      return z.NEVER;
    }
    return [...new Set(levels)].sort((a, b) => a - b);
  }),
  /** Holidays (YYYY-MM-DD, comma-separated) the regression model gives their own effect. */
  FORECAST_HOLIDAYS: z.string().default('').transform((v, ctx) => {
    const days = v.split(',').map((x) => x.trim()).filter(Boolean);
    for (const d of days) if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(d))) ctx.addIssue({ code: 'custom', message: `not a date: ${d}` });
    return days;
  }),
  /** Append the daily revenue forecast to the source's revenue_predictions (pricing-platform only). */
  FORECAST_WRITE_BACK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Daily price recommendations (after the forecasts). */
  PRICING_SCHEDULE: cronExpr.default('55 3 * * *'),
  /** Apply the daily run's changed prices to the source by itself (pricing-platform only). */
  PRICING_AUTO_APPLY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  PRICING_MIN_MARGIN: z.coerce.number().min(0).max(10).default(0.1),
  PRICING_MIN_RATIO: z.coerce.number().positive().max(1).default(0.7),
  PRICING_MAX_RATIO: z.coerce.number().min(1).max(100).default(1.5),
  PRICING_MAX_CHANGE: z.coerce.number().positive().max(1).default(0.1),
  /** Demand momentum → price: per unit of relative change, capped at ± the cap. */
  PRICING_SIGNAL_WEIGHT: z.coerce.number().min(0).max(1).default(0.1),
  PRICING_SIGNAL_CAP: z.coerce.number().min(0).max(0.5).default(0.03),
  /** Below the reorder point: up by this share; more than PRICING_OVERSTOCK_DAYS of sales on hand: down by it. */
  PRICING_INVENTORY_STEP: z.coerce.number().min(0).max(0.5).default(0.03),
  PRICING_OVERSTOCK_DAYS: z.coerce.number().positive().max(3650).default(180),
  /** Cents a recommended price ends in (`99` → x.99), or `none`. */
  PRICING_ENDING: z.string().default('99').transform((v, ctx) => {
    if (v === 'none') return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 99) {
      ctx.addIssue({ code: 'custom', message: 'must be cents 0-99 or "none"' });
      return z.NEVER;
    }
    return n;
  }),
  /** Per-category overrides, JSON: {"grocery": {"minMargin": 0.05, "maxChange": 0.05}}. */
  PRICING_CATEGORY_SETTINGS: z.string().default('{}').transform((v, ctx) => {
    const shape = z.record(z.string(), z.object({
      minMargin: z.number().min(0).optional(), minRatio: z.number().positive().optional(), maxRatio: z.number().positive().optional(),
      maxChange: z.number().positive().max(1).optional(), ending: z.number().int().min(0).max(99).nullable().optional(),
      signalWeight: z.number().min(0).max(1).optional(), signalCap: z.number().min(0).max(0.5).optional(),
      inventoryStep: z.number().min(0).max(0.5).optional(), overstockDays: z.number().positive().optional(),
    }).strict());
    try {
      const parsed = shape.safeParse(JSON.parse(v));
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
    }
    return z.NEVER;
  }),
  /** A/B test results (hourly: running experiments are judged on anytime-valid results, so looking often is safe). */
  EXPERIMENTS_SCHEDULE: cronExpr.default('23 * * * *'),
  EXPERIMENTS_ALPHA: z.coerce.number().gt(0).lt(0.5).default(0.05),
  /** N* of the confidence sequences: the total units at which they are tightest (GrowthBook's default). */
  EXPERIMENTS_SEQUENTIAL_TUNING: z.coerce.number().int().min(10).max(1e9).default(5000),
  /** Gaussian prior on the relative lift: `flat`, or `mean,sd` (e.g. `0,0.3`). */
  EXPERIMENTS_PRIOR: z.string().default('flat').transform((v, ctx) => {
    if (v === 'flat') return { mean: 0, variance: Infinity };
    const [mean, sd] = v.split(',').map((x) => Number(x.trim()));
    if (mean === undefined || sd === undefined || !Number.isFinite(mean) || !Number.isFinite(sd) || sd <= 0 || v.split(',').length !== 2) {
      ctx.addIssue({ code: 'custom', message: 'must be "flat" or "mean,sd" with sd > 0' });
      return z.NEVER;
    }
    return { mean, variance: sd * sd };
  }),
  /** Adjustment of p-values when an experiment has several treatment arms. */
  EXPERIMENTS_CORRECTION: z.enum(['holm', 'bh']).default('holm'),
  EXPERIMENTS_SRM_ALPHA: z.coerce.number().gt(0).lt(0.5).default(0.001),
  EXPERIMENTS_SRM_MIN_UNITS: intFrom(100, 2, 1e9),
  /** Relative effect the power figures ("units still needed") are for. */
  EXPERIMENTS_TARGET_LIFT: z.coerce.number().gt(0).max(10).default(0.05),
  /** Revenue is also reported capped at this percentile of the non-zero values; 0 turns it off. */
  EXPERIMENTS_WINSORIZE: z.coerce.number().min(0).lt(1).default(0.99),
  EXPERIMENTS_DRAWS: intFrom(10_000, 100, 1_000_000),
  EXPERIMENTS_SEED: intFrom(1, 0, 2 ** 31 - 1),
  /** Runs kept per tenant: a week of hourly runs. */
  EXPERIMENTS_KEEP_RUNS: intFrom(168, 1, 100_000),
  /** Customer statuses, risk and lifetime value (daily, after the ingest that closes a day). */
  CUSTOMERS_SCHEDULE: cronExpr.default('5 4 * * *'),
  /** k of the risk score P(no purchase in the next k days), and of value at risk. */
  CUSTOMERS_RISK_DAYS: intFrom(90, 1, 3650),
  CUSTOMERS_CLV_MONTHS: intFrom(12, 1, 120),
  /** Annual discount rate of CLV (applied monthly). */
  CUSTOMERS_DISCOUNT_RATE: z.coerce.number().min(0).max(1).default(0.1),
  /** Most recent days held out to check the model on the store's own data. */
  CUSTOMERS_HOLDOUT_DAYS: intFrom(90, 7, 730),
  /** Rule view: pseudo-gaps of the store's median that a customer's own mean gap is shrunk with. */
  CUSTOMERS_SHRINK_ORDERS: z.coerce.number().min(0).max(100).default(2),
  CUSTOMERS_AT_RISK_QUANTILE: z.coerce.number().gt(0).lt(1).default(0.8),
  CUSTOMERS_STOPPED_QUANTILE: z.coerce.number().gt(0).lt(1).default(0.95),
  /** Runs (each every customer's scores) kept per tenant. */
  CUSTOMERS_KEEP_RUNS: intFrom(7, 1, 10_000),
  /** Write each run's statuses and expected order dates back to the source (b2b-distribution's customers). */
  CUSTOMERS_WRITE_BACK: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** Stripe as a payment source (off without a key). Its objects belong to TENANT_ID. */
  STRIPE_API_KEY: z.string().regex(/^(sk|rk)_(test|live)_\w+$/, 'must be a secret (sk_…) or restricted (rk_…) key').optional(),
  /** Stripe's API; a local server speaking it in tests. */
  STRIPE_API_BASE: z.string().url().default('https://api.stripe.com'),
  /** Incremental Stripe sync: new objects and the events since the last one (keep it well inside the events' 30 days). */
  STRIPE_SCHEDULE: cronExpr.default('*/10 * * * *'),
  /** Trailing re-sync: every object created in the last STRIPE_RESYNC_DAYS, for changes the events missed. */
  STRIPE_RESYNC_SCHEDULE: cronExpr.default('41 2 * * *'),
  STRIPE_RESYNC_DAYS: intFrom(35, 1, 3650),
  /** Lists re-read this far before their watermark: objects that became visible late. */
  STRIPE_OVERLAP_MINUTES: intFrom(60, 0, 7 * 24 * 60),
  /** Retries of a list after a 429, 5xx or lost connection, with exponential backoff and jitter. */
  STRIPE_RETRIES: intFrom(6, 0, 20),
  STRIPE_RETRY_BASE_MS: intFrom(500, 1, 600_000),
  STRIPE_RETRY_MAX_MS: intFrom(30_000, 1, 3_600_000),
  SCHEDULER_ENABLED: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  LOOKBACK_MINUTES: intFrom(10, 0, 24 * 60),
  /** A result is `stale` when its last successful job is older than this, or the last run failed. */
  STALE_AFTER_MINUTES: intFrom(20, 1, 7 * 24 * 60),
  JOB_RETRIES: intFrom(3, 0, 10),
  JOB_RETRY_BASE_MS: intFrom(2000, 10, 600_000),
  SHUTDOWN_TIMEOUT_MS: intFrom(15_000, 100, 600_000),
  /** Size and seed of the demo's generated shop history (`pricecast demo`). */
  DEMO_ORDERS: intFrom(50_000, 100, 50_000_000),
  DEMO_SEED: intFrom(42, 0, 2 ** 31 - 1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = Omit<z.infer<typeof configSchema>, 'DEFAULT_CURRENCY'> & { DEFAULT_CURRENCY: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Settings that are optional in general but that a command cannot run without. */
export interface Requirement {
  /** The command, for the message ("required for serve"). */
  command: string;
  settings: readonly ('SOURCE_DATABASE_URL' | 'STRIPE_API_KEY')[];
}

/**
 * Reads settings from `env` (process.env by default); throws one ConfigError listing every problem,
 * the settings `required` names but `env` lacks among them.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Record<keyof Config, string>> = {},
  required?: Requirement,
): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = (overrides as Record<string, string | undefined>)[key] ?? env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = configSchema.safeParse(input);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (required) {
    for (const key of required.settings) if (input[key] === undefined) problems.push(`${key}: required for ${required.command}`);
  }
  // The profile's manifest is part of the configuration: a broken one stops start-up with the rest.
  let manifest: Manifest | null = null;
  if (!problems.some((p) => p.startsWith('PROFILE'))) {
    const location = profileLocation({ PROFILE: (input.PROFILE ?? 'pricing-platform') as ProfileName, PROFILE_DIR: input.PROFILE_DIR });
    try {
      manifest = readManifest(location.dir);
    } catch (err) {
      problems.push(`${input.PROFILE_DIR ? 'PROFILE_DIR' : 'PROFILE'}: ${(err as Error).message}`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return { ...parsed.data, DEFAULT_CURRENCY: parsed.data.DEFAULT_CURRENCY ?? manifest?.currency ?? 'USD' };
}
