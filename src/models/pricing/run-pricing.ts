import { all, type Warehouse } from '../../warehouse/warehouse.ts';
import { sqlTs } from '../kpis/common.ts';
import { STILL_COUNTS } from '../kpis/summing.ts';
import { dayNumber, isoDay, lastCompleteDay, weekday } from '../days.ts';
import { sqlString } from '../../ingest/merge-sql.ts';
import { type DayObservation, estimateElasticity, poolElasticities, type RawElasticity } from './elasticity.ts';
import { type PricingSettings, type ProductInput, recommend } from './recommend.ts';

/**
 * The pricing job's I/O: per tenant, each product's daily units and average price paid from the
 * rollups, its demand signals and stock, then elasticities (own fit, pooled), a recommendation per
 * product, stored as one run (pricing_runs + pricing_recommendations).
 */

/** Days of history the elasticities are fitted on. */
export const HISTORY_DAYS = 365;
/** Signals compare the last SIGNAL_DAYS with the BASELINE_DAYS before them. */
const SIGNAL_DAYS = 14;
const BASELINE_DAYS = 56;
/** unitsPerDay is the average over this many recent days. */
const RECENT_DAYS = 28;

export interface PricingJobOptions {
  settings: PricingSettings;
  /** Per-category overrides of any setting. */
  categories: Record<string, Partial<PricingSettings>>;
  now?: () => Date;
}

interface ProductRow {
  tenant_id: string;
  product_id: string;
  category: string | null;
  currency: string;
  base_price: number | null;
  base_cost: number | null;
  current_price: number;
  inventory: number | null;
  reorder_point: number | null;
}

export async function runPricing(wh: Warehouse, opts: PricingJobOptions): Promise<{ runs: number; products: number; asOf: string | null }> {
  const state = await lastCompleteDay(wh);
  if (!state) return { runs: 0, products: 0, asOf: null };
  const { lastDay } = state;
  const firstDay = lastDay - HISTORY_DAYS + 1;
  const products = await wh.query<ProductRow>(`
    SELECT tenant_id, product_id, category, currency, base_price::DOUBLE AS base_price, base_cost::DOUBLE AS base_cost,
      current_price::DOUBLE AS current_price, inventory, reorder_point
    FROM products WHERE coalesce(active, true) ORDER BY tenant_id, product_id`);
  const sales = await wh.query<{ tenant_id: string; product_id: string; d: string; units: number; gross: number }>(`
    SELECT tenant_id, product_id, strftime(CAST(bucket AS DATE), '%Y-%m-%d') AS d, sum(units)::DOUBLE AS units, sum(gross)::DOUBLE AS gross
    FROM kpi_product_payments_15m WHERE bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP GROUP BY ALL HAVING ${STILL_COUNTS.kpi_product_payments_15m}`,
    { from: isoDay(firstDay), to: isoDay(lastDay + 1) });
  const events = await wh.query<{ tenant_id: string; product_id: string; recent: boolean; views: number; cart_adds: number; sales: number }>(`
    SELECT tenant_id, product_id, bucket >= $mid::TIMESTAMP AS recent, sum(views)::DOUBLE AS views, sum(cart_adds)::DOUBLE AS cart_adds, sum(sales)::DOUBLE AS sales
    FROM kpi_product_events_15m WHERE bucket >= $from::TIMESTAMP AND bucket < $to::TIMESTAMP AND product_id IS NOT NULL GROUP BY ALL`,
    { from: isoDay(lastDay + 1 - SIGNAL_DAYS - BASELINE_DAYS), mid: isoDay(lastDay + 1 - SIGNAL_DAYS), to: isoDay(lastDay + 1) });

  const key = (t: string, p: string) => `${t}\u0000${p}`;
  const shopUnits = new Map<string, Map<number, number>>();
  for (const s of sales) {
    if (!shopUnits.has(s.tenant_id)) shopUnits.set(s.tenant_id, new Map());
    const m = shopUnits.get(s.tenant_id)!;
    m.set(dayNumber(s.d), (m.get(dayNumber(s.d)) ?? 0) + s.units);
  }
  const salesBy = new Map<string, Map<number, { units: number; gross: number }>>();
  for (const s of sales) {
    const k = key(s.tenant_id, s.product_id);
    if (!salesBy.has(k)) salesBy.set(k, new Map());
    salesBy.get(k)!.set(dayNumber(s.d), { units: s.units, gross: s.gross });
  }
  const eventsBy = new Map<string, { recent?: (typeof events)[number]; base?: (typeof events)[number] }>();
  for (const e of events) {
    const k = key(e.tenant_id, e.product_id);
    const entry = eventsBy.get(k) ?? {};
    if (e.recent) entry.recent = e;
    else entry.base = e;
    eventsBy.set(k, entry);
  }

  const computedAt = sqlTs(opts.now?.() ?? new Date());
  let runs = 0;
  for (const tenant of new Set(products.map((p) => p.tenant_id))) {
    const mine = products.filter((p) => p.tenant_id === tenant);
    const histories = new Map<string, DayObservation[]>();
    const raws = new Map<string, RawElasticity>();
    for (const p of mine) {
      const days = dailyHistory(salesBy.get(key(tenant, p.product_id)), firstDay, lastDay, p.current_price, shopUnits.get(tenant));
      histories.set(p.product_id, days);
      raws.set(p.product_id, estimateElasticity(days));
    }
    const pooled = poolElasticities(mine.map((p) => ({ key: p.product_id, category: p.category, raw: raws.get(p.product_id)! })));
    const rows: string[] = [];
    for (const p of mine) {
      const e = pooled.get(p.product_id)!;
      const s = { ...opts.settings, ...(p.category ? opts.categories[p.category] : undefined) };
      const days = histories.get(p.product_id)!;
      const recent = days.slice(-RECENT_DAYS);
      const ev = eventsBy.get(key(tenant, p.product_id));
      const input: ProductInput = {
        currentPrice: p.current_price, basePrice: p.base_price ?? p.current_price, unitCost: p.base_cost,
        inventory: p.inventory, reorderPoint: p.reorder_point,
        unitsPerDay: recent.reduce((a, d) => a + d.units, 0) / Math.max(1, recent.length),
        elasticity: e, signals: signals(ev?.recent, ev?.base),
      };
      const r = recommend(input, s);
      rows.push(`(${[
        lit(p.product_id), lit(p.category), lit(p.currency), r.currentPrice, r.price, r.changePct,
        e.mean, e.sd, e.lo, e.hi, lit(e.source), lit(e.confidence), num(raws.get(p.product_id)!.estimate),
        num(r.optimalPrice), lit(JSON.stringify(r.expected)), lit(JSON.stringify(r.factors)), lit(JSON.stringify(r.boundBy)), lit(r.reason),
      ].join(', ')})`);
    }
    await wh.transaction(async (conn) => {
      const [run] = await all<{ run_id: string }>(conn, `
        INSERT INTO pricing_runs (tenant_id, computed_at, as_of, last_day, settings) VALUES ($t, $c::TIMESTAMP, $a::TIMESTAMP, $d::DATE, $s::JSON) RETURNING run_id`,
        { t: tenant, c: computedAt, a: state.asOf, d: isoDay(lastDay), s: JSON.stringify({ default: opts.settings, categories: opts.categories }) });
      if (rows.length) {
        await conn.run(`INSERT INTO pricing_recommendations (run_id, product_id, category, currency, current_price, price, change_pct,
          elasticity, elasticity_sd, elasticity_lo, elasticity_hi, elasticity_source, confidence, own_estimate, optimal_price,
          expected, factors, bound_by, reason)
          SELECT ${run!.run_id}, * FROM (VALUES ${rows.join(', ')})`);
      }
    });
    runs++;
  }
  return { runs, products: products.length, asOf: state.asOf };
}

/**
 * Daily units and average price paid over [first, last], with the shop's units that day as the
 * exposure. A day without sales carries the last price paid before it (the list price is not kept
 * per day), or the current price before the first sale.
 */
export function dailyHistory(
  sales: Map<number, { units: number; gross: number }> | undefined, first: number, last: number, currentPrice: number, shop?: Map<number, number>,
): DayObservation[] {
  const days: DayObservation[] = [];
  let firstPaid: number | null = null;
  for (let d = first; d <= last && firstPaid === null; d++) {
    const s = sales?.get(d);
    if (s && s.units > 0) firstPaid = s.gross / s.units;
  }
  let price = firstPaid ?? currentPrice;
  for (let d = first; d <= last; d++) {
    const s = sales?.get(d);
    if (s && s.units > 0) price = s.gross / s.units;
    days.push({ t: d - first, dow: weekday(d), price, units: s?.units ?? 0, ...(shop ? { exposure: shop.get(d) ?? 0 } : {}) });
  }
  return days;
}

function signals(recent: { views: number; cart_adds: number; sales: number } | undefined, base: { views: number; cart_adds: number; sales: number } | undefined): ProductInput['signals'] {
  if (!recent || !base) return { views: null, cartAdds: null, conversion: null };
  const scale = BASELINE_DAYS / SIGNAL_DAYS;
  const change = (a: number, b: number) => (b > 0 ? (a * scale) / b - 1 : null);
  const conv = (x: { views: number; sales: number }) => (x.views > 0 ? x.sales / x.views : null);
  const cr = conv(recent);
  const cb = conv(base);
  return { views: change(recent.views, base.views), cartAdds: change(recent.cart_adds, base.cart_adds), conversion: cr !== null && cb ? cr / cb - 1 : null };
}

const lit = (v: string | null) => (v === null ? 'NULL' : sqlString(v));
const num = (v: number | null) => (v === null || !Number.isFinite(v) ? 'NULL' : String(v));
