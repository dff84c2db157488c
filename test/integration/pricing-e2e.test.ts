import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys.ts';
import { ingestAll } from '../../src/ingest/run.ts';
import { refreshRollups } from '../../src/models/kpis/rollups.ts';
import { autoApply } from '../../src/models/pricing/apply.ts';
import { DEFAULT_SETTINGS } from '../../src/models/pricing/recommend.ts';
import { runPricing } from '../../src/models/pricing/run-pricing.ts';
import type { Truth } from '../../src/synth/pricing-platform.ts';
import { generatedSource, type SourceDb } from '../helpers/source-db.ts';
import { serveApi } from '../helpers/api.ts';
import { openTestWarehouse } from '../helpers/warehouse.ts';

/**
 * Pricing end to end on generated seed-004 data whose true elasticities are known: PostgreSQL →
 * ingest → rollups → pricing job → HTTP.
 */
describe('pricing recommendations end to end', () => {
  let db: SourceDb;
  let tw: Awaited<ReturnType<typeof openTestWarehouse>>;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let truth: Truth;
  const mine = generateApiKey('default', ['read']);

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const res = await http.get(path, mine.key);
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    // Enough sales per product (about 1,000 a year) for the history to speak.
    ({ db, truth } = await generatedSource({ seed: 5, orders: 40_000, products: 40, days: 365, experiments: false, end: new Date('2026-09-15T00:00:00Z') }));
    tw = await openTestWarehouse(db.pool, { API_KEYS: mine.entry });
    await ingestAll(tw.ctx);
    await refreshRollups(tw.warehouse);
    await runPricing(tw.warehouse, { settings: DEFAULT_SETTINGS, categories: {} });
    http = await serveApi({ config: tw.config, warehouse: tw.warehouse });
  }, 180_000);

  afterAll(async () => {
    await http?.close();
    await tw?.close();
    await db?.drop();
  });

  type Page = { total: number; items: { product_id: string; current_price: number; recommended_price: number; bound_by: string[]; reason: string; elasticity: { estimate: number; ci90: [number, number] } }[] };

  it('recovers the generator\'s elasticities from the sales history', async () => {
    const { status, body } = await api<Page>('/v1/pricing/recommendations?limit=1000');
    expect(status).toBe(200);
    expect(body.total).toBe(truth.products.length);
    const byId = new Map(truth.products.map((p) => [String(p.id), p.elasticity]));
    const errors = body.items.map((r) => Math.abs(r.elasticity.estimate - byId.get(r.product_id)!));
    const covered = body.items.filter((r) => r.elasticity.ci90[0] <= byId.get(r.product_id)! && byId.get(r.product_id)! <= r.elasticity.ci90[1]).length;
    const mae = errors.reduce((a, b) => a + b, 0) / errors.length;
    // Stated tolerance: mean absolute error under 0.35 and 90% intervals covering at least 70% of the 40
    // products (seen: 0.32 and 80%; 75% before Morris's correction). Five products a category leave τ²
    // poorly known (estimated 0.015 before its 0.04 floor; the generator's is 0.12): the intervals still
    // under-cover here.
    expect(mae).toBeLessThan(0.35);
    expect(covered / body.items.length).toBeGreaterThanOrEqual(0.7);
  });

  it('keeps every recommendation inside its guardrails and explains it', async () => {
    const { body } = await api<Page>('/v1/pricing/recommendations?limit=1000');
    const products = await tw.warehouse.query<{ product_id: string; base_price: number; base_cost: number | null }>(
      `SELECT product_id, base_price::DOUBLE AS base_price, base_cost::DOUBLE AS base_cost FROM products`);
    for (const r of body.items) {
      const p = products.find((x) => x.product_id === r.product_id)!;
      expect(Math.abs(r.recommended_price - r.current_price)).toBeLessThanOrEqual(r.current_price * DEFAULT_SETTINGS.maxChange + 0.005);
      if (!r.bound_by.includes('infeasible')) {
        if (p.base_cost !== null) expect(r.recommended_price).toBeGreaterThanOrEqual(p.base_cost * (1 + DEFAULT_SETTINGS.minMargin) - 0.005);
        expect(r.recommended_price).toBeGreaterThanOrEqual(p.base_price * DEFAULT_SETTINGS.minRatio - 0.005);
        expect(r.recommended_price).toBeLessThanOrEqual(p.base_price * DEFAULT_SETTINGS.maxRatio + 0.005);
      }
      expect(r.reason).toMatch(/^(Raise|Lower|Hold)/);
    }
    const changed = await api<Page>('/v1/pricing/recommendations?changed=true&limit=1000');
    expect(changed.body.items.every((r) => r.recommended_price !== r.current_price)).toBe(true);
    const bad = await fetch(`${http.url}/v1/pricing/recommendations?min_confidence=certain`, { headers: { authorization: `Bearer ${mine.key}` } });
    expect(bad.status).toBe(400);
  });

  it('shows one product\'s history, fitted curve and profit curve, the history matching the source', async () => {
    const { body: page } = await api<Page>('/v1/pricing/recommendations?limit=1');
    const id = page.items[0]!.product_id;
    type Detail = { history: { day: string; units: number; avg_price: number }[]; curve: { price: number; units: number; profit: number | null }[]; recommendation: { recommended_price: number } };
    const { status, body } = await api<Detail>(`/v1/pricing/products/${id}`);
    expect(status).toBe(200);
    expect(body.recommendation.recommended_price).toBe(page.items[0]!.recommended_price);
    // Units sold per day straight from the source's payments (the seed's paid statuses).
    const { rows } = await db.pool.query<{ day: string; n: string }>(`
      SELECT to_char(created_at, 'YYYY-MM-DD') AS day, count(*)::text AS n FROM payments
      WHERE product_id::text = $1 AND lower(status) IN ('completed', 'succeeded', 'paid', 'refunded') GROUP BY 1 ORDER BY 1`, [id]);
    const source = new Map(rows.map((r) => [r.day, Number(r.n)]));
    expect(body.history.length).toBeGreaterThan(100);
    for (const h of body.history) expect(h.units).toBe(source.get(h.day));
    const best = body.curve.filter((c) => c.profit !== null).reduce((a, b) => (b.profit! > a.profit! ? b : a));
    expect(best.profit).toBeGreaterThan(0);
    expect((await api(`/v1/pricing/products/no-such-product`)).status).toBe(404);
  });

  it('auto-apply (off unless configured) writes the run\'s changed prices to the source, once', async () => {
    const { body } = await api<Page>('/v1/pricing/recommendations?changed=true&limit=1000');
    const settings = { minMargin: DEFAULT_SETTINGS.minMargin, minRatio: DEFAULT_SETTINGS.minRatio, maxRatio: DEFAULT_SETTINGS.maxRatio };
    const first = await autoApply(db.pool, tw.warehouse, { tenantId: 'default', settings });
    expect(first!.applied + first!.refused).toBe(body.items.length);
    expect(first!.applied).toBeGreaterThan(0);
    const { rows } = await db.pool.query<{ id: string; p: string }>(`SELECT id::text, current_price::text AS p FROM products`);
    const now = new Map(rows.map((r) => [r.id, Number(r.p)]));
    for (const o of first!.items.filter((i) => i.status === 'applied')) expect(now.get(o.product_id)).toBe(o.price);
    // A retried job replays the same run's key: the same answer, nothing written twice.
    const again = await autoApply(db.pool, tw.warehouse, { tenantId: 'default', settings });
    expect(again).toEqual(first);
  });
});
