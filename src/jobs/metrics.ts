import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RunOutcome } from './run-log.ts';

export interface JobMetrics {
  record(job: string, status: 'succeeded' | 'failed', seconds: number, outcome?: RunOutcome): void;
}

/** Prometheus series for job runs: what an operator alerts on (failures, staleness, volume). */
export function createJobMetrics(registry: Registry): JobMetrics {
  const runs = new Counter({ name: 'pricecast_job_runs_total', help: 'Job attempts by outcome', labelNames: ['job', 'status'], registers: [registry] });
  const duration = new Histogram({
    name: 'pricecast_job_duration_seconds',
    help: 'Duration of job attempts',
    labelNames: ['job', 'status'],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [registry],
  });
  const lastSuccess = new Gauge({ name: 'pricecast_job_last_success_timestamp_seconds', help: 'When each job last succeeded', labelNames: ['job'], registers: [registry] });
  const rows = new Counter({ name: 'pricecast_job_rows_total', help: 'Rows read, written and rejected by jobs', labelNames: ['job', 'kind'], registers: [registry] });
  return {
    record(job, status, seconds, outcome) {
      runs.inc({ job, status });
      duration.observe({ job, status }, seconds);
      if (status === 'succeeded') lastSuccess.set({ job }, Date.now() / 1000);
      if (outcome) {
        rows.inc({ job, kind: 'in' }, outcome.rowsIn ?? 0);
        rows.inc({ job, kind: 'out' }, outcome.rowsOut ?? 0);
        rows.inc({ job, kind: 'rejected' }, outcome.rejected ?? 0);
      }
    },
  };
}
