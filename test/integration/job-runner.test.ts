import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createJobMetrics } from '../../src/jobs/metrics.ts';
import { JobRunner } from '../../src/jobs/runner.ts';
import { useScratchWarehouse } from '../helpers/warehouse.ts';

describe('JobRunner', () => {
  const scratch = useScratchWarehouse();

  it('records every attempt and retries with backoff until success', async () => {
    const registry = new Registry();
    let calls = 0;
    const runner = new JobRunner(scratch.wh, {
      flaky: async () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return { rowsIn: 7, rowsOut: 6, rejected: 1 };
      },
    }, { retries: 3, retryBaseMs: 10, logger: pino({ level: 'silent' }), metrics: createJobMetrics(registry) });
    const out = await runner.run('flaky');
    expect(out.rowsOut).toBe(6);
    const runs = await scratch.wh.query<{ attempt: number; status: string; error: string | null; rows_rejected: string }>(
      `SELECT attempt, status, error, rows_rejected FROM job_runs WHERE job = 'flaky' ORDER BY id`,
    );
    const text = await registry.metrics();
    expect(text).toContain('pricecast_job_runs_total{job="flaky",status="failed"} 2');
    expect(text).toContain('pricecast_job_runs_total{job="flaky",status="succeeded"} 1');
    expect(text).toContain('pricecast_job_rows_total{job="flaky",kind="rejected"} 1');
    expect(runs).toEqual([
      { attempt: 1, status: 'failed', error: 'boom 1', rows_rejected: '0' },
      { attempt: 2, status: 'failed', error: 'boom 2', rows_rejected: '0' },
      { attempt: 3, status: 'succeeded', error: null, rows_rejected: '1' },
    ]);
  });

  it('joins a run already under way instead of overlapping, and drain waits for it', async () => {
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const runner = new JobRunner(scratch.wh, {
      slow: async () => {
        started++;
        await gate;
        return {};
      },
    }, { retries: 0, retryBaseMs: 10, logger: pino({ level: 'silent' }) });
    const a = runner.run('slow');
    const b = runner.run('slow');
    expect(a).toBe(b);
    expect(await runner.drain(20)).toBe(false);
    release();
    expect(await runner.drain(1000)).toBe(true);
    await a;
    expect(started).toBe(1);
  });
});
