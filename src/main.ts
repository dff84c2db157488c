import { generateApiKey } from './api-keys.ts';
import { ConfigError, loadConfig, SCOPES, type Scope } from './config.ts';
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

const USAGE = `usage: pricecast <command>
  serve                 run the API and the scheduled jobs (needs SOURCE_DATABASE_URL)
  ingest [--full]       pull from the source once (incremental by default) and refresh rollups
  reconcile             compare every source key with the warehouse once (deletes, silent updates)
  stripe [--resync|--full]  sync from Stripe once (needs STRIPE_API_KEY) and refresh rollups
  compute               recompute rollups and models from the warehouse
  demo                  embedded PostgreSQL + generated shop history + the service on PORT
  keygen <tenant> [scope+scope]   print a new API key and its API_KEYS entry (scopes: ${SCOPES.join(', ')})`;

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  if (command === 'keygen') {
    const tenant = args[0];
    if (!tenant) throw new UsageError('keygen needs a tenant id');
    const { key, entry } = generateApiKey(tenant, (args[1] ?? 'read').split('+') as Scope[]);
    process.stdout.write(`API key: ${key}\nAPI_KEYS entry: ${entry}\n`);
    return;
  }
  const config = loadConfig();
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
      if (!config.STRIPE_API_KEY) throw new ConfigError(['STRIPE_API_KEY: required for the stripe command']);
      const warehouse = await Warehouse.fromConfig(config);
      try {
        const stripe = stripeClient({ apiKey: config.STRIPE_API_KEY, apiBase: config.STRIPE_API_BASE });
        const mode = args.includes('--full') ? 'full' : args.includes('--resync') ? 'resync' : 'incremental';
        const result = await syncStripe({ config, warehouse, stripe, logger }, { mode });
        const rollups = await refreshRollups(warehouse);
        process.stdout.write(JSON.stringify({ result, rollups }, null, 2) + '\n');
      } finally {
        await warehouse.close();
      }
      return;
    }
    case 'ingest':
    case 'reconcile':
    case 'compute': {
      const warehouse = await Warehouse.fromConfig(config);
      try {
        if (command === 'compute') {
          process.stdout.write(JSON.stringify(await refreshRollups(warehouse, { full: true }), null, 2) + '\n');
          return;
        }
        if (!config.SOURCE_DATABASE_URL) throw new ConfigError(['SOURCE_DATABASE_URL: required for ingest']);
        const source = openSourcePool(config.SOURCE_DATABASE_URL, logger);
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

class UsageError extends Error {}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError || err instanceof ProfileColumnsError) {
    process.stderr.write(`${err.message}\n${err instanceof UsageError ? USAGE + '\n' : ''}`);
    process.exit(2);
  }
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
