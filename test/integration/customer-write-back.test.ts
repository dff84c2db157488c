import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAll } from '../../src/ingest/run.ts';
import { defineJobs } from '../../src/jobs/definitions.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { generatedProfileSource, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * CUSTOMERS_WRITE_BACK on b2b-distribution: the customers job writes each tenant's statuses and
 * expected order dates into the source's customers, only where they differ, within its distributor,
 * audited; a failure mid-tenant leaves that tenant's source rows untouched.
 */
describe('customer status write-back (b2b-distribution)', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let tenants: string[];

  beforeAll(async () => {
    let truth: { tenants: string[] };
    ({ db, truth } = await generatedProfileSource('b2b-distribution', { seed: 8, orders: 2500, days: 120, tenants: 2, end: new Date('2026-09-15T00:00:00Z') }));
    tenants = truth.tenants;
    tw = await openTestWarehouse(db.pool, { PROFILE: 'b2b-distribution', CUSTOMERS_WRITE_BACK: 'true' });
    await ingestAll(tw.ctx);
    await refreshRollups(tw.warehouse);
  }, 120_000);

  afterAll(async () => {
    await tw?.close();
    await db?.drop();
  });

  const sourceRows = async () => (await db.pool.query<{ tenant: string; id: string; status: string; next: string | null; updated_at: Date }>(`
    SELECT distributor_id::text AS tenant, id::text, status, to_char(expected_order_date, 'YYYY-MM-DD') AS next, updated_at FROM customers ORDER BY id`)).rows;
  const latestScores = (tenant: string) => tw.warehouse.query<{ customer_id: string; status: string; next: string | null }>(`
    SELECT customer_id, status, strftime(expected_next_order, '%Y-%m-%d') AS next FROM customer_scores
    WHERE run_id = (SELECT max(run_id) FROM customer_model_runs WHERE tenant_id = $t) ORDER BY customer_id`, { t: tenant });

  it('writes the changed statuses of every tenant, audits them, and a second run changes nothing', async () => {
    const before = await sourceRows();
    const jobs = defineJobs(tw.ctx as never);
    const first = (await jobs.customers!({ jobRunId: 41 } as never)) as { detail: { statusesWritten: { tenant: string; updated: number; unchanged: number; missing: number }[] } };
    const after = await sourceRows();
    const byId = new Map(after.map((r) => [r.id, r]));
    for (const tenant of tenants) {
      const scores = await latestScores(tenant);
      expect(scores.length).toBeGreaterThan(50);
      for (const s of scores) expect(byId.get(s.customer_id), s.customer_id).toMatchObject({ tenant, status: s.status, next: s.next });
      const changed = before.filter((b) => b.tenant === tenant && scores.some((s) => s.customer_id === b.id && (s.status !== b.status || s.next !== b.next)));
      const written = first.detail.statusesWritten.find((w) => w.tenant === tenant)!;
      expect(written).toMatchObject({ updated: changed.length, unchanged: scores.length - changed.length, missing: 0 });
      expect(changed.length).toBeGreaterThan(0);
      // Only the changed rows were touched.
      const untouched = before.filter((b) => b.tenant === tenant && !changed.some((c) => c.id === b.id));
      for (const u of untouched) expect(byId.get(u.id)!.updated_at).toEqual(u.updated_at);
    }
    const audit = await tw.warehouse.query<{ tenant_id: string; job_run_id: string; updated: string }>(
      `SELECT tenant_id, job_run_id::VARCHAR AS job_run_id, updated::VARCHAR AS updated FROM customer_write_back_audit ORDER BY tenant_id`);
    expect(audit).toEqual(first.detail.statusesWritten.map((w) => ({ tenant_id: w.tenant, job_run_id: '41', updated: String(w.updated) })).sort((a, b) => a.tenant_id.localeCompare(b.tenant_id)));

    const second = (await jobs.customers!({ jobRunId: 42 } as never)) as typeof first;
    for (const w of second.detail.statusesWritten) expect(w.updated).toBe(0);
  }, 60_000);

  it('a failure inside a tenant\'s update rolls that tenant back whole', async () => {
    // Flip every status at the source, then make the second row the write-back updates fail.
    await db.pool.query(`UPDATE customers SET status = 'NO_ORDERS_YET', expected_order_date = NULL`);
    await db.pool.query(`
      CREATE FUNCTION fail_second() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('test.seen', true) = '1' THEN RAISE EXCEPTION 'injected failure'; END IF;
        PERFORM set_config('test.seen', '1', true);
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_second BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION fail_second();`);
    const audited = await tw.warehouse.query<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM customer_write_back_audit`);
    const jobs = defineJobs(tw.ctx as never);
    await expect(jobs.customers!({ jobRunId: 43 } as never)).rejects.toThrow(/injected failure/);
    expect((await sourceRows()).every((r) => r.status === 'NO_ORDERS_YET' && r.next === null)).toBe(true);
    expect((await tw.warehouse.query<{ n: string }>(`SELECT count(*)::VARCHAR AS n FROM customer_write_back_audit`))[0]!.n).toBe(audited[0]!.n);
    await db.pool.query(`DROP TRIGGER fail_second ON customers; DROP FUNCTION fail_second()`);
  }, 60_000);
});
