import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { generateApiKey } from './api-keys.ts';
import type { Config } from './config.ts';
import { onSignals, startService } from './service.ts';
import { startEmbeddedPostgres } from './source/embedded-postgres.ts';
import { createSourceSchema } from './source/schema.ts';
import { generatePricingPlatform, writeTruth } from './synth/pricing-platform.ts';

/**
 * `pricecast demo`: an embedded PostgreSQL with the default profile's schema and a deterministic shop
 * history, a fresh warehouse, one ingest, then the service on PORT with a printed admin key.
 */
export async function runDemo(config: Config, logger: Logger): Promise<void> {
  const t0 = Date.now();
  const pgServer = await startEmbeddedPostgres();
  try {
    await pgServer.createDatabase('shop');
    const url = pgServer.url('shop');
    const client = new pg.Client(url);
    await client.connect();
    try {
      await createSourceSchema(client, 'pricing-platform');
      logger.info({ orders: config.DEMO_ORDERS, seed: config.DEMO_SEED }, 'generating demo data');
      const truth = await generatePricingPlatform(client, { seed: config.DEMO_SEED, orders: config.DEMO_ORDERS });
      await writeTruth(join(dirname(config.DUCKDB_PATH), 'demo-truth.json'), truth);
    } finally {
      await client.end();
    }
    // A fresh warehouse every time, so the demo always shows exactly the generated history.
    for (const suffix of ['', '.wal']) rmSync(`${config.DUCKDB_PATH}${suffix}`, { force: true });
    const { key, entry } = generateApiKey(config.TENANT_ID, ['read', 'pricing:write', 'jobs:run', 'admin']);
    const demoConfig: Config = {
      ...config,
      SOURCE_DATABASE_URL: url,
      API_KEYS: [...config.API_KEYS, { hash: entry.split(':')[0]!, tenantId: config.TENANT_ID, scopes: ['read', 'pricing:write', 'jobs:run', 'admin'] }],
    };
    const service = await startService(demoConfig, logger, { runFirst: ['ingest', 'forecast', 'pricing', 'experiments', 'customers'] });
    onSignals(service.shutdown, logger, () => pgServer.stop());
    const lines = [
      '',
      `pricecast demo is up (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      `Source database: ${url}`,
      `API: ${service.url}`,
      `Docs: ${service.url}/docs`,
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
