import type pg from 'pg';

async function rowCount(source: pg.Pool, table: string): Promise<number> {
  const { rows: [{ n } = { n: '0' }] } = await source.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(n);
}

/**
 * Changes `share` of the source's payments, half refunds of completed ones (which move their cursor)
 * and half new ones, then vacuums and analyses the table as autovacuum soon would (a vacuum running
 * during a measurement would slow it at random). Returns how many rows changed.
 */
export async function changePayments(source: pg.Pool, share: number): Promise<number> {
  const count = Math.max(2, Math.round((await rowCount(source, 'payments')) * share));
  const refunded = await source.query(`UPDATE payments SET status = 'refunded', completed_at = now() AT TIME ZONE 'UTC'
    WHERE id IN (SELECT id FROM payments WHERE status = 'completed' ORDER BY id LIMIT $1)`, [Math.round(count / 2)]);
  const added = await source.query(`INSERT INTO payments (user_id, product_id, amount, currency, stripe_payment_id, status, created_at, completed_at)
    SELECT user_id, product_id, amount, currency, stripe_payment_id, status, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM payments ORDER BY id DESC LIMIT $1`, [Math.round(count / 2)]);
  await source.query('VACUUM ANALYZE payments');
  return (refunded.rowCount ?? 0) + (added.rowCount ?? 0);
}

/**
 * Seed 004's tables other than payments: how `share` of each one's rows changes. Rows are updated
 * where the table has a column that moves its cursor when they change (users, subscriptions,
 * products); the event tables and orders, whose cursor is their creation time, get new rows (seed
 * 004's orders have no update time, so a changed order is found by the daily reconciliation only).
 */
const OTHER_CHANGES: { table: string; sql: string }[] = [
  { table: 'users', sql: `UPDATE users SET updated_at = now() AT TIME ZONE 'UTC' WHERE id IN (SELECT id FROM users ORDER BY id LIMIT $1)` },
  { table: 'orders', sql: `INSERT INTO orders (user_id, total, status, created_at)
    SELECT user_id, total, status, now() AT TIME ZONE 'UTC' FROM orders ORDER BY id DESC LIMIT $1` },
  { table: 'subscriptions', sql: `UPDATE subscriptions SET status = 'cancelled', cancelled_at = now() AT TIME ZONE 'UTC'
    WHERE id IN (SELECT id FROM subscriptions WHERE cancelled_at IS NULL ORDER BY id LIMIT $1)` },
  { table: 'products', sql: `UPDATE products SET current_price = current_price * 1.01, last_price_update = now() AT TIME ZONE 'UTC',
    updated_at = now() AT TIME ZONE 'UTC' WHERE id IN (SELECT id FROM products ORDER BY id LIMIT $1)` },
  { table: 'page_views', sql: `INSERT INTO page_views (page, user_id, count, timestamp)
    SELECT page, user_id, count, now() AT TIME ZONE 'UTC' FROM page_views ORDER BY id DESC LIMIT $1` },
  { table: 'product_metrics', sql: `INSERT INTO product_metrics (product_id, views, sales, cart_adds, timestamp)
    SELECT product_id, views, sales, cart_adds, now() AT TIME ZONE 'UTC' FROM product_metrics ORDER BY id DESC LIMIT $1` },
  { table: 'ab_test_results', sql: `INSERT INTO ab_test_results (test_id, variant, converted, revenue, engagement_score, timestamp)
    SELECT test_id, variant, converted, revenue, engagement_score, now() AT TIME ZONE 'UTC' FROM ab_test_results ORDER BY id DESC LIMIT $1` },
];

/**
 * Changes `share` of the rows of every seed-004 table the profile reads (payments as changePayments
 * does; at least one row of each), vacuumed and analysed as there. Returns how many rows changed.
 */
export async function changeEveryTable(source: pg.Pool, share: number): Promise<number> {
  let changed = 0;
  for (const { table, sql } of OTHER_CHANGES) {
    const count = Math.max(1, Math.round((await rowCount(source, table)) * share));
    changed += (await source.query(sql, [count])).rowCount ?? 0;
    await source.query(`VACUUM ANALYZE ${table}`);
  }
  return changed + (await changePayments(source, share));
}
