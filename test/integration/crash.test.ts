import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { factories } from '../helpers/factories.ts';
import { createSourceDb, tempDir, type SourceDb } from '../helpers/source-db.ts';

describe('a process killed mid-batch', () => {
  let db: SourceDb;
  const dir = tempDir();
  beforeAll(async () => {
    db = await createSourceDb();
    const f = factories(db.pool);
    const user = await f.user();
    for (let i = 0; i < 20; i++) {
      await f.order({ user_id: user, total: `${i + 1}.50`, created_at: `2026-02-0${1 + (i % 5)} 12:00:00` });
      await f.payment({ user_id: user, amount: `${i + 1}.50`, created_at: `2026-02-0${1 + (i % 5)} 12:00:00` });
    }
  });
  afterAll(async () => {
    await db.drop();
    dir.remove();
  });

  it('recovers to the last committed batch and the next run completes', async () => {
    const path = `${dir.path}/w.duckdb`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/crash-ingest.ts', db.url, path], { encoding: 'utf8' });
    expect(child.signal).toBe('SIGKILL');

    const config = loadConfig({ DUCKDB_PATH: path });
    const warehouse = await Warehouse.open({ path, threads: 1 });
    try {
      const state = await warehouse.query<{ entity: string }>(`SELECT entity FROM ingest_state ORDER BY entity`);
      expect(state.map((s) => s.entity)).toEqual(['customers', 'orders', 'products']);
      const [counts] = await warehouse.query<{ o: string; p: string }>(`SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM payments) AS p`);
      expect(counts).toEqual({ o: '20', p: '0' });
      // The killed batch left no deltas either: only the committed orders' +1 rows are there.
      const [deltas] = await warehouse.query<{ o: string; p: string }>(`SELECT (SELECT count(*) FROM delta_orders WHERE sign = 1) AS o, (SELECT count(*) FROM delta_payments) AS p`);
      expect(deltas).toEqual({ o: '20', p: '0' });

      // A pipe a killed process left behind (its name carries the dead pid) is swept by the next run.
      writeFileSync(`${dir.path}/tmp/payments-${child.pid}-0123abcd.pipe`, '');
      const leftovers = () => readdirSync(`${dir.path}/tmp`).filter((n) => n.includes(`-${child.pid}-`));
      await ingestAll({ config, warehouse, source: db.pool });
      expect(leftovers()).toEqual([]);
      const [sum] = await warehouse.query<{ s: string; n: string }>(`SELECT sum(amount)::VARCHAR AS s, count(*) AS n FROM payments`);
      const { rows } = await db.pool.query<{ s: string; n: string }>(`SELECT sum(amount)::text AS s, count(*)::text AS n FROM payments`);
      expect(sum).toEqual(rows[0]);
    } finally {
      await warehouse.close();
    }
  });
});
