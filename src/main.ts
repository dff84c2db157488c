import type pg from 'pg';
import type { Logger } from 'pino';
import { generateApiKey } from './api-keys.ts';
import { ConfigError, loadConfig, SCOPES, type Config, type Requirement, type Scope } from './config.ts';
import { capabilities, jobApplies } from './ingest/capabilities.ts';
import { defineJobs } from './jobs/definitions.ts';
import { JobRunner } from './jobs/runner.ts';
import { runDemo } from './demo.ts';
import { ingestAll } from './ingest/run.ts';
import { reconcileAll } from './ingest/reconcile.ts';
import { checkProfileColumns, configuredProfile, ProfileColumnsError } from './ingest/profile.ts';
import { createLogger } from './logger.ts';
import { stripeClient } from './ingest/stripe/client.ts';
import { syncStripe } from './ingest/stripe/sync.ts';
import { refreshRollups } from './models/kpis/rollups.ts';
import { onSignals, openSourcePool, startService } from './service.ts';
import { Warehouse } from './warehouse/warehouse.ts';

/** The jobs `compute` may run: they read the warehouse and write results into it. */
const COMPUTE_JOBS = ['rollups', 'forecast', 'pricing', 'experiments', 'customers'];

const USAGE = `usage: pricecast <command>
  serve                 run the API and the scheduled jobs (needs SOURCE_DATABASE_URL)
  ingest [--full]       pull from the source once (incremental by default) and refresh rollups
  reconcile             compare every source key with the warehouse once (deletes, silent updates)
  stripe [--resync|--full]  sync from Stripe once (needs STRIPE_API_KEY) and refresh rollups
  compute [job ...]     run jobs over the warehouse once (default: rollups, then every model job the
                        profile supports: ${COMPUTE_JOBS.slice(1).join(', ')})
  demo                  embedded PostgreSQL + generated shop history + the service on PORT
  keygen <tenant> [scope+scope]   print a new API key and its API_KEYS entry (scopes: ${SCOPES.join(', ')})`;

/** Each command's settings that are optional in general, so that a missing one is named with the rest. */
const REQUIRED: Record<string, Requirement['settings']> = {
  serve: ['SOURCE_DATABASE_URL'],
  ingest: ['SOURCE_DATABASE_URL'],
  reconcile: ['SOURCE_DATABASE_URL'],
  stripe: ['STRIPE_API_KEY'],
  compute: [],
  demo: [],
};

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === 'keygen') {
    const tenant = args[0];
    if (!tenant) throw new UsageError('keygen needs a tenant id');
    const { key, entry } = generateApiKey(tenant, (args[1] ?? 'read').split('+') as Scope[]);
    process.stdout.write(`API key: ${key}\nAPI_KEYS entry: ${entry}\n`);
    return;
  }
  if (!command || !Object.hasOwn(REQUIRED, command)) throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  const config = loadConfig(process.env, {}, { command, settings: REQUIRED[command]! });
  const logger = createLogger(config);
  switch (command) {
    case 'serve': {
      const service = await startService(config, logger);
      logger.info({ url: service.url }, 'serving');
      onSignals(service.shutdown, logger);
      return;
    }
    case 'demo':
      return runDemo(config, logger);
    case 'stripe': {
      const warehouse = await Warehouse.fromConfig(config);
      try {
        const stripe = stripeClient({ apiKey: config.STRIPE_API_KEY!, apiBase: config.STRIPE_API_BASE });
        const mode = args.includes('--full') ? 'full' : args.includes('--resync') ? 'resync' : 'incremental';
        const result = await syncStripe({ config, warehouse, stripe, logger }, { mode });
        const rollups = await refreshRollups(warehouse);
        process.stdout.write(JSON.stringify({ result, rollups }, null, 2) + '\n');
      } finally {
        await warehouse.close();
      }
      return;
    }
    case 'compute':
      return compute(config, logger, args);
    case 'ingest':
    case 'reconcile': {
      const warehouse = await Warehouse.fromConfig(config);
      try {
        // loadConfig required it for these commands.
        const source = openSourcePool(config.SOURCE_DATABASE_URL!, logger);
        try {
          const ctx = { config, warehouse, source, logger };
          await checkProfileColumns(source, configuredProfile(config));
          const result = command === 'ingest'
            ? await ingestAll(ctx, { mode: args.includes('--full') ? 'full' : 'incremental' })
            : await reconcileAll(ctx);
          const rollups = await refreshRollups(warehouse);
          process.stdout.write(JSON.stringify({ result, rollups }, null, 2) + '\n');
        } finally {
          await source.end();
        }
      } finally {
        await warehouse.close();
      }
      return;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
  }
}

/**
 * `pricecast compute`: the named jobs (default: every one the profile supports), in order, through
 * the job runner as the schedules run them (a job_runs row each, retries). The source is opened only
 * for the write-backs of those jobs that the configuration turns on; without them it needs no
 * SOURCE_DATABASE_URL.
 */
async function compute(config: Config, logger: Logger, names: string[]): Promise<void> {
  const unknown = names.filter((n) => !COMPUTE_JOBS.includes(n));
  if (unknown.length) throw new UsageError(`compute runs ${COMPUTE_JOBS.join(', ')}; not ${unknown.join(', ')}`);
  const caps = capabilities(configuredProfile(config));
  const jobs = names.length ? names : COMPUTE_JOBS.filter((job) => jobApplies(caps, job));
  const writesBack = jobs.map((job) => WRITE_BACKS[job]).filter((s) => s !== undefined && config[s]);
  if (writesBack.length && !config.SOURCE_DATABASE_URL) {
    throw new ConfigError([`SOURCE_DATABASE_URL: required for compute while ${writesBack.join(', ')} is on`]);
  }
  const source = config.SOURCE_DATABASE_URL ? openSourcePool(config.SOURCE_DATABASE_URL, logger) : NO_SOURCE;
  const warehouse = await Warehouse.fromConfig(config);
  try {
    const runner = new JobRunner(warehouse, defineJobs({ config, warehouse, source, logger }), {
      retries: config.JOB_RETRIES, retryBaseMs: config.JOB_RETRY_BASE_MS, logger,
    });
    const results: Record<string, unknown> = {};
    for (const job of jobs) results[job] = await runner.run(job);
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  } finally {
    await warehouse.close();
    if (source !== NO_SOURCE) await source.end();
  }
}

/** The setting under which a compute job writes to the source. */
const WRITE_BACKS: Record<string, 'FORECAST_WRITE_BACK' | 'PRICING_AUTO_APPLY' | 'CUSTOMERS_WRITE_BACK'> = {
  forecast: 'FORECAST_WRITE_BACK', pricing: 'PRICING_AUTO_APPLY', customers: 'CUSTOMERS_WRITE_BACK',
};

/** Stands in for the source where no job may reach it (checked above): a use would fail by name. */
const NO_SOURCE = new Proxy({}, {
  get: (_, prop) => {
    // Not a thenable: awaiting the object itself must not throw.
    if (prop === 'then') return undefined;
    throw new Error('no source database: SOURCE_DATABASE_URL is not set');
  },
}) as pg.Pool;

class UsageError extends Error {}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof ProfileColumnsError) {
    process.stderr.write(`${err.message}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
