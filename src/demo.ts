import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { generateApiKey } from './api-keys.ts';
import type { Config } from './config.ts';
import { onSignals, startService } from './service.ts';
import { startEmbeddedPostgres } from './source/embedded-postgres.ts';
import { createSourceSchema } from './source/schema.ts';
import { GENERATORS } from './synth/generators.ts';
import { profileLocation, readManifest } from './ingest/profile.ts';
import { ConfigError } from './config.ts';
import { writeFile, mkdir } from 'node:fs/promises';

/**
 * `pricecast demo`: an embedded PostgreSQL with the configured shipped profile's schema (PROFILE,
 * default pricing-platform) and a deterministic history, a fresh warehouse, one ingest and the model
 * jobs, then the service on PORT with a printed admin key of the (first) tenant.
 */
export async function runDemo(config: Config, logger: Logger): Promise<void> {
  if (config.PROFILE_DIR) throw new ConfigError(['PROFILE_DIR: the demo generates data for a shipped PROFILE only; unset PROFILE_DIR']);
  const t0 = Date.now();
  let tenants: string[];
  const pgServer = await startEmbeddedPostgres();
  try {
    await pgServer.createDatabase('shop');
    const url = pgServer.url('shop');
    const client = new pg.Client(url);
    await client.connect();
    try {
      await createSourceSchema(client, config.PROFILE);
      logger.info({ profile: config.PROFILE, orders: config.DEMO_ORDERS, seed: config.DEMO_SEED }, 'generating demo data');
      const truth = await GENERATORS[config.PROFILE](client, { seed: config.DEMO_SEED, orders: config.DEMO_ORDERS });
      // A freshly loaded database has no planner statistics; some profile SQL plans badly without them.
      await client.query('ANALYZE');
      // Single-tenant profiles stamp rows with TENANT_ID; a multi-tenant one's rows carry their own.
      tenants = readManifest(profileLocation(config).dir).tenant === 'column' ? truth.tenants : [config.TENANT_ID];
      const path = join(dirname(config.DUCKDB_PATH), 'demo-truth.json');
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify(truth.generator === 'pricing-platform' ? truth.extra : truth, null, 2) + '\n', 'utf8');
    } finally {
      await client.end();
    }
    // A fresh warehouse every time, so the demo always shows exactly the generated history.
    for (const suffix of ['', '.wal']) rmSync(`${config.DUCKDB_PATH}${suffix}`, { force: true });
    const tenant = tenants[0]!;
    const { key, entry } = generateApiKey(tenant, ['read', 'pricing:write', 'jobs:run', 'admin']);
    const demoConfig: Config = {
      ...config,
      SOURCE_DATABASE_URL: url,
      API_KEYS: [...config.API_KEYS, { hash: entry.split(':')[0]!, tenantId: tenant, scopes: ['read', 'pricing:write', 'jobs:run', 'admin'] }],
    };
    const service = await startService(demoConfig, logger, { runFirst: ['ingest', 'forecast', 'pricing', 'experiments', 'customers'] });
    onSignals(service.shutdown, logger, () => pgServer.stop());
    const lines = [
      '',
      `pricecast demo is up (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      `Source database: ${url}`,
      `API: ${service.url}`,
      `Docs: ${service.url}/docs`,
      `Profile: ${config.PROFILE}`,
      ...(tenants.length > 1 ? [`Tenants (the key's own is the first; it is an admin key, so ?tenant=<id> reads the others): ${tenants.join(', ')}`] : []),
      `API key: ${key}`,
      `Try: curl -H "Authorization: Bearer ${key}" "${service.url}/v1/kpis/summary?compare=previous_period"`,
      'Ctrl-C stops the service and the embedded PostgreSQL.',
      '',
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    await pgServer.stop().catch(() => undefined);
    throw err;
  }
}
