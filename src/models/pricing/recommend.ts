import type { PooledElasticity } from './elasticity.ts';

/**
 * The recommended price of one product: the profit-maximising price under its elasticity, nudged
 * by demand signals and inventory, then held inside the guardrails and given a price ending such
 * that rounding never breaks a guardrail or turns the move around. Pure: numbers in, numbers out.
 */

export interface PricingSettings {
  /** Lowest margin over unit cost: price ≥ cost × (1 + minMargin). */
  minMargin: number;
  /** Price bounds relative to base_price. */
  minRatio: number;
  maxRatio: number;
  /** Largest move per update, relative to the current price. */
  maxChange: number;
  /** Cents a price ends in (99 for .99); null keeps whole cents. */
  ending: number | null;
  /** Demand momentum (relative change of views, cart adds and conversion vs baseline) → price, per unit, capped at ±signalCap. */
  signalWeight: number;
  signalCap: number;
  /** Below the reorder point: up by this share; more than overstockDays of expected sales on hand: down by it. */
  inventoryStep: number;
  overstockDays: number;
}

export const DEFAULT_SETTINGS: PricingSettings = {
  minMargin: 0.1, minRatio: 0.7, maxRatio: 1.5, maxChange: 0.1, ending: 99,
  signalWeight: 0.1, signalCap: 0.03, inventoryStep: 0.03, overstockDays: 180,
};

export interface ProductInput {
  currentPrice: number;
  basePrice: number;
  /** Unit cost; null when the source has none (no profit optimum then). */
  unitCost: number | null;
  inventory: number | null;
  reorderPoint: number | null;
  /** Expected units a day at the current price (recent average). */
  unitsPerDay: number;
  elasticity: PooledElasticity;
  /** Relative change vs the product's baseline (0.1 = +10%); null when unknown. */
  signals: { views: number | null; cartAdds: number | null; conversion: number | null };
}

export type Guardrail = 'cost_floor' | 'min_price' | 'max_price' | 'max_change' | 'infeasible';

export interface Recommendation {
  currentPrice: number;
  price: number;
  changePct: number;
  /** Profit-maximising price under the curve before signals and guardrails (null when the elasticity may not drive the price). */
  optimalPrice: number | null;
  expected: { current: { units: number; profit: number | null }; recommended: { units: number; profit: number | null } };
  factors: { demand: number; inventory: number; elasticity: number; competition: number; seasonality: number };
  boundBy: Guardrail[];
  reason: string;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Units a day at `price` on the constant-elasticity curve through (current price, unitsPerDay). */
export function unitsAt(p: ProductInput, price: number): number {
  return p.unitsPerDay * (price / p.currentPrice) ** p.elasticity.mean;
}

/** (price − cost) × units(price); null without a cost. */
export function profitAt(p: ProductInput, price: number): number | null {
  return p.unitCost === null ? null : (price - p.unitCost) * unitsAt(p, price);
}

/** May the elasticity move the price? Only when its 90% interval lies below zero. */
export function elasticityUsable(e: PooledElasticity): boolean {
  return e.hi < 0;
}

/** p* = c·e/(1+e): the optimum of (p − c)·p^e when demand is elastic (e < −1); null otherwise. */
export function optimalPrice(cost: number | null, e: number): number | null {
  if (cost === null || cost <= 0 || !(e < -1)) return null;
  return (cost * e) / (1 + e);
}

/** The guardrail interval [lo, hi] and which rule set each end. */
export function guardrails(p: ProductInput, s: PricingSettings): { lo: number; hi: number; loBy: Guardrail; hiBy: Guardrail; feasible: boolean } {
  const lows: [number, Guardrail][] = [[p.basePrice * s.minRatio, 'min_price'], [p.currentPrice * (1 - s.maxChange), 'max_change']];
  if (p.unitCost !== null) lows.push([p.unitCost * (1 + s.minMargin), 'cost_floor']);
  const highs: [number, Guardrail][] = [[p.basePrice * s.maxRatio, 'max_price'], [p.currentPrice * (1 + s.maxChange), 'max_change']];
  const [lo, loBy] = lows.reduce((a, b) => (b[0] > a[0] ? b : a));
  const [hi, hiBy] = highs.reduce((a, b) => (b[0] < a[0] ? b : a));
  // Feasible when a whole-cent price fits: [0.905, 0.9049] has none, though the ends nearly meet.
  return { lo, hi, loBy, hiBy, feasible: Math.ceil(lo * 100 - 1e-6) <= Math.floor(hi * 100 + 1e-6) };
}

/**
 * The price with the configured ending nearest to `target` inside [lo, hi] that does not move
 * against the direction from `current` to `target`; whole cents when no such ending fits.
 */
export function applyEnding(target: number, current: number, lo: number, hi: number, ending: number | null): number {
  const cents = (x: number) => Math.round(x * 100);
  const loC = Math.ceil(lo * 100 - 1e-6);
  const hiC = Math.floor(hi * 100 + 1e-6);
  const t = Math.min(hiC, Math.max(loC, cents(target)));
  const cur = cents(current);
  // No move intended: an ending must not invent one.
  if (t === cur) return cur / 100;
  const sameWay = (c: number) => (t > cur ? c >= cur : t < cur ? c <= cur : true);
  if (ending !== null) {
    const candidates: number[] = [];
    for (const dollars of [Math.floor(t / 100) - 1, Math.floor(t / 100), Math.floor(t / 100) + 1]) {
      const c = dollars * 100 + ending;
      if (c >= loC && c <= hiC && c > 0 && sameWay(c)) candidates.push(c);
    }
    if (candidates.length) return candidates.reduce((a, b) => (Math.abs(b - t) < Math.abs(a - t) ? b : a)) / 100;
  }
  return t / 100;
}

export function recommend(p: ProductInput, s: PricingSettings = DEFAULT_SETTINGS): Recommendation {
  const e = p.elasticity;
  const usable = elasticityUsable(e);
  const opt = usable ? optimalPrice(p.unitCost, e.mean) : null;
  // Inelastic but clearly negative: profit grows with price, so the move is up to the guardrails.
  let target = opt ?? (usable && e.mean >= -1 && p.unitCost !== null ? p.currentPrice * (1 + s.maxChange) : p.currentPrice);
  const elasticityFactor = target / p.currentPrice;

  const trends = [p.signals.views, p.signals.cartAdds, p.signals.conversion].filter((x): x is number => x !== null && Number.isFinite(x));
  const momentum = trends.length ? trends.reduce((a, b) => a + b, 0) / trends.length : 0;
  const demand = 1 + Math.max(-s.signalCap, Math.min(s.signalCap, s.signalWeight * momentum));

  let inventory = 1;
  if (p.inventory !== null && p.reorderPoint !== null && p.inventory < p.reorderPoint) inventory = 1 + s.inventoryStep;
  else if (p.inventory !== null && p.unitsPerDay > 0 && p.inventory > s.overstockDays * p.unitsPerDay) inventory = 1 - s.inventoryStep;
  target *= demand * inventory;

  const g = guardrails(p, s);
  const boundBy: Guardrail[] = [];
  let price: number;
  if (g.feasible) {
    if (target < g.lo) boundBy.push(g.loBy);
    if (target > g.hi) boundBy.push(g.hiBy);
    price = applyEnding(target, p.currentPrice, g.lo, g.hi, s.ending);
  } else {
    // No price satisfies every rule (say the cost floor lies above the largest allowed move): move as
    // far toward the floor as the change cap and price bounds allow, and say so.
    boundBy.push('infeasible', g.loBy, g.hiBy);
    price = Math.floor(g.hi * 100 + 1e-6) / 100;
  }
  const changePct = round2(((price - p.currentPrice) / p.currentPrice) * 100);
  const profit = (x: number) => {
    const v = profitAt(p, x);
    return v === null ? null : round2(v);
  };
  return {
    currentPrice: p.currentPrice,
    price,
    changePct,
    optimalPrice: opt === null ? null : round2(opt),
    expected: {
      current: { units: round2(p.unitsPerDay), profit: profit(p.currentPrice) },
      recommended: { units: round2(unitsAt(p, price)), profit: profit(price) },
    },
    factors: { demand: round2(demand * 1000) / 1000, inventory, elasticity: round2(elasticityFactor * 1000) / 1000, competition: 1, seasonality: 1 },
    boundBy: [...new Set(boundBy)],
    reason: reasonOf(p, usable, opt, price, changePct, boundBy, demand, inventory),
  };
}

function reasonOf(p: ProductInput, usable: boolean, opt: number | null, price: number, changePct: number, boundBy: Guardrail[], demand: number, inventory: number): string {
  const e = p.elasticity;
  const el = `elasticity ${e.mean.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;
  const why = !usable
    ? `${el} is not clearly negative, so it does not move the price`
    : opt !== null
      ? `profit peaks near ${opt.toFixed(2)} under ${el}`
      : p.unitCost === null ? `no unit cost, so no profit optimum (${el})` : `demand is inelastic (${el}): profit rises with price`;
  const nudges = [demand > 1 ? 'demand rising' : demand < 1 ? 'demand falling' : null, inventory > 1 ? 'stock below reorder point' : inventory < 1 ? 'overstocked' : null]
    .filter(Boolean).join(', ');
  const move = changePct === 0 ? `Hold at ${price.toFixed(2)}` : `${changePct > 0 ? 'Raise' : 'Lower'} to ${price.toFixed(2)} (${changePct > 0 ? '+' : ''}${changePct}%)`;
  return `${move}: ${why}${nudges ? `; ${nudges}` : ''}${boundBy.length ? `; held by ${boundBy.join(', ')}` : ''}.`;
}
