import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/** Row factories for the seed-004 source schema: each inserts exactly what a test needs. */
export function factories(pool: pg.Pool) {
  const insert = async (table: string, row: Record<string, unknown>): Promise<string> => {
    const data = { id: randomUUID(), ...row };
    const cols = Object.keys(data);
    await pool.query(
      `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(data),
    );
    return data.id;
  };
  return {
    insert,
    user: (row: Record<string, unknown> = {}) =>
      insert('users', { email: `${randomUUID()}@example.test`, country: 'US', created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00', ...row }),
    product: (row: Record<string, unknown> = {}) =>
      insert('products', { name: 'Widget', base_price: '20.00', base_cost: '8.00', current_price: '20.00', created_at: '2025-12-01 00:00:00', updated_at: '2025-12-01 00:00:00', ...row }),
    order: (row: Record<string, unknown> = {}) => insert('orders', { total: '20.00', status: 'completed', created_at: '2026-01-02 10:00:00', ...row }),
    payment: (row: Record<string, unknown> = {}) =>
      insert('payments', { amount: '20.00', currency: 'USD', status: 'completed', created_at: '2026-01-02 10:00:00', completed_at: '2026-01-02 10:00:03', ...row }),
  };
}
