import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { Warehouse } from '../warehouse/warehouse.ts';
import type { JobMetrics } from './metrics.ts';
import { finishRun, startRun, type RunOutcome } from './run-log.ts';

export type JobFn = (ctx: { jobRunId: number; signal: AbortSignal }) => Promise<RunOutcome>;

export interface RunnerOptions {
  retries: number;
  retryBaseMs: number;
  logger: Logger;
  metrics?: JobMetrics;
}

/**
 * Runs named jobs: every attempt is a `job_runs` row, failures retry with exponential backoff and
 * jitter, and `drain` lets shutdown wait for whatever is running. One job at a time per name.
 */
export class JobRunner {
  private readonly running = new Map<string, Promise<RunOutcome>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly wh: Warehouse,
    private readonly jobs: Record<string, JobFn>,
    private readonly opts: RunnerOptions,
  ) {}

  names(): string[] {
    return Object.keys(this.jobs);
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  /** Runs a job now; a second call while it runs joins the running one instead of overlapping. */
  run(name: string): Promise<RunOutcome> {
    const existing = this.running.get(name);
    if (existing) return existing;
    const fn = this.jobs[name];
    if (!fn) return Promise.reject(new Error(`unknown job ${name}`));
    const p = this.runWithRetry(name, fn).finally(() => this.running.delete(name));
    this.running.set(name, p);
    return p;
  }

  private runWithRetry(name: string, fn: JobFn): Promise<RunOutcome> {
    const { logger } = this.opts;
    const signal = this.abort.signal;
    return pRetry(
      async (attempt) => {
        if (signal.aborted) throw new AbortError('shutting down');
        const id = await startRun(this.wh, name, attempt);
        const started = Date.now();
        try {
          const outcome = await fn({ jobRunId: id, signal });
          await finishRun(this.wh, id, 'succeeded', outcome);
          this.opts.metrics?.record(name, 'succeeded', (Date.now() - started) / 1000, outcome);
          logger.info({ job: name, run: id, attempt, ms: Date.now() - started, rowsIn: outcome.rowsIn, rowsOut: outcome.rowsOut, rejected: outcome.rejected, outcome: 'succeeded' }, 'job run');
          return outcome;
        } catch (err) {
          await finishRun(this.wh, id, 'failed', {}, err).catch(() => undefined);
          this.opts.metrics?.record(name, 'failed', (Date.now() - started) / 1000);
          logger.warn({ job: name, run: id, attempt, ms: Date.now() - started, err, outcome: 'failed' }, 'job run');
          throw err;
        }
      },
      // Shutdown stops further attempts but lets the running one finish (drain waits for it), so the
      // signal is checked between attempts rather than handed to p-retry, which would abandon it.
      { retries: this.opts.retries, minTimeout: this.opts.retryBaseMs, factor: 2, randomize: true, shouldRetry: () => !signal.aborted },
    );
  }

  /** Stops retries and waits up to `deadlineMs` for running jobs; true if they all finished. */
  async drain(deadlineMs: number): Promise<boolean> {
    this.abort.abort();
    const all = Promise.allSettled([...this.running.values()]).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), deadlineMs);
    });
    const done = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return done;
  }
}
