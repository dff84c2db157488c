import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { JobRunner } from './runner.ts';

export interface Schedule {
  job: string;
  cron: string;
}

/**
 * Cron triggers for the runner, in UTC, never overlapping themselves (noOverlap; the runner also
 * joins a run already under way). Returns a stop function for shutdown.
 */
export function scheduleJobs(runner: JobRunner, schedules: Schedule[], logger: Logger): { stop(): Promise<void>; tasks: ScheduledTask[] } {
  const cronLogger = {
    info: (m: string) => logger.debug({ component: 'cron' }, m),
    warn: (m: string) => logger.warn({ component: 'cron' }, m),
    error: (m: string | Error, err?: Error) => logger.error({ component: 'cron', err: err ?? m }, String(m)),
    debug: (m: string | Error) => logger.trace({ component: 'cron' }, String(m)),
  };
  const tasks = schedules.map(({ job, cron: expr }) =>
    cron.schedule(
      expr,
      async () => {
        // Errors are recorded in job_runs and logged by the runner; the schedule goes on.
        await runner.run(job).catch(() => undefined);
      },
      { name: job, timezone: 'UTC', noOverlap: true, logger: cronLogger },
    ),
  );
  return {
    tasks,
    async stop() {
      await Promise.all(tasks.map((t) => t.stop()));
      await Promise.all(tasks.map((t) => t.destroy()));
    },
  };
}
