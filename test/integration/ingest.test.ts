import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAll } from '../../src/ingest/run.ts';
import { reconcileAll } from '../../src/ingest/reconcile.ts';
import { ENTITIES } from '../../src/ingest/entities.ts';
import { factories } from '../helpers/factories.ts';
import { createSourceDb, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

type TW = Awaited<ReturnType<typeof openTestWarehouse>>;

/** Money per UTC day and currency, to the cent, as PostgreSQL computes it from the source. */
async function pgPaymentsPerDay(db: SourceDb): Promise<Record<string, string>> {
  const { rows } = await db.pool.query<{ day: string; currency: string; total: string; n: string }>(
    `SELECT to_char(created_at::date, 'YYYY-MM-DD') AS day, upper(currency) AS currency, sum(amount)::text AS total, count(*)::text AS n
     FROM payments GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.day} ${r.currency}`, `${r.total} x${r.n}`]));
}

async function whPaymentsPerDay(tw: TW): Promise<Record<string, string>> {
  const rows = await tw.warehouse.query<{ day: string; currency: string; total: string; n: string }>(
    `SELECT strftime(CAST(created_at AS DATE), '%Y-%m-%d') AS day, currency, sum(amount)::VARCHAR AS total, count(*)::VARCHAR AS n
     FROM payments GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  return Object.fromEntries(rows.map((r) => [`${r.day} ${r.currency}`, `${r.total} x${r.n}`]));
}

/**
 * No rollup refresh runs in this file, so the signed deltas the ingest recorded since the empty
 * warehouse must add up to the facts exactly: per distinct row of the delta columns, Σ sign = count.
 */
async function expectDeltasMatchFacts(tw: TW): Promise<void> {
  for (const spec of Object.values(ENTITIES)) {
    if (!spec.delta) continue;
    const cols = ['tenant_id', ...spec.delta.columns].join(', ');
    const diff = await tw.warehouse.query(`
      SELECT ${cols}, sum(n) AS n FROM (
        SELECT ${cols}, sign AS n FROM ${spec.delta.table} UNION ALL SELECT ${cols}, -1 AS n FROM ${spec.table})
      GROUP BY ALL HAVING sum(n) <> 0`);
    expect(diff, spec.entity).toEqual([]);
  }
}

async function count(tw: TW, sql: string): Promise<number> {
  const [row] = await tw.warehouse.query<{ n: string }>(sql);
  return Number(row?.n);
}

describe('ingest from PostgreSQL (seed 004 profile)', () => {
  let db: SourceDb;
  let tw: TW;
  let f: ReturnType<typeof factories>;
  const userIds: string[] = [];
  const productIds: string[] = [];

  beforeAll(async () => {
    db = await createSourceDb('pricing-platform');
    f = factories(db.pool);
    tw = await openTestWarehouse(db.pool);
    for (let i = 0; i < 5; i++) userIds.push(await f.user({ country: ['US', 'TH', 'DE'][i % 3] }));
    for (let i = 0; i < 4; i++) {
      const id = await f.product({ name: `P${i}`, current_price: `${10 + i}.99` });
      productIds.push(id);
      await f.insert('revenue_breakdown', { product_id: id, category: i % 2 ? 'books' : 'toys', revenue: '0', date: '2026-01-01' });
    }
    // 60 orders with payments over 6 days, a few of them failed or refunded, two currencies.
    for (let i = 0; i < 60; i++) {
      const ts = `2026-01-0${1 + (i % 6)} ${String(i % 24).padStart(2, '0')}:15:00`;
      const user = userIds[i % 5];
      const amount = (5 + ((i * 37) % 100) + 0.01 * (i % 100)).toFixed(2);
      await f.order({ user_id: user, total: amount, created_at: ts, status: i % 10 === 0 ? 'refunded' : 'completed' });
      await f.payment({ user_id: user, product_id: productIds[i % 4], amount, created_at: ts, currency: i % 7 === 0 ? 'eur' : 'USD', status: i % 10 === 0 ? 'refunded' : i % 13 === 0 ? 'failed' : 'completed' });
    }
  });

  afterAll(async () => {
    await tw?.close();
    await db?.drop();
  });

  it('full load: row counts and money per day match PostgreSQL to the cent', async () => {
    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(0);
    for (const [table, source] of [['customers', 'users'], ['products', 'products'], ['orders', 'orders'], ['payments', 'payments']] as const) {
      const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${source}`);
      expect(await count(tw, `SELECT count(*) AS n FROM ${table}`), table).toBe(Number(rows[0]?.n));
    }
    expect(await whPaymentsPerDay(tw)).toEqual(await pgPaymentsPerDay(db));
    const { rows } = await db.pool.query<{ s: string }>(`SELECT sum(total)::text AS s FROM orders WHERE status = 'refunded'`);
    const [wh] = await tw.warehouse.query<{ s: string }>(`SELECT sum(total)::VARCHAR AS s FROM orders WHERE status = 'refunded'`);
    expect(wh?.s).toBe(rows[0]?.s);
    const cats = await tw.warehouse.query<{ category: string; n: string }>(`SELECT category, count(*) AS n FROM products GROUP BY 1 ORDER BY 1`);
    expect(cats).toEqual([{ category: 'books', n: '2' }, { category: 'toys', n: '2' }]);
    // A re-run asks only for the lookback window, minus the rows seen there unchanged: nothing comes back.
    const again = await ingestAll(tw.ctx);
    expect(again.entities.find((e) => e.entity === 'payments')?.since).not.toBeNull();
    expect(again.entities.map((e) => [e.entity, e.rowsIn])).toEqual(again.entities.map((e) => [e.entity, 0]));
    expect(await count(tw, `SELECT count(*) AS n FROM ingest_recent WHERE entity = 'payments'`)).toBeGreaterThan(0);
    expect(await whPaymentsPerDay(tw)).toEqual(await pgPaymentsPerDay(db));
    await expectDeltasMatchFacts(tw);
  });

  it('incremental: updates, late inserts inside the lookback and new rows, with no duplicates', async () => {
    const [{ wm } = { wm: '' }] = await tw.warehouse.query<{ wm: string }>(
      `SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE entity = 'payments'`,
    );
    // A payment completes (its completed_at moves the cursor), a price changes (updated_at).
    const pending = await f.payment({ user_id: userIds[0], amount: '42.00', status: 'pending', completed_at: null, created_at: '2026-01-07 09:00:00' });
    await ingestAll(tw.ctx);
    await db.pool.query(`UPDATE payments SET status = 'completed', completed_at = '2026-01-07 09:30:00' WHERE id = $1`, [pending]);
    await db.pool.query(`UPDATE products SET current_price = 9.49, updated_at = '2026-01-07 09:31:00' WHERE id = $1`, [productIds[0]]);
    await ingestAll(tw.ctx);
    const [{ wm: wm2 } = { wm: '' }] = await tw.warehouse.query<{ wm: string }>(
      `SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE entity = 'payments'`,
    );
    expect(wm2).toBe('2026-01-07 09:30:00');
    // A row that committed late: its timestamp is 5 minutes before the watermark (inside the 10-minute lookback).
    const late = await f.payment({ user_id: userIds[1], amount: '7.25', created_at: '2026-01-07 09:25:00', completed_at: '2026-01-07 09:25:02' });
    const fresh = await f.payment({ user_id: userIds[2], amount: '1.10', created_at: '2026-01-08 12:00:00', completed_at: '2026-01-08 12:00:01' });
    expect(wm).not.toBe('');
    await ingestAll(tw.ctx);

    const byId = await tw.warehouse.query<{ payment_id: string; status: string; amount: string }>(
      `SELECT payment_id, status, amount::VARCHAR AS amount FROM payments WHERE payment_id IN ($1, $2, $3) ORDER BY payments.amount`,
      [pending, late, fresh],
    );
    expect(byId.map((r) => [r.payment_id, r.status])).toEqual([[fresh, 'succeeded'], [late, 'succeeded'], [pending, 'succeeded']]);
    expect(await count(tw, `SELECT count(*) - count(DISTINCT payment_id) AS n FROM payments`)).toBe(0);
    expect(await count(tw, `SELECT count(*) - count(DISTINCT product_id) AS n FROM products`)).toBe(0);
    const [p] = await tw.warehouse.query<{ price: string }>(`SELECT current_price::VARCHAR AS price FROM products WHERE product_id = $1`, [productIds[0]!]);
    expect(p?.price).toBe('9.49');
    expect(await whPaymentsPerDay(tw)).toEqual(await pgPaymentsPerDay(db));
    // What moved is queued for the rollups: the new versions (+1) and the replaced ones (−1).
    const moved = await tw.warehouse.query<{ day: string; sign: number }>(
      `SELECT DISTINCT strftime(CAST(created_at AS DATE), '%Y-%m-%d') AS day, sign FROM delta_payments ORDER BY 1, 2`);
    expect(moved).toEqual(expect.arrayContaining([{ day: '2026-01-07', sign: 1 }, { day: '2026-01-07', sign: -1 }, { day: '2026-01-08', sign: 1 }]));
    await expectDeltasMatchFacts(tw);
  });

  it('a row changed inside the lookback window, then changed back, is read both times', async () => {
    const [{ wm } = { wm: '' }] = await tw.warehouse.query<{ wm: string }>(
      `SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE entity = 'payments'`,
    );
    const id = await f.payment({ user_id: userIds[3], amount: '12.00', created_at: wm, completed_at: wm });
    const amount = async () => (await tw.warehouse.query<{ a: string }>(`SELECT amount::VARCHAR AS a FROM payments WHERE payment_id = $1`, [id]))[0]?.a;
    await ingestAll(tw.ctx);
    expect(await amount()).toBe('12.00');
    await db.pool.query(`UPDATE payments SET amount = 13.00 WHERE id = $1`, [id]);
    const changed = await ingestAll(tw.ctx);
    expect(changed.entities.find((e) => e.entity === 'payments')?.rowsIn).toBe(1);
    expect(await amount()).toBe('13.00');
    await db.pool.query(`UPDATE payments SET amount = 12.00 WHERE id = $1`, [id]);
    await ingestAll(tw.ctx);
    expect(await amount()).toBe('12.00');
    expect(await whPaymentsPerDay(tw)).toEqual(await pgPaymentsPerDay(db));
    await expectDeltasMatchFacts(tw);
  });

  it('reconciliation: deletes at source, silent updates and rows older than the lookback', async () => {
    const [victim] = (await db.pool.query<{ id: string; day: string }>(`SELECT id, to_char(created_at, 'YYYY-MM-DD') AS day FROM payments ORDER BY created_at LIMIT 1`)).rows;
    await db.pool.query(`DELETE FROM payments WHERE id = $1`, [victim!.id]);
    // orders has no updated_at: a status change is invisible to the cursor.
    const [order] = (await db.pool.query<{ id: string }>(`SELECT id FROM orders WHERE status = 'completed' ORDER BY created_at LIMIT 1`)).rows;
    await db.pool.query(`UPDATE orders SET status = 'refunded' WHERE id = $1`, [order!.id]);
    // Committed very late: far behind the watermark, outside the lookback.
    const ancient = await f.payment({ user_id: userIds[3], amount: '3.33', created_at: '2025-12-30 08:00:00', completed_at: '2025-12-30 08:00:01' });

    await ingestAll(tw.ctx);
    expect(await count(tw, `SELECT count(*) AS n FROM payments WHERE payment_id = '${victim!.id}'`)).toBe(1);
    expect(await count(tw, `SELECT count(*) AS n FROM payments WHERE payment_id = '${ancient}'`)).toBe(0);

    const [{ n: before } = { n: '0' }] = await tw.warehouse.query<{ n: string }>(`SELECT count(*) AS n FROM delta_payments WHERE sign = -1`);
    const results = await reconcileAll(tw.ctx);
    const pay = results.find((r) => r.entity === 'payments');
    expect(pay?.deleted).toBe(1);
    expect(pay?.changed).toBe(1);
    expect(results.find((r) => r.entity === 'orders')?.changed).toBe(1);
    expect(await count(tw, `SELECT count(*) AS n FROM payments WHERE payment_id = '${victim!.id}'`)).toBe(0);
    expect(await count(tw, `SELECT count(*) AS n FROM payments WHERE payment_id = '${ancient}'`)).toBe(1);
    const [o] = await tw.warehouse.query<{ status: string }>(`SELECT status FROM orders WHERE order_id = $1`, [order!.id]);
    expect(o?.status).toBe('refunded');
    expect(await whPaymentsPerDay(tw)).toEqual(await pgPaymentsPerDay(db));
    // The deleted row, the re-pulled one and the late one all reach the rollups' deltas.
    expect(await count(tw, `SELECT count(*) AS n FROM delta_payments WHERE sign = -1`)).toBeGreaterThan(Number(before));
    const days = await tw.warehouse.query<{ day: string }>(`SELECT DISTINCT strftime(CAST(created_at AS DATE), '%Y-%m-%d') AS day FROM delta_payments`);
    expect(days.map((d) => d.day)).toEqual(expect.arrayContaining([victim!.day, '2025-12-30']));
    await expectDeltasMatchFacts(tw);
    // A second pass finds nothing to do.
    const again = await reconcileAll(tw.ctx);
    expect(again.filter((r) => r.deleted || r.changed).map((r) => r.entity)).toEqual([]);
  });

  it('bad source rows land in rejected_rows with a reason, once, and the job goes on', async () => {
    const before = await count(tw, `SELECT count(*) AS n FROM payments`);
    await f.payment({ user_id: userIds[0], amount: '5.00', currency: 'XXQ', created_at: '2026-01-09 10:00:00' });
    await f.order({ user_id: userIds[0], total: '-5.00', created_at: '2026-01-09 10:00:00' });
    await f.order({ user_id: userIds[0], total: '5.00', status: 'teleported', created_at: '2026-01-09 10:00:00' });
    await f.insert('page_views', { page: '/', count: -3, timestamp: '2026-01-09 10:00:00' });
    await f.insert('ab_test_results', { test_id: null, variant: 'A', converted: true, timestamp: '2026-01-09 10:00:00' });
    const good = await f.payment({ user_id: userIds[0], amount: '6.00', created_at: '2026-01-09 10:00:00' });

    const summary = await ingestAll(tw.ctx);
    expect(summary.rejected).toBe(5);
    const reasons = (await tw.warehouse.query<{ entity: string; reason: string }>(`SELECT entity, reason FROM rejected_rows ORDER BY entity, reason`))
      .map((r) => `${r.entity}: ${r.reason}`);
    expect(reasons).toEqual([
      'experiment_units: missing key experiment_id',
      'orders: negative total: -5.00',
      'orders: unknown status: teleported',
      'page_views: negative views: -3',
      'payments: unknown currency (currency): XXQ',
    ]);
    const [payload] = await tw.warehouse.query<{ p: string }>(`SELECT payload::VARCHAR AS p FROM rejected_rows WHERE entity = 'payments'`);
    expect(JSON.parse(payload!.p)).toMatchObject({ currency: 'XXQ', amount: '5.00' });
    expect(await count(tw, `SELECT count(*) AS n FROM payments WHERE payment_id = '${good}'`)).toBe(1);
    expect(await count(tw, `SELECT count(*) AS n FROM payments`)).toBe(before + 1);
    // The lookback reads the bad rows again; they are not recorded twice.
    await ingestAll(tw.ctx);
    expect(await count(tw, `SELECT count(*) AS n FROM rejected_rows`)).toBe(5);
  });

  it('a crash between batches leaves the warehouse consistent and the next run completes', async () => {
    for (let i = 0; i < 5; i++) {
      await f.order({ user_id: userIds[i], total: '11.00', created_at: `2026-01-10 0${i}:00:00` });
      await f.payment({ user_id: userIds[i], amount: '11.00', created_at: `2026-01-10 0${i}:00:00` });
    }
    const paymentsBefore = await whPaymentsPerDay(tw);
    const [wmBefore] = await tw.warehouse.query<{ wm: string }>(`SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE entity = 'payments'`);
    await expect(
      ingestAll(tw.ctx, {
        hooks: {
          beforeCommit: (entity) => {
            if (entity === 'payments') throw new Error('injected crash');
          },
        },
      }),
    ).rejects.toThrow('injected crash');
    // Orders (an earlier batch) committed; payments is exactly as before, watermark included.
    expect(await count(tw, `SELECT count(*) AS n FROM orders WHERE created_at >= '2026-01-10'`)).toBe(5);
    expect(await whPaymentsPerDay(tw)).toEqual(paymentsBefore);
    const [wmAfter] = await tw.warehouse.query<{ wm: string }>(`SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE entity = 'payments'`);
    expect(wmAfter?.wm).toBe(wmBefore?.wm);
    expect(await count(tw, `SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('typed', 'good')`)).toBe(0);

    await ingestAll(tw.ctx);
    const pgNow = await pgPaymentsPerDay(db);
    const wh = await whPaymentsPerDay(tw);
    // Every valid payment is there (the XXQ one stays in rejected_rows).
    const { 'XXQ': _ignored, ...expected } = Object.fromEntries(Object.entries(pgNow).map(([k, v]) => [k.endsWith('XXQ') ? 'XXQ' : k, v]));
    expect(wh).toEqual(expected);
  });
});
