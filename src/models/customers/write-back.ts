import type pg from 'pg';
import type { Warehouse } from '../../warehouse/warehouse.ts';

/** Profiles whose source keeps a behaviour status per customer that the write-back knows (seed 001). */
export const STATUS_WRITE_BACK_PROFILES = ['b2b-distribution'] as const;

export interface StatusWriteBack {
  tenant: string;
  runId: number;
  updated: number;
  unchanged: number;
  missing: number;
}

/**
 * Optional write-back (CUSTOMERS_WRITE_BACK) of the latest customers run of every tenant into seed
 * 001's `customers.status` and `expected_order_date`. Per tenant, one PostgreSQL transaction updates
 * only the rows whose values differ (and their updated_at), scoped by distributor_id so one tenant's
 * run can never touch another's customers; then one audit row records the run written and the counts.
 * A failure rolls the tenant's transaction back whole and fails the job (earlier tenants stay written
 * and audited).
 */
export async function writeCustomerStatuses(source: pg.Pool, wh: Warehouse, opts: { jobRunId?: number | null } = {}): Promise<StatusWriteBack[]> {
  const runs = await wh.query<{ tenant_id: string; run_id: string }>(`
    SELECT tenant_id, max(run_id)::VARCHAR AS run_id FROM customer_model_runs GROUP BY tenant_id ORDER BY tenant_id`);
  const out: StatusWriteBack[] = [];
  for (const run of runs) {
    const scores = await wh.query<{ customer_id: string; status: string; next: string | null }>(`
      SELECT customer_id, status, strftime(expected_next_order, '%Y-%m-%d') AS next FROM customer_scores WHERE run_id = $r::BIGINT`, { r: run.run_id });
    const client = await source.connect();
    let result: StatusWriteBack;
    try {
      await client.query('BEGIN');
      // Arrays as parameters: one statement whatever the number of customers.
      const { rows } = await client.query<{ updated: string; unchanged: string; matched: string }>(`
        WITH v AS (SELECT * FROM unnest($2::text[], $3::text[], $4::date[]) AS v(id, status, next)),
        t AS (SELECT c.id, v.status, v.next, (c.status, c.expected_order_date) IS DISTINCT FROM (v.status, v.next) AS differs
              FROM customers c JOIN v ON c.id::text = v.id WHERE c.distributor_id::text = $1),
        u AS (UPDATE customers c SET status = t.status, expected_order_date = t.next, updated_at = now()
              FROM t WHERE c.id = t.id AND t.differs RETURNING 1)
        SELECT (SELECT count(*) FROM u)::text AS updated, (SELECT count(*) FROM t WHERE NOT differs)::text AS unchanged,
               (SELECT count(*) FROM t)::text AS matched`,
        [run.tenant_id, scores.map((s) => s.customer_id), scores.map((s) => s.status), scores.map((s) => s.next)]);
      await client.query('COMMIT');
      const r = rows[0]!;
      result = { tenant: run.tenant_id, runId: Number(run.run_id), updated: Number(r.updated), unchanged: Number(r.unchanged), missing: scores.length - Number(r.matched) };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    await wh.withWriter((c) => c.run(`
      INSERT INTO customer_write_back_audit VALUES (now()::TIMESTAMP, $t, $r::BIGINT, $j::BIGINT, $u, $n, $m)`,
      { t: result.tenant, r: String(result.runId), j: opts.jobRunId == null ? null : String(opts.jobRunId), u: result.updated, n: result.unchanged, m: result.missing } as never));
    out.push(result);
  }
  return out;
}
