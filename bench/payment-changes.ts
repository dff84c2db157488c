import type pg from 'pg';

/**
 * Changes `share` of the source's payments, half refunds of completed ones (which move their cursor)
 * and half new ones, then vacuums and analyses the table as autovacuum soon would (a vacuum running
 * during a measurement would slow it at random).
 */
export async function changePayments(source: pg.Pool, share: number): Promise<void> {
  const { rows: [{ n } = { n: '0' }] } = await source.query<{ n: string }>('SELECT count(*)::text AS n FROM payments');
  const count = Math.max(2, Math.round(Number(n) * share));
  await source.query(`UPDATE payments SET status = 'refunded', completed_at = now() AT TIME ZONE 'UTC'
    WHERE id IN (SELECT id FROM payments WHERE status = 'completed' ORDER BY id LIMIT $1)`, [Math.round(count / 2)]);
  await source.query(`INSERT INTO payments (user_id, product_id, amount, currency, stripe_payment_id, status, created_at, completed_at)
    SELECT user_id, product_id, amount, currency, stripe_payment_id, status, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
    FROM payments ORDER BY id DESC LIMIT $1`, [Math.round(count / 2)]);
  await source.query('VACUUM ANALYZE payments');
}
