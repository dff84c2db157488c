import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAll } from '../../src/ingest/run.ts';
import { factories } from '../helpers/factories.ts';
import { createSourceDb, type SourceDb } from '../helpers/source-db.ts';
import { openTestWarehouse, useScratchWarehouse } from '../helpers/warehouse.ts';

/** A promise and the function that settles it, to make two lanes wait on each other. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('writer lanes', () => {
  const scratch = useScratchWarehouse();

  beforeAll(async () => {
    await scratch.wh.withWriter(async (conn) => {
      await conn.run('CREATE TABLE lane_a (v INTEGER); CREATE TABLE lane_b (v INTEGER); CREATE TABLE shared (k INTEGER PRIMARY KEY, v INTEGER)');
      await conn.run('INSERT INTO shared VALUES (1, 0)');
    });
  });

  it('run transactions side by side, and hold the writer until they are done', async () => {
    const order: string[] = [];
    const bWrote = gate();
    let queued: Promise<void> | undefined;
    await scratch.wh.withLanes(2, async ([a, b]) => {
      // Issued while the lanes hold the writer: it must run after them, not between their statements.
      queued = scratch.wh.transaction(async () => {
        order.push('other job');
      });
      await Promise.all([
        a!.transaction(async (conn) => {
          await conn.run('INSERT INTO lane_a VALUES (1)');
          order.push('a wrote');
          await bWrote.opened;
          order.push('a commits');
        }),
        b!.transaction(async (conn) => {
          await conn.run('INSERT INTO lane_b VALUES (2)');
          order.push('b wrote');
          bWrote.open();
        }),
      ]);
      order.push('lanes done');
    });
    await queued;
    // b began and wrote while a's transaction was open: the two overlapped.
    expect(order.indexOf('b wrote')).toBeLessThan(order.indexOf('a commits'));
    expect(order.indexOf('a wrote')).toBeLessThan(order.indexOf('a commits'));
    expect(order.at(-1)).toBe('other job');
    const [r] = await scratch.wh.query<{ a: string; b: string }>('SELECT (SELECT sum(v) FROM lane_a) AS a, (SELECT sum(v) FROM lane_b) AS b');
    expect(r).toEqual({ a: '1', b: '2' });
  });

  it('refuse a second change of the same row: lanes are for batches that write different rows', async () => {
    const aWrote = gate();
    const bWrote = gate();
    const results = await scratch.wh.withLanes(2, ([a, b]) => Promise.allSettled([
      a!.transaction(async (conn) => {
        await conn.run('UPDATE shared SET v = 10 WHERE k = 1');
        aWrote.open();
        await bWrote.opened;
      }),
      b!.transaction(async (conn) => {
        await aWrote.opened;
        try {
          await conn.run('UPDATE shared SET v = 20 WHERE k = 1');
        } finally {
          bWrote.open();
        }
      }),
    ]));
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(String((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toMatch(/conflict/i);
    const [r] = await scratch.wh.query<{ v: number }>('SELECT v FROM shared WHERE k = 1');
    expect(r?.v).toBe(10);
    // The warehouse writes on as before.
    await scratch.wh.transaction((conn) => conn.run('UPDATE shared SET v = 30 WHERE k = 1'));
    expect((await scratch.wh.query<{ v: number }>('SELECT v FROM shared WHERE k = 1'))[0]?.v).toBe(30);
  });
});

describe('an incremental ingest on two lanes', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;

  beforeAll(async () => {
    db = await createSourceDb('pricing-platform');
    tw = await openTestWarehouse(db.pool);
    const f = factories(db.pool);
    const user = await f.user({ country: 'US' });
    const product = await f.product({ name: 'P', current_price: '10.00' });
    for (let i = 0; i < 20; i++) {
      const ts = `2026-02-0${1 + (i % 5)} 10:${String(i).padStart(2, '0')}:00`;
      await f.order({ user_id: user, total: '10.00', created_at: ts, status: 'completed' });
      await f.payment({ user_id: user, product_id: product, amount: '10.00', created_at: ts, completed_at: ts, status: 'completed' });
      await f.insert('page_views', { page: `/products/${product}`, user_id: user, count: 1, timestamp: ts });
    }
    await ingestAll(tw.ctx);
  });

  afterAll(async () => {
    await tw?.close();
    await db?.drop();
  });

  const sourceCount = async (table: string) => Number((await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]?.n);
  const warehouseCount = async (table: string) => Number((await tw.warehouse.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`))[0]?.n);
  const watermarks = async () => Object.fromEntries((await tw.warehouse.query<{ entity: string; wm: string }>(
    `SELECT entity, watermark_ts::VARCHAR AS wm FROM ingest_state`)).map((r) => [r.entity, r.wm]));

  it('keeps the batches that committed when another fails, and the next run brings the rest', async () => {
    const ts = '2026-02-06 09:00:00';
    await db.pool.query(`INSERT INTO orders (user_id, total, status, created_at) SELECT user_id, total, status, $1 FROM orders LIMIT 3`, [ts]);
    await db.pool.query(`INSERT INTO payments (user_id, product_id, amount, currency, status, created_at, completed_at)
      SELECT user_id, product_id, amount, currency, status, $1, $1 FROM payments LIMIT 4`, [ts]);
    await db.pool.query(`INSERT INTO page_views (page, user_id, count, timestamp) SELECT page, user_id, count, $1 FROM page_views LIMIT 5`, [ts]);
    const before = await watermarks();
    const committed: string[] = [];
    await expect(ingestAll(tw.ctx, {
      hooks: {
        beforeCommit: (entity) => {
          if (entity === 'payments') throw new Error('injected failure in the payments batch');
        },
        afterBatch: (entity) => {
          committed.push(entity);
        },
      },
    })).rejects.toThrow(/injected failure/);
    // The payments batch rolled back whole; what the other lane committed stays, watermarks included.
    expect(await warehouseCount('payments')).toBe(20);
    expect(await watermarks()).toMatchObject({ payments: before.payments });
    expect(committed).toContain('orders');
    expect(committed).not.toContain('payments');
    expect(await warehouseCount('orders')).toBe(23);

    await ingestAll(tw.ctx);
    for (const [table, source] of [['orders', 'orders'], ['payments', 'payments'], ['page_views', 'page_views']] as const) {
      expect(await warehouseCount(table), table).toBe(await sourceCount(source));
    }
    expect(await warehouseCount('(SELECT payment_id FROM payments GROUP BY 1 HAVING count(*) > 1)')).toBe(0);
    expect((await watermarks()).payments).toBe(ts);
  });
});
