import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { factories } from '../helpers/factories.ts';
import { createSourceDb, type SourceDb } from '../helpers/source-db.ts';
import { serveApi } from '../helpers/api.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/** POST /v1/pricing/apply against a real PostgreSQL through a real HTTP server. */
describe('price write-back', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let f: ReturnType<typeof factories>;
  const writer = generateApiKey('default', ['read', 'pricing:write']);
  const reader = generateApiKey('default', ['read']);

  const post = (body: unknown, key = writer.key, headers: Record<string, string> = {}) =>
    fetch(`${http.url}/v1/pricing/apply`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const source = async (id: string) => (await db.pool.query<{ current_price: string; pricing_factors: Record<string, unknown> | null; last_price_update: Date | null }>(
    `SELECT current_price::text, pricing_factors, last_price_update FROM products WHERE id = $1`, [id])).rows[0]!;

  beforeAll(async () => {
    db = await createSourceDb('pricing-platform');
    f = factories(db.pool);
    tw = await openTestWarehouse(db.pool, { API_KEYS: `${writer.entry},${reader.entry}` });
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse, source: db.pool });
  }, 60_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  it('writes price, pricing_factors and last_price_update in one transaction, refusing per item what it must', async () => {
    const a = await f.product({ current_price: '20.00', base_price: '20.00', base_cost: '8.00' });
    const b = await f.product({ current_price: '30.00', base_price: '30.00', base_cost: '12.00' });
    const c = await f.product({ current_price: '10.00', base_price: '10.00', base_cost: '9.50' });
    const d = await f.product({ current_price: '50.00', base_price: '50.00', base_cost: '10.00' });
    // Someone else changes b between the engine's read and its write.
    await db.pool.query(`UPDATE products SET current_price = 31.00 WHERE id = $1`, [b]);
    const res = await post({ items: [
      { product_id: a, price: 18.99, expected_current_price: 20 },
      { product_id: b, price: 28.99, expected_current_price: 30 },
      { product_id: c, price: 9.99, expected_current_price: 10 }, // cost floor 9.50 × 1.1 = 10.45
      { product_id: d, price: 99.99, expected_current_price: 50 }, // above 1.5 × base
      { product_id: '00000000-0000-0000-0000-000000000000', price: 5, expected_current_price: 5 },
    ] });
    expect(res.status).toBe(200);
    const body = await res.json() as { applied: number; refused: number; items: { product_id: string; status: string; current_price: number | null }[] };
    expect(body.applied).toBe(1);
    expect(body.items.map((i) => i.status)).toEqual(['applied', 'conflict', 'below_cost_floor', 'out_of_bounds', 'not_found']);
    expect(body.items[1]!.current_price).toBe(31);
    const after = await source(a);
    expect(after.current_price).toBe('18.99');
    expect(after.pricing_factors).toMatchObject({ source: 'pricecast' });
    expect(after.last_price_update).not.toBeNull();
    expect((await source(b)).current_price).toBe('31.00');
    expect((await source(c)).current_price).toBe('10.00');
    const audit = await tw.warehouse.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM pricing_audit GROUP BY 1 ORDER BY 1`);
    expect(audit).toEqual([
      { status: 'applied', n: '1' }, { status: 'below_cost_floor', n: '1' }, { status: 'conflict', n: '1' },
      { status: 'not_found', n: '1' }, { status: 'out_of_bounds', n: '1' },
    ]);
  });

  it('honours an Idempotency-Key: a repeat gets the first answer and writes nothing; another body under the same key is refused', async () => {
    const p = await f.product({ current_price: '40.00', base_price: '40.00', base_cost: '10.00' });
    const body = { items: [{ product_id: p, price: 37.99, expected_current_price: 40 }] };
    const first = await post(body, writer.key, { 'idempotency-key': 'run-42' });
    expect(((await first.json()) as { applied: number }).applied).toBe(1);
    // The price moves on; a retry of the same request must not be applied (or conflict) again.
    await db.pool.query(`UPDATE products SET current_price = 41.00 WHERE id = $1`, [p]);
    const again = await post(body, writer.key, { 'idempotency-key': 'run-42' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as { items: { status: string }[] }).items[0]!.status).toBe('applied');
    expect((await source(p)).current_price).toBe('41.00');
    const other = await post({ items: [{ product_id: p, price: 39.99, expected_current_price: 41 }] }, writer.key, { 'idempotency-key': 'run-42' });
    expect(other.status).toBe(422);
  });

  it('two writers racing on one product: exactly one wins', async () => {
    const p = await f.product({ current_price: '60.00', base_price: '60.00', base_cost: '10.00' });
    const [r1, r2] = await Promise.all([
      post({ items: [{ product_id: p, price: 57.99, expected_current_price: 60 }] }),
      post({ items: [{ product_id: p, price: 62.99, expected_current_price: 60 }] }),
    ]);
    const statuses = [((await r1.json()) as { items: { status: string }[] }).items[0]!.status, ((await r2.json()) as { items: { status: string }[] }).items[0]!.status].sort();
    expect(statuses).toEqual(['applied', 'conflict']);
    expect(['57.99', '62.99']).toContain((await source(p)).current_price);
  });

  it('needs the pricing:write scope and a well-formed body', async () => {
    expect((await post({ items: [{ product_id: 'x', price: 1, expected_current_price: 1 }] }, reader.key)).status).toBe(403);
    const res = await post({ items: [{ product_id: 'x', price: 1.234, expected_current_price: 1 }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain('body field "items.0.price"');
  });
});
