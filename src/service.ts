import pg from 'pg';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createApp } from './api/app.ts';
import { serve } from './api/server.ts';
import type { Config } from './config.ts';
import { defineJobs } from './jobs/definitions.ts';
import { createJobMetrics } from './jobs/metrics.ts';
import { failOrphanedRuns } from './jobs/run-log.ts';
import { JobRunner } from './jobs/runner.ts';
import { scheduleJobs } from './jobs/scheduler.ts';
import { Warehouse } from './warehouse/warehouse.ts';
import { capabilities, jobApplies } from './ingest/capabilities.ts';
import { checkProfileColumns, configuredProfile, ProfileColumnsError } from './ingest/profile.ts';

export interface Service {
  url: string;
  warehouse: Warehouse;
  runner: JobRunner;
  /** Stops cron, waits for a running job up to the deadline, then closes HTTP, DuckDB and the pool. */
  shutdown(reason: string): Promise<void>;
}

/** Opens the source pool against SOURCE_DATABASE_URL, pinned to UTC. */
export function openSourcePool(url: string, logger?: Logger): pg.Pool {
  // Session settings in the startup packet: no extra round trip, no race with the first query.
  const pool = new pg.Pool({ connectionString: url, max: 4, application_name: 'pricecast', options: '-c TimeZone=UTC -c DateStyle=ISO,YMD' });
  // An idle connection dropped by the server (restart, failover) must not crash the process; the
  // next job gets a fresh connection and, if the source is still down, fails and retries.
  pool.on('error', (err) => logger?.warn({ err: err.message }, 'idle source connection lost'));
  return pool;
}

/**
 * The composition root of a running service: warehouse, source pool, job runner and schedules,
 * HTTP API. `runFirst` runs these jobs once before the schedules start (the demo's first ingest).
 */
export async function startService(config: Config, logger: Logger, opts: { runFirst?: string[] } = {}): Promise<Service> {
  if (!config.SOURCE_DATABASE_URL) throw new Error('SOURCE_DATABASE_URL is required to serve');
  const warehouse = await Warehouse.fromConfig(config);
  const source = openSourcePool(config.SOURCE_DATABASE_URL, logger);
  const profile = configuredProfile(config);
  try {
    await checkProfileColumns(source, profile);
  } catch (err) {
    // A profile whose SQL lacks a column can never ingest: stop here, naming entity and column. A
    // source that is merely down is the jobs' business (they retry; /readyz reports it).
    if (err instanceof ProfileColumnsError) {
      await Promise.allSettled([source.end(), warehouse.close()]);
      throw err;
    }
    logger.warn({ err: (err as Error).message }, 'source unreachable at start-up: profile columns not checked');
  }
  const caps = capabilities(profile);
  await failOrphanedRuns(warehouse);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const runner = new JobRunner(warehouse, defineJobs({ config, warehouse, source, logger }), {
    retries: config.JOB_RETRIES,
    retryBaseMs: config.JOB_RETRY_BASE_MS,
    logger,
    metrics: createJobMetrics(registry),
  });
  // Model jobs of analyses the profile cannot support would only produce empty results.
  const applies = (job: string) => jobApplies(caps, job);
  for (const job of (opts.runFirst ?? []).filter(applies)) await runner.run(job);

  const app = createApp({
    config,
    warehouse,
    logger,
    registry,
    source,
    capabilities: caps,
    readiness: async () => {
      try {
        await source.query('SELECT 1');
        return { ready: true };
      } catch (err) {
        return { ready: false, detail: { source: (err as Error).message } };
      }
    },
  });
  const server = await serve(app, { host: config.HOST, port: config.PORT });
  const schedules = config.SCHEDULER_ENABLED
    ? scheduleJobs(runner, [
        { job: 'ingest', cron: config.INGEST_SCHEDULE },
        { job: 'reconcile', cron: config.RECONCILE_SCHEDULE },
        { job: 'forecast', cron: config.FORECAST_SCHEDULE },
        { job: 'pricing', cron: config.PRICING_SCHEDULE },
        { job: 'experiments', cron: config.EXPERIMENTS_SCHEDULE },
        { job: 'customers', cron: config.CUSTOMERS_SCHEDULE },
        ...(config.STRIPE_API_KEY ? [{ job: 'stripe', cron: config.STRIPE_SCHEDULE }, { job: 'stripe-resync', cron: config.STRIPE_RESYNC_SCHEDULE }] : []),
      ].filter((s) => applies(s.job)), logger)
    : null;

  let closing: Promise<void> | null = null;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      const deadline = config.SHUTDOWN_TIMEOUT_MS;
      logger.info({ reason, deadlineMs: deadline }, 'shutting down');
      await schedules?.stop();
      const drained = await runner.drain(deadline);
      if (!drained) logger.warn({ deadlineMs: deadline }, 'a job was still running at the deadline; interrupting it (its transaction rolls back)');
      await server.close(Math.max(1000, deadline / 3));
      await warehouse.close({ interruptAfterMs: 0 });
      await source.end();
      logger.info('stopped');
    })();
    return closing;
  };
  return { url: server.url, warehouse, runner, shutdown };
}

/** SIGTERM/SIGINT → graceful shutdown, then exit; a second signal exits at once. */
export function onSignals(shutdown: (reason: string) => Promise<void>, logger: Logger, after?: () => Promise<void>): void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count > 1) process.exit(130);
    shutdown(signal)
      .then(() => after?.())
      .then(() => process.exit(0))
      .catch((err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
