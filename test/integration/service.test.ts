import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { loadConfig } from '../../src/config.ts';
import { startService, type Service } from '../../src/service.ts';
import { factories } from '../helpers/factories.ts';
import { createSourceDb, tempDir, type SourceDb } from '../helpers/source-db.ts';

/**
 * The composed service (warehouse, source pool, jobs, HTTP) as `pricecast serve` runs it: the ingest
 * job feeds the API, a failing job marks responses stale while the last good numbers stay served, and
 * shutdown closes everything.
 */
describe('the service as a whole', () => {
  let db: SourceDb;
  let service: Service;
  const dir = tempDir();
  const { key, entry } = generateApiKey('default', ['read']);

  const summary = async () => {
    const res = await fetch(`${service.url}/v1/kpis/summary?from=2026-03-01&to=2026-03-08`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { stale: boolean; as_of: string; metrics: { revenue_gross: { amount: string }[] } };
  };

  beforeAll(async () => {
    db = await createSourceDb();
    const f = factories(db.pool);
    const user = await f.user();
    await f.payment({ user_id: user, amount: '12.30', created_at: '2026-03-02 10:00:00' });
    await f.payment({ user_id: user, amount: '7.70', created_at: '2026-03-03 10:00:00' });
    const config = loadConfig({
      SOURCE_DATABASE_URL: db.url,
      DUCKDB_PATH: `${dir.path}/w.duckdb`,
      PORT: '0',
      API_KEYS: entry,
      SCHEDULER_ENABLED: 'false',
      JOB_RETRIES: '0',
      LOG_LEVEL: 'silent',
    });
    service = await startService(config, pino({ level: 'silent' }), { runFirst: ['ingest'] });
  });

  afterAll(async () => {
    await service?.shutdown('test');
    await db?.drop();
    dir.remove();
  });

  it('serves what the first ingest loaded, fresh', async () => {
    const body = await summary();
    expect(body.stale).toBe(false);
    expect(body.as_of).toBe('2026-03-03T10:00:00.000Z'); // the newest payment's cursor
    expect(body.metrics.revenue_gross[0]?.amount).toBe('20.00');
  });

  it('keeps serving the last good result, marked stale, when the ingest fails', async () => {
    await db.pool.query('ALTER TABLE payments RENAME TO payments_gone');
    await expect(service.runner.run('ingest')).rejects.toThrow(/payments/);
    const body = await summary();
    expect(body.stale).toBe(true);
    expect(body.metrics.revenue_gross[0]?.amount).toBe('20.00');
    const [run] = await service.warehouse.query<{ status: string; error: string }>(`SELECT status, error FROM job_runs ORDER BY id DESC LIMIT 1`);
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/payments/);

    await db.pool.query('ALTER TABLE payments_gone RENAME TO payments');
    await service.runner.run('ingest');
    expect((await summary()).stale).toBe(false);
  });

  it('answers a repeated request from the cache until the next refresh, then with the new numbers', async () => {
    const before = await summary();
    expect(await summary()).toEqual(before);
    const f = factories(db.pool);
    await f.payment({ user_id: null, amount: '5.00', created_at: '2026-03-04 10:00:00' });
    await service.runner.run('ingest');
    const after = await summary();
    expect(after.metrics.revenue_gross[0]?.amount).toBe('25.00');
  });
});
