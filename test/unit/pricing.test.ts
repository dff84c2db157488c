import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DayObservation, estimateElasticity, type PooledElasticity, poolElasticities, type RawElasticity } from '../../src/models/pricing/elasticity.ts';
import { fitPoisson } from '../../src/models/pricing/poisson-glm.ts';
import { applyEnding, DEFAULT_SETTINGS, guardrails, optimalPrice, type ProductInput, profitAt, recommend } from '../../src/models/pricing/recommend.ts';
import { normal, poisson, Rng } from '../../src/synth/random.ts';


describe('Poisson GLM', () => {
  it('finds the maximum-likelihood coefficients and quasi-Poisson standard errors scipy does', () => {
    const ref = JSON.parse(readFileSync(new URL('../reference/poisson-glm.json', import.meta.url), 'utf8')) as { x: number[][]; y: number[]; beta: number[]; se: number[]; dispersion: number };
    const fit = fitPoisson(ref.x, ref.y);
    expect(fit.converged).toBe(true);
    fit.beta.forEach((b, i) => expect(b).toBeCloseTo(ref.beta[i]!, 5));
    fit.se.forEach((s, i) => expect(s).toBeCloseTo(ref.se[i]!, 5));
    expect(fit.dispersion).toBeCloseTo(ref.dispersion, 6);
  });
});

/**
 * A catalogue generated from known parameters: 8 categories with mean elasticities −1.0 … −2.75, each
 * product's own elasticity N(category mean, 0.3), a year of daily sales at 0.3-6 units a day, prices
 * moved 2-4 times by ±5-25% (a fifth of products never moved), weekday effects and mild overdispersion.
 */
function catalogue(seed: number) {
  const rng = new Rng(seed);
  const r = () => rng.next();
  const products: { key: number; category: string; truth: number; days: DayObservation[] }[] = [];
  for (let c = 0; c < 8; c++) {
    const catMean = -1 - 0.25 * c;
    for (let j = 0; j < 25; j++) {
      const truth = catMean + 0.3 * normal(rng);
      const base = 10 + 90 * r();
      const rate = 0.3 * Math.exp(3 * r());
      const changes = r() < 0.2 ? [] : Array.from({ length: 2 + Math.floor(3 * r()) }, () => [Math.floor(365 * r()), 1 + (r() < 0.5 ? -1 : 1) * (0.05 + 0.2 * r())] as const).sort((a, b) => a[0] - b[0]);
      const days: DayObservation[] = [];
      let price = base;
      for (let t = 0; t < 365; t++) {
        for (const [day, f] of changes) if (day === t) price = base * f;
        const dow = t % 7;
        const lambda = rate * (price / base) ** truth * (dow >= 5 ? 1.3 : 1) * (1 + 0.0005 * t) * (0.8 + 0.4 * r());
        days.push({ t, dow, price, units: poisson(rng, lambda) });
      }
      products.push({ key: products.length, category: `cat${c}`, truth, days });
    }
  }
  return products;
}

describe('elasticities', () => {
  const products = catalogue(11);
  const raws = new Map<number, RawElasticity>(products.map((p) => [p.key, estimateElasticity(p.days)]));
  const pooled = poolElasticities(products.map((p) => ({ key: p.key, category: p.category, raw: raws.get(p.key)! })));

  it('recover the true elasticities: pooled error well below the raw fits\', 90% intervals cover about 90%', () => {
    const withOwn = products.filter((p) => raws.get(p.key)!.estimate !== null);
    const rawMae = withOwn.reduce((s, p) => s + Math.abs(raws.get(p.key)!.estimate! - p.truth), 0) / withOwn.length;
    const pooledMae = products.reduce((s, p) => s + Math.abs(pooled.get(p.key)!.mean - p.truth), 0) / products.length;
    const covered = products.filter((p) => pooled.get(p.key)!.lo <= p.truth && p.truth <= pooled.get(p.key)!.hi).length / products.length;
    // Stated tolerance: mean absolute error under 0.35 over all 200 products, flat-priced ones included
    // (this catalogue: raw fits 0.65, pooled 0.21), and 90% intervals covering 82-98% of the true values
    // (this catalogue: 91.5%; seeds 11-15 gave 89-96%, mean 92%, and 86-94% without Morris's term).
    expect(pooledMae).toBeLessThan(0.35);
    expect(pooledMae).toBeLessThan(rawMae);
    expect(covered).toBeGreaterThanOrEqual(0.82);
    expect(covered).toBeLessThanOrEqual(0.98);
  });

  it('give a flat-priced product its category\'s elasticity, not noise, and never trust a positive raw fit on its own', () => {
    const flat = products.filter((p) => raws.get(p.key)!.reason === 'price hardly moved');
    expect(flat.length).toBeGreaterThan(10);
    for (const p of flat) {
      const e = pooled.get(p.key)!;
      expect(e.source).toBe('category');
      expect(e.ownWeight).toBe(0);
      const catTruth = -1 - 0.25 * Number(p.category.slice(3));
      expect(Math.abs(e.mean - catTruth)).toBeLessThan(0.4);
    }
    for (const p of products) {
      const raw = raws.get(p.key)!;
      if (raw.estimate !== null && raw.estimate > 0) expect(pooled.get(p.key)!.mean).toBeLessThan(raw.estimate);
    }
  });
});

const elastic = (mean: number, sd = 0.1): PooledElasticity => ({
  mean, sd, lo: mean - 1.645 * sd, hi: mean + 1.645 * sd, source: 'product', confidence: sd <= 0.25 ? 'high' : 'medium', ownWeight: 0.9,
});
const product = (over: Partial<ProductInput> = {}): ProductInput => ({
  currentPrice: 20, basePrice: 20, unitCost: 8, inventory: 100, reorderPoint: 10, unitsPerDay: 3,
  elasticity: elastic(-2.5), signals: { views: null, cartAdds: null, conversion: null }, ...over,
});

describe('recommended price', () => {
  it('puts the unconstrained optimum where a brute-force search over a price grid finds it', () => {
    for (const [cost, e] of [[8, -2.5], [30, -1.4], [2, -4], [55, -1.05]] as const) {
      const p = product({ unitCost: cost, elasticity: elastic(e) });
      let best = 0;
      let bestProfit = -Infinity;
      for (let cents = Math.round(cost * 100) + 1; cents < cost * 100 * 40; cents++) {
        const v = profitAt(p, cents / 100)!;
        if (v > bestProfit) [best, bestProfit] = [cents / 100, v];
      }
      expect(optimalPrice(cost, e)!).toBeCloseTo(best, 1);
    }
  });

  it('moves toward the optimum but no further than the change cap, with a .99 ending', () => {
    const r = recommend(product({ currentPrice: 20, unitCost: 8, elasticity: elastic(-2.5) }));
    // p* = 8 × 2.5/1.5 = 13.33, below the 10% cap of 18.00: the cap binds, rounding stays at or above it.
    expect(r.optimalPrice).toBe(13.33);
    expect(r.boundBy).toContain('max_change');
    expect(r.price).toBe(18.99);
    expect(r.price).toBeLessThan(20);
    expect(r.expected.recommended.profit!).toBeGreaterThan(r.expected.current.profit!);
    expect(r.reason).toMatch(/^Lower to 18\.99 \(-5\.05%\): profit peaks near 13\.33/);
  });

  it('does not let an insignificant or positive elasticity move the price', () => {
    for (const e of [elastic(-0.4, 0.5), elastic(0.8, 0.3)]) {
      const r = recommend(product({ elasticity: e }));
      expect(r.optimalPrice).toBeNull();
      expect(r.price).toBe(20);
      expect(r.reason).toMatch(/not clearly negative/);
    }
  });

  it('raises a product below its reorder point and lowers an overstocked one', () => {
    const hold = elastic(0.1, 0.5);
    expect(recommend(product({ elasticity: hold, inventory: 5 })).price).toBeGreaterThan(20);
    expect(recommend(product({ elasticity: hold, inventory: 5000 })).price).toBeLessThan(20);
  });

  it('never breaks the cost floor, the price bounds or the change cap, rounding included (property)', () => {
    const input = fc.record({
      currentPrice: fc.double({ min: 1, max: 500, noNaN: true }),
      baseShift: fc.double({ min: 0.6, max: 1.6, noNaN: true }),
      costShare: fc.option(fc.double({ min: 0.05, max: 1.2, noNaN: true }), { nil: null }),
      e: fc.double({ min: -6, max: 1.5, noNaN: true }),
      sd: fc.double({ min: 0.01, max: 1.5, noNaN: true }),
      inventory: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }),
      units: fc.double({ min: 0, max: 50, noNaN: true }),
      views: fc.option(fc.double({ min: -1, max: 3, noNaN: true }), { nil: null }),
      ending: fc.constantFrom(99, 95, null),
      maxChange: fc.double({ min: 0.01, max: 0.3, noNaN: true }),
    });
    fc.assert(fc.property(input, (i) => {
      const p = product({
        currentPrice: i.currentPrice, basePrice: i.currentPrice * i.baseShift,
        unitCost: i.costShare === null ? null : i.currentPrice * i.costShare,
        inventory: i.inventory, reorderPoint: 20, unitsPerDay: i.units, elasticity: elastic(i.e, i.sd),
        signals: { views: i.views, cartAdds: null, conversion: null },
      });
      const s = { ...DEFAULT_SETTINGS, ending: i.ending, maxChange: i.maxChange };
      const r = recommend(p, s);
      const g = guardrails(p, s);
      const eps = 0.005;
      expect(Math.round(r.price * 100)).toBeCloseTo(r.price * 100, 6);
      // The move stays inside the change cap and the price bounds whether or not the rest is feasible.
      expect(r.price).toBeLessThanOrEqual(Math.min(p.currentPrice * (1 + s.maxChange), p.basePrice * s.maxRatio) + eps);
      if (g.feasible) {
        expect(r.price).toBeGreaterThanOrEqual(g.lo - eps);
        if (p.unitCost !== null) expect(r.price).toBeGreaterThanOrEqual(p.unitCost * (1 + s.minMargin) - eps);
        expect(r.price).toBeGreaterThanOrEqual(p.basePrice * s.minRatio - eps);
        expect(r.price).toBeGreaterThanOrEqual(p.currentPrice * (1 - s.maxChange) - eps);
      } else {
        expect(r.boundBy).toContain('infeasible');
      }
    }), { numRuns: 3000, seed: 7 });
  });

  it('rounds to an ending without reversing the move or leaving the interval', () => {
    fc.assert(fc.property(
      fc.double({ min: 1, max: 300, noNaN: true }), fc.double({ min: 0.8, max: 1.2, noNaN: true }), fc.double({ min: 0.01, max: 0.2, noNaN: true }),
      (current, ratio, width) => {
        const target = current * ratio;
        const lo = Math.min(current, target) * (1 - width);
        const hi = Math.max(current, target) * (1 + width);
        const p = applyEnding(target, current, lo, hi, 99);
        expect(p).toBeGreaterThanOrEqual(Math.ceil(lo * 100 - 1e-6) / 100 - 1e-9);
        expect(p).toBeLessThanOrEqual(Math.floor(hi * 100 + 1e-6) / 100 + 1e-9);
        const tc = Math.round(target * 100);
        const cc = Math.round(current * 100);
        if (tc > cc) expect(Math.round(p * 100)).toBeGreaterThanOrEqual(cc);
        if (tc < cc) expect(Math.round(p * 100)).toBeLessThanOrEqual(cc);
      },
    ), { numRuns: 3000, seed: 11 });
  });
});
