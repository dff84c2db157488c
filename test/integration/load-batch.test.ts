import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENTITIES } from '../../src/ingest/entities.ts';
import { loadBatch } from '../../src/ingest/load-batch.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';
import { MIGRATIONS } from '../../src/warehouse/migrations.ts';
import { withKey } from '../helpers/kpi-facts.ts';
import { useScratchWarehouse } from '../helpers/warehouse.ts';

const header = ['tenant_id', 'order_id', 'customer_id', 'status', 'raw_status', 'total', 'currency', 'created_at', '_cursor_ts'];

const tableDdl = async (wh: Warehouse) =>
  (await wh.query<{ sql: string }>(`SELECT sql FROM duckdb_tables() WHERE table_name = 'orders'`))[0]?.sql;

// An empty table takes the staged batch in place (swap); one with rows gets it merged by key.
describe.each([
  { path: 'into an empty table (staged in place)', otherTenantRows: 0, expected: 'swap' },
  { path: 'into a table with rows (merged by key)', otherTenantRows: 1, expected: 'merge' },
])('loadBatch on a CSV batch, $path', ({ otherTenantRows, expected }) => {
  const scratch = useScratchWarehouse();

  it('keeps the newest version of a key seen twice, checks each row on its own, and keeps the table\'s shape', async () => {
    const ddl = await tableDdl(scratch.wh);
    if (otherTenantRows) {
      await scratch.wh.withWriter((c) => c.run(withKey(`INSERT INTO orders (tenant_id, order_id, status, total, currency, created_at)
        VALUES ('t9', 'o1', 'paid', 1, 'USD', TIMESTAMP '2025-01-01')`)));
    }
    const path = `${scratch.dir}/orders.csv`;
    writeFileSync(path, [
      header.join(','),
      't1,o1,c1,paid,completed,10.00,USD,2026-01-01 10:00:00,2026-01-01 10:00:00',
      't1,o1,c1,refunded,refunded,10.00,USD,2026-01-01 10:00:00,2026-01-03 09:00:00',
      't1,o2,c1,paid,completed,1e999,USD,2026-01-02 10:00:00,2026-01-02 10:00:00',
      't1,o3,c2,paid,completed,"5.50",eur,2026-01-02 11:00:00,2026-01-02 11:00:00',
      't2,o1,c9,paid,completed,7.00,USD,not a time,2026-01-02 12:00:00',
      ',o4,c1,paid,completed,1.00,USD,2026-01-02 12:00:00,2026-01-02 12:00:00',
      // Blank keys: spaces, and a no-break space, are as missing as nothing.
      't1,"   ",c1,paid,completed,1.00,USD,2026-01-02 12:00:00,2026-01-02 12:00:00',
      't1,\u00a0,c1,paid,completed,1.00,USD,2026-01-02 12:00:00,2026-01-02 12:00:00',
    ].join('\n') + '\n');
    const r = await loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.orders!, input: { header, path }, jobRunId: null });
    expect(r).toMatchObject({ path: expected, rowsIn: 8, rowsOut: 2, rejected: 5, watermark: '2026-01-03 09:00:00' });
    const rows = await scratch.wh.query<{ k: string; status: string; total: string; currency: string }>(
      `SELECT tenant_id || '/' || order_id AS k, status, total::VARCHAR AS total, currency FROM orders WHERE tenant_id <> 't9' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { k: 't1/o1', status: 'refunded', total: '10.00', currency: 'USD' },
      { k: 't1/o3', status: 'paid', total: '5.50', currency: 'EUR' },
    ]);
    const rejects = await scratch.wh.query<{ key: string; reason: string }>(`SELECT key, reason FROM rejected_rows ORDER BY key`);
    expect(rejects).toEqual([
      { key: 'o4', reason: 'missing key tenant_id' },
      { key: 't1|   ', reason: 'missing key order_id' },
      { key: 't1|o2', reason: 'unparsable number total: 1e999' },
      { key: 't1|\u00a0', reason: 'missing key order_id' },
      { key: 't2|o1', reason: 'unparsable timestamp created_at: not a time' },
    ]);
    expect(await tableDdl(scratch.wh)).toBe(ddl);
    await expect(scratch.wh.withWriter((c) => c.run(`INSERT INTO orders (tenant_id, order_id, status, total, currency) VALUES ('t1', 'o5', 'paid', 1, 'USD')`)))
      .rejects.toThrow(/NOT NULL constraint failed: orders.created_at/);
    // Small batches record their +1 deltas for the rollups on either path.
    const deltas = await scratch.wh.query<{ n: string }>(`SELECT count(*) AS n FROM delta_orders WHERE sign = 1`);
    expect(Number(deltas[0]?.n)).toBe(2);
  });

  it('writes only what changed when a batch re-reads rows it already has', async () => {
    const load = (name: string, rows: string[]) => {
      const path = `${scratch.dir}/${name}.csv`;
      writeFileSync(path, [header.join(','), ...rows].join('\n') + '\n');
      return loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.orders!, input: { header, path }, jobRunId: null });
    };
    const o1 = 't1,o1,c1,paid,completed,10.00,USD,2026-01-01 10:00:00,2026-01-01 10:00:00';
    const o3 = 't1,o3,c2,paid,completed,5.50,EUR,2026-01-02 11:00:00,2026-01-02 11:00:00';
    await load('first', [o1, o3]);
    await scratch.wh.withWriter((c) => c.run('DELETE FROM delta_orders'));
    const r = await load('second', [
      o1,
      't1,o3,c2,refunded,refunded,5.50,EUR,2026-01-02 11:00:00,2026-01-04 08:00:00',
      't1,o6,c3,paid,completed,2.00,USD,2026-01-04 09:00:00,2026-01-04 09:00:00',
    ]);
    expect(r).toMatchObject({ path: 'merge', rowsIn: 3, rowsOut: 2, rejected: 0 });
    const rows = await scratch.wh.query<{ k: string; status: string }>(`SELECT order_id AS k, status FROM orders WHERE tenant_id = 't1' ORDER BY 1`);
    expect(rows).toEqual([{ k: 'o1', status: 'paid' }, { k: 'o3', status: 'refunded' }, { k: 'o6', status: 'paid' }]);
    // The unchanged o1 leaves no trace in the deltas; o3 is −1 paid, +1 refunded; o6 is +1.
    const deltas = await scratch.wh.query<{ sign: number; status: string; n: string }>(
      `SELECT sign, status, count(*) AS n FROM delta_orders GROUP BY ALL ORDER BY sign, status`);
    expect(deltas).toEqual([{ sign: -1, status: 'paid', n: '1' }, { sign: 1, status: 'paid', n: '1' }, { sign: 1, status: 'refunded', n: '1' }]);
  });

  it('finds a batch\'s current versions by key fingerprint and compares whole keys, so a colliding row is left alone', async () => {
    const load = (name: string, rows: string[]) => {
      const path = `${scratch.dir}/${name}.csv`;
      writeFileSync(path, [header.join(','), ...rows].join('\n') + '\n');
      return loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.orders!, input: { header, path }, jobRunId: null });
    };
    await load('base', ['t5,o1,c1,paid,completed,3.00,USD,2026-02-01 10:00:00,2026-02-01 10:00:00']);
    // A row of another key carrying o1's fingerprint: what an md5 collision would look like.
    await scratch.wh.withWriter((c) => c.run(`INSERT INTO orders (tenant_id, order_id, status, total, currency, created_at, _key)
      SELECT 't5', 'o99', 'paid', 9, 'USD', TIMESTAMP '2026-02-01', _key FROM orders WHERE tenant_id = 't5' AND order_id = 'o1'`));
    const r = await load('again', ['t5,o1,c1,refunded,refunded,3.00,USD,2026-02-01 10:00:00,2026-02-02 10:00:00']);
    expect(r).toMatchObject({ path: 'merge', rowsOut: 1 });
    const rows = await scratch.wh.query<{ k: string; status: string }>(`SELECT order_id AS k, status FROM orders WHERE tenant_id = 't5' ORDER BY 1`);
    expect(rows).toEqual([{ k: 'o1', status: 'refunded' }, { k: 'o99', status: 'paid' }]);
  });
});

describe('payment deltas and the Stripe payments that supersede database ones', () => {
  const scratch = useScratchWarehouse();
  const payHeader = ['tenant_id', 'payment_id', 'source', 'external_id', 'customer_id', 'amount', 'currency', 'status', 'refunded_amount', 'created_at', '_cursor_ts'];
  const load = (name: string, rows: string[]) => {
    const path = `${scratch.dir}/${name}.csv`;
    writeFileSync(path, [payHeader.join(','), ...rows].join('\n') + '\n');
    return loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.payments!, input: { header: payHeader, path }, jobRunId: null });
  };
  const paid = (id: string, day: string) => `t1,${id},db,pi_${id},c1,10.00,USD,succeeded,0,2026-03-0${day} 10:00:00,2026-03-0${day} 10:00:00`;
  const refunded = (id: string, day: string) => `t1,${id},db,pi_${id},c1,10.00,USD,refunded,10.00,2026-03-0${day} 10:00:00,2026-03-05 10:00:00`;
  const deltas = () => scratch.wh.query<{ id: string; sign: number; status: string }>(`
    SELECT p.payment_id AS id, d.sign, d.status FROM delta_payments d JOIN payments p ON p.created_at = d.created_at ORDER BY 1, 2, 3`);

  it('record every change while no Stripe payment is held, and leave out a superseded row once one is', async () => {
    // p1 on March 1, p2 on March 2: a delta's created_at names its payment here.
    await load('first', [paid('p1', '1'), paid('p2', '2')]);
    await scratch.wh.withWriter((c) => c.run('DELETE FROM delta_payments'));
    await load('refund-p1', [refunded('p1', '1')]);
    expect(await deltas()).toEqual([{ id: 'p1', sign: -1, status: 'succeeded' }, { id: 'p1', sign: 1, status: 'refunded' }]);

    // Stripe's copy of p2 arrives: from then on p2's database row is not counted, so its changes
    // leave no deltas, while p1's still do.
    await scratch.wh.withWriter(async (c) => {
      await c.run('DELETE FROM delta_payments');
      await c.run(withKey(`INSERT INTO payments (tenant_id, payment_id, source, customer_id, amount, currency, status, refunded_amount, created_at)
        VALUES ('t1', 'pi_p2', 'stripe', 'c1', 10.00, 'USD', 'succeeded', 0, TIMESTAMP '2026-03-02 10:00:01')`));
    });
    await load('refund-p2', [refunded('p2', '2'), paid('p1', '1')]);
    expect(await deltas()).toEqual([{ id: 'p1', sign: -1, status: 'refunded' }, { id: 'p1', sign: 1, status: 'succeeded' }]);
  });
});

describe('migration 6 (fingerprints)', () => {
  const scratch = useScratchWarehouse();

  it('fills the fingerprint of existing rows exactly as the loader computes it, so a later batch replaces them', async () => {
    const v5 = MIGRATIONS.filter((m) => m.version <= 5);
    const v6 = MIGRATIONS.find((m) => m.version === 6)!;
    const rows = await scratch.wh.transaction(async (c) => {
      // A warehouse as migration 5 left it, with rows in it: rebuild the tables without _key.
      const tables = [...Object.values(ENTITIES).map((e) => e.table), 'kpi_customer_15m', 'kpi_paying_15m'];
      for (const t of tables) await c.run(`DROP TABLE "${t}"`);
      for (const m of v5) {
        const creates = m.sql.split(';').filter((st) => tables.some((t) => st.includes(`CREATE TABLE ${t} (`)));
        for (const st of creates) await c.run(st);
      }
      await c.run(`INSERT INTO orders (tenant_id, order_id, status, total, currency, created_at, _hash) VALUES ('t1', 'o1', 'paid', 4, 'USD', TIMESTAMP '2026-03-01', md5('row'))`);
      await c.run(`INSERT INTO rejected_rows (source, entity, reason, row_hash, rejected_at) VALUES ('test', 'orders', 'x', md5('bad row'), TIMESTAMP '2026-03-01')`);
      await c.run(`INSERT INTO order_items (tenant_id, order_id, line_no, quantity, unit_price) VALUES ('t1', 'o1', 7, 1, 4)`);
      await c.run(`INSERT INTO kpi_paying_15m VALUES ('t1', TIMESTAMP '2026-03-01', 'c1', NULL, NULL)`);
      await c.run(v6.sql);
      return (await c.runAndReadAll(`SELECT count(*) FILTER (WHERE _key IS NULL) AS missing,
        bool_and(_hash = md5_number_upper('row')) AS same_hash,
        (SELECT bool_and(row_hash = md5_number_upper('bad row')::VARCHAR) FROM rejected_rows) AS same_reject_hash,
        (SELECT bool_and(cfp = md5_number('c1')) FROM kpi_paying_15m) AS same_customer FROM orders`)).getRowObjectsJson();
    });
    // The md5 hex stored before becomes the number the loader now computes for the same text.
    expect(rows).toEqual([{ missing: '0', same_hash: true, same_reject_hash: true, same_customer: true }]);
    const path = `${scratch.dir}/o.csv`;
    writeFileSync(path, `${header.join(',')}\nt1,o1,c1,refunded,refunded,4.00,USD,2026-03-01 00:00:00,2026-03-02 00:00:00\n`);
    await loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.orders!, input: { header, path }, jobRunId: null });
    const after = await scratch.wh.query<{ status: string }>(`SELECT status FROM orders`);
    expect(after).toEqual([{ status: 'refunded' }]);
    // An integer key column hashes as its typed text, as the loader's typed value does.
    const itemHeader = ['tenant_id', 'order_id', 'line_no', 'quantity', 'unit_price', '_cursor_ts'];
    writeFileSync(path, `${itemHeader.join(',')}\nt1,o1,07,2,4.00,2026-03-02 00:00:00\n`);
    await loadBatch(scratch.wh, { source: 'test', spec: ENTITIES.order_items!, input: { header: itemHeader, path }, jobRunId: null });
    expect(await scratch.wh.query(`SELECT line_no, quantity FROM order_items`)).toEqual([{ line_no: 7, quantity: 2 }]);
  });
});
