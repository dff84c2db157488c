import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { PricingSettings } from './recommend.ts';

/**
 * Writes prices the pricing engine chose back to the source's products table: one PostgreSQL
 * transaction per request, each item applied only if the product still has the price the engine
 * saw (optimistic concurrency) and the new price keeps the cost floor and the base-price bounds.
 * Every item's outcome is audited in the warehouse; a request repeated with its Idempotency-Key
 * gets the first response back and writes nothing.
 */

export interface ApplyItem {
  product_id: string;
  price: number;
  expected_current_price: number;
}

export type ApplyStatus = 'applied' | 'conflict' | 'not_found' | 'below_cost_floor' | 'out_of_bounds';

export interface ApplyOutcome {
  product_id: string;
  status: ApplyStatus;
  price: number;
  /** The product's price in the source after the request (the new one when applied). */
  current_price: number | null;
  detail: string;
}

export interface ApplyResponse {
  applied: number;
  refused: number;
  items: ApplyOutcome[];
}

/** Profiles whose source schema the write-back knows (seed 004's products table). */
export const APPLY_PROFILES = ['pricing-platform'] as const;

export class IdempotencyMismatch extends Error {}

const cents = (x: number) => Math.round(x * 100);

export async function applyPrices(
  source: pg.Pool, wh: Warehouse,
  req: { tenantId: string; keyId: string; requestId: string; idempotencyKey: string | null; items: ApplyItem[]; settings: Pick<PricingSettings, 'minMargin' | 'minRatio' | 'maxRatio'> },
): Promise<{ response: ApplyResponse; replayed: boolean }> {
  const hash = createHash('sha256').update(JSON.stringify(req.items)).digest('hex');
  if (req.idempotencyKey) {
    const [prior] = await wh.query<{ request_hash: string; response: string }>(
      `SELECT request_hash, response::VARCHAR AS response FROM pricing_idempotency WHERE tenant_id = $t AND idempotency_key = $k`,
      { t: req.tenantId, k: req.idempotencyKey });
    if (prior) {
      if (prior.request_hash !== hash) throw new IdempotencyMismatch('this Idempotency-Key was used with a different request body');
      return { response: JSON.parse(prior.response) as ApplyResponse, replayed: true };
    }
  }
  // The recommendation behind each price, if any: its factors go to pricing_factors.
  const recs = await wh.query<{ product_id: string; factors: string; elasticity: number; confidence: string; reason: string; run_id: string }>(`
    SELECT r.product_id, r.factors::VARCHAR AS factors, r.elasticity, r.confidence, r.reason, r.run_id::VARCHAR AS run_id
    FROM pricing_recommendations r
    WHERE r.run_id = (SELECT max(run_id) FROM pricing_runs WHERE tenant_id = $t)`, { t: req.tenantId });
  const recBy = new Map(recs.map((r) => [r.product_id, r]));
  const { minMargin, minRatio, maxRatio } = req.settings;
  const outcomes: ApplyOutcome[] = [];
  const client = await source.connect();
  try {
    await client.query('BEGIN');
    for (const item of req.items) {
      const rec = recBy.get(item.product_id);
      const factors = {
        ...(rec ? (JSON.parse(rec.factors) as Record<string, number>) : {}),
        source: 'pricecast', elasticity_estimate: rec?.elasticity ?? null, confidence: rec?.confidence ?? null,
        reason: rec?.reason ?? 'set by the pricing engine', run_id: rec ? Number(rec.run_id) : null, request_id: req.requestId,
      };
      // Row-locked by the UPDATE; the price comparisons are on cents, as the column stores them.
      const updated = await client.query<{ current_price: string }>(`
        UPDATE products SET current_price = $2::numeric(10,2), pricing_factors = $4::jsonb, last_price_update = now() AT TIME ZONE 'UTC',
          updated_at = now() AT TIME ZONE 'UTC'
        WHERE id::text = $1 AND round(current_price * 100) = $3
          AND (base_cost IS NULL OR $2::numeric >= base_cost * (1 + $5::numeric))
          AND $2::numeric BETWEEN base_price * $6::numeric AND base_price * $7::numeric
        RETURNING current_price::text`,
        [item.product_id, item.price.toFixed(2), cents(item.expected_current_price), JSON.stringify(factors), minMargin, minRatio, maxRatio]);
      if (updated.rowCount === 1) {
        outcomes.push({ product_id: item.product_id, status: 'applied', price: item.price, current_price: Number(updated.rows[0]!.current_price), detail: 'applied' });
        continue;
      }
      const now = await client.query<{ current_price: string; base_cost: string | null; base_price: string }>(
        `SELECT current_price::text, base_cost::text, base_price::text FROM products WHERE id::text = $1`, [item.product_id]);
      const row = now.rows[0];
      if (!row) {
        outcomes.push({ product_id: item.product_id, status: 'not_found', price: item.price, current_price: null, detail: 'no such product in the source' });
      } else if (cents(Number(row.current_price)) !== cents(item.expected_current_price)) {
        outcomes.push({ product_id: item.product_id, status: 'conflict', price: item.price, current_price: Number(row.current_price),
          detail: `the price is ${row.current_price} now, not the ${item.expected_current_price.toFixed(2)} expected: it changed meanwhile` });
      } else if (row.base_cost !== null && item.price < Number(row.base_cost) * (1 + minMargin)) {
        outcomes.push({ product_id: item.product_id, status: 'below_cost_floor', price: item.price, current_price: Number(row.current_price),
          detail: `below the cost floor ${(Number(row.base_cost) * (1 + minMargin)).toFixed(2)} (cost ${row.base_cost} + ${minMargin * 100}% margin)` });
      } else {
        outcomes.push({ product_id: item.product_id, status: 'out_of_bounds', price: item.price, current_price: Number(row.current_price),
          detail: `outside ${(Number(row.base_price) * minRatio).toFixed(2)}-${(Number(row.base_price) * maxRatio).toFixed(2)} (base price ${row.base_price} × ${minRatio}-${maxRatio})` });
      }
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  const response: ApplyResponse = {
    applied: outcomes.filter((o) => o.status === 'applied').length,
    refused: outcomes.filter((o) => o.status !== 'applied').length,
    items: outcomes,
  };
  await wh.transaction(async (conn) => {
    for (const o of outcomes) {
      const expected = req.items.find((i) => i.product_id === o.product_id)!.expected_current_price;
      await conn.run(`INSERT INTO pricing_audit (applied_at, tenant_id, key_id, request_id, idempotency_key, product_id, expected_price, price, status, current_price, detail)
        VALUES (now()::TIMESTAMP, $t, $key, $rid, $ik, $p, $e, $price, $s, $cur, $d)`, {
        t: req.tenantId, key: req.keyId, rid: req.requestId, ik: req.idempotencyKey, p: o.product_id, e: expected, price: o.price, s: o.status,
        cur: o.current_price, d: o.detail,
      });
    }
    if (req.idempotencyKey) {
      await conn.run(`INSERT INTO pricing_idempotency (tenant_id, idempotency_key, request_hash, response, created_at)
        VALUES ($t, $k, $h, $r::JSON, now()::TIMESTAMP) ON CONFLICT DO NOTHING`, { t: req.tenantId, k: req.idempotencyKey, h: hash, r: JSON.stringify(response) });
    }
  });
  return { response, replayed: false };
}

/**
 * The scheduled auto-apply (PRICING_AUTO_APPLY, off by default): the latest run's changed
 * recommendations of a tenant, applied as the pricing engine would, each expecting the price the
 * run saw, under the run's Idempotency-Key (a retried job writes nothing twice).
 */
export async function autoApply(
  source: pg.Pool, wh: Warehouse, q: { tenantId: string; settings: Pick<PricingSettings, 'minMargin' | 'minRatio' | 'maxRatio'> },
): Promise<ApplyResponse | null> {
  const recs = await wh.query<{ run_id: string; product_id: string; price: number; current_price: number }>(`
    SELECT run_id::VARCHAR AS run_id, product_id, price, current_price FROM pricing_recommendations
    WHERE run_id = (SELECT max(run_id) FROM pricing_runs WHERE tenant_id = $t) AND price <> current_price ORDER BY product_id`, { t: q.tenantId });
  if (recs.length === 0) return null;
  const { response } = await applyPrices(source, wh, {
    tenantId: q.tenantId, keyId: 'scheduler', requestId: `pricing-run-${recs[0]!.run_id}`, idempotencyKey: `pricing-run-${recs[0]!.run_id}`,
    items: recs.map((r) => ({ product_id: r.product_id, price: r.price, expected_current_price: r.current_price })), settings: q.settings,
  });
  return response;
}
