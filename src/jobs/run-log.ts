import type { Warehouse } from '../warehouse/warehouse.ts';

export interface RunOutcome {
  rowsIn?: number;
  rowsOut?: number;
  rejected?: number;
  detail?: unknown;
}

/** Records the start of one attempt of a job in `job_runs`; returns its id. */
export async function startRun(wh: Warehouse, job: string, attempt: number): Promise<number> {
  return wh.withWriter(async (conn) => {
    const r = await conn.runAndReadAll(
      `INSERT INTO job_runs (job, attempt, started_at, status) VALUES ($job, $attempt, now()::TIMESTAMP, 'running') RETURNING id`,
      { job, attempt },
    );
    return Number((r.getRowObjectsJson()[0] as { id: string }).id);
  });
}

export async function finishRun(wh: Warehouse, id: number, status: 'succeeded' | 'failed', outcome: RunOutcome, error?: unknown): Promise<void> {
  await wh.withWriter((conn) =>
    conn.run(
      `UPDATE job_runs SET finished_at = now()::TIMESTAMP, status = $status, rows_in = $rowsIn, rows_out = $rowsOut,
         rows_rejected = $rejected, error = $error, detail = $detail::JSON WHERE id = $id`,
      {
        id,
        status,
        rowsIn: outcome.rowsIn ?? 0,
        rowsOut: outcome.rowsOut ?? 0,
        rejected: outcome.rejected ?? 0,
        error: error === undefined ? null : error instanceof Error ? error.message : String(error),
        detail: outcome.detail === undefined ? null : JSON.stringify(outcome.detail),
      },
    ),
  );
}

/** Runs left 'running' by a process that died: marked failed at start-up so staleness is honest. */
export async function failOrphanedRuns(wh: Warehouse): Promise<void> {
  await wh.withWriter((conn) =>
    conn.run(`UPDATE job_runs SET status = 'failed', finished_at = now()::TIMESTAMP, error = 'process ended during the run' WHERE status = 'running'`),
  );
}
