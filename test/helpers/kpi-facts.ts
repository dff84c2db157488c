import type { DuckDBConnection } from '@duckdb/node-api';
import { ENTITIES } from '../../src/ingest/entities.ts';
import { keyHashSql } from '../../src/ingest/row-hash.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';

/**
 * Deterministic canonical facts written straight into a warehouse (no ingest involved), spread
 * over 2024 so both US DST changes fall inside, for two tenants. Pseudo-randomness comes from
 * DuckDB's hash() of the row number, so every run writes the same rows.
 */
export interface FactsOptions {
  tenants?: string[];
  payments?: number;
  orders?: number;
  pageViews?: number;
  productEvents?: number;
  customers?: number;
  products?: number;
  subscriptions?: number;
  /** First instant of the data (UTC) and its span in days. */
  start?: string;
  days?: number;
}

/**
 * `INSERT INTO table (cols) <select>` with the table's key fingerprint added, as the loader writes it
 * (the column is NOT NULL, and the loader finds rows by it).
 */
export function withKey(insert: string): string {
  const m = /^\s*INSERT INTO (\w+) \(([^)]*)\)([\s\S]*)$/.exec(insert);
  const spec = m && Object.values(ENTITIES).find((e) => e.table === m[1]);
  if (!m || !spec) throw new Error(`not an INSERT into a canonical table: ${insert.slice(0, 80)}`);
  return `INSERT INTO ${m[1]} (${m[2]}, _key) SELECT q.*, ${keyHashSql(['tenant_id', ...spec.key], 'q')} FROM (${m[3]}\n) q(${m[2]})`;
}

const h = (i: string, salt: string) => `(hash(${i}::VARCHAR || '${salt}'))`;
const pick = (i: string, salt: string, n: number) => `((${h(i, salt)} % ${n})::BIGINT)`;

export async function insertFacts(wh: Warehouse, o: FactsOptions = {}): Promise<void> {
  const tenants = o.tenants ?? ['t1', 't2'];
  const start = o.start ?? '2024-02-01 00:00:00';
  const span = (o.days ?? 300) * 86400;
  const ts = (i: string, salt: string) => `(TIMESTAMP '${start}' + to_seconds(${pick(i, salt, span)}::BIGINT))`;
  const tenant = (i: string) => `(list_value(${tenants.map((t) => `'${t}'`).join(', ')})[(${i} % ${tenants.length}) + 1])`;
  const nc = o.customers ?? 400;
  const np = o.products ?? 25;
  await wh.transaction(async (conn) => {
    await conn.run(withKey(`
      INSERT INTO customers (tenant_id, customer_id, country, segment, created_at, updated_at)
      SELECT t.tenant, 'c' || i, CASE WHEN ${pick('i', 'cn', 10)} = 0 THEN NULL ELSE list_value('US', 'TH', 'DE', 'IN', 'BR')[${pick('i', 'cc', 5)} + 1] END,
             'regular', TIMESTAMP '2023-01-01', TIMESTAMP '2023-01-01'
      FROM range(${nc}) r(i), (SELECT unnest(list_value(${tenants.map((t) => `'${t}'`).join(', ')})) AS tenant) t
      WHERE i % 13 <> 5 -- some paying customers have no customers row`));
    await conn.run(withKey(`
      INSERT INTO products (tenant_id, product_id, name, category, current_price, currency, active)
      SELECT t.tenant, 'prod' || i, 'Product "' || i || '", deluxe', list_value('books', 'tools', 'toys')[${pick('i', 'cat', 3)} + 1],
             (10 + i)::DECIMAL(18,2) + 0.99, 'USD', true
      FROM range(${np}) r(i), (SELECT unnest(list_value(${tenants.map((t) => `'${t}'`).join(', ')})) AS tenant) t`));
    await conn.run(withKey(`
      INSERT INTO payments (tenant_id, payment_id, source, order_id, customer_id, product_id, amount, currency, status, refunded_amount, created_at)
      SELECT ${tenant('i')}, 'pay' || i, 'db', 'ord' || i,
             CASE WHEN ${pick('i', 'nocust', 40)} = 0 THEN NULL ELSE 'c' || ${pick('i', 'cust', nc)} END,
             CASE WHEN ${pick('i', 'noprod', 30)} = 0 THEN NULL ELSE 'prod' || ${pick('i', 'prod', np + 3)} END,
             (${pick('i', 'amt', 50000)} / 100 + 1)::DECIMAL(18,2),
             CASE WHEN ${pick('i', 'cur', 6)} = 0 THEN 'EUR' ELSE 'USD' END,
             s.status,
             CASE WHEN s.status = 'refunded' THEN (${pick('i', 'ref', 2)} * 0.5 + 0.5) * (${pick('i', 'amt', 50000)} / 100 + 1) ELSE 0 END::DECIMAL(18,2),
             ${ts('i', 'pt')}
      FROM range(${o.payments ?? 20000}) r(i),
           LATERAL (SELECT list_value('succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'pending', 'refunded', 'failed')[${pick('i', 'st', 10)} + 1] AS status) s`));
    await conn.run(withKey(`
      INSERT INTO orders (tenant_id, order_id, customer_id, status, total, currency, created_at)
      SELECT ${tenant('i')}, 'ord' || i, 'c' || ${pick('i', 'ocust', nc)},
             list_value('pending', 'paid', 'paid', 'fulfilled', 'fulfilled', 'fulfilled', 'cancelled', 'refunded')[${pick('i', 'ost', 8)} + 1],
             (${pick('i', 'otot', 80000)} / 100 + 1)::DECIMAL(18,2), CASE WHEN ${pick('i', 'ocur', 6)} = 0 THEN 'EUR' ELSE 'USD' END,
             ${ts('i', 'ot')}
      FROM range(${o.orders ?? 15000}) r(i)`));
    await conn.run(withKey(`
      INSERT INTO page_views (tenant_id, page_view_id, ts, page, user_id, product_id, views)
      SELECT ${tenant('i')}, 'pv' || i, ${ts('i', 'pvt')}, '/p', 'u' || ${pick('i', 'u', 500)}, NULL, 1 + ${pick('i', 'pvn', 40)}
      FROM range(${o.pageViews ?? 20000}) r(i)`));
    await conn.run(withKey(`
      INSERT INTO product_events (tenant_id, event_id, ts, product_id, views, cart_adds, sales)
      SELECT ${tenant('i')}, 'pe' || i, ${ts('i', 'pet')},
             CASE WHEN ${pick('i', 'penull', 50)} = 0 THEN NULL ELSE 'prod' || ${pick('i', 'pep', np)} END,
             10 + ${pick('i', 'pev', 30)}, ${pick('i', 'pec', 8)}, ${pick('i', 'pes', 3)}
      FROM range(${o.productEvents ?? 10000}) r(i)`));
    await conn.run(withKey(`
      INSERT INTO subscriptions (tenant_id, subscription_id, customer_id, plan_id, monthly_amount, currency, status, started_at, cancelled_at)
      SELECT ${tenant('i')}, 'sub' || i, 'c' || i, 'plan', (${pick('i', 'sm', 9000)} / 100 + 5)::DECIMAL(18,2),
             CASE WHEN ${pick('i', 'scur', 5)} = 0 THEN 'EUR' ELSE 'USD' END,
             list_value('active', 'active', 'active', 'past_due', 'cancelled', 'cancelled', 'trialing', 'paused')[${pick('i', 'sst', 8)} + 1],
             ${ts('i', 'sstart')} - INTERVAL 60 DAY,
             CASE WHEN ${pick('i', 'scan', 3)} = 0 THEN ${ts('i', 'send')} ELSE NULL END
      FROM range(${o.subscriptions ?? 300}) r(i)`));
    await markAllChanged(conn);
  });
}

/** Marks every fact entity for a rebuild of its rollups, as the ingest does after a bulk load. */
export async function markAllChanged(conn: DuckDBConnection): Promise<void> {
  await conn.run(`INSERT INTO delta_overflow VALUES ('payments'), ('orders'), ('page_views'), ('product_events')`);
}
