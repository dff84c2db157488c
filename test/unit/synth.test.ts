import { describe, expect, it } from 'vitest';
import { Calendar, DAY_MS, HOURLY_PROFILE, addMonthsUtc, formatTimestamp } from '../../src/synth/calendar.js';
import { buildCatalog } from '../../src/synth/catalog.js';
import { csvField, formatCents } from '../../src/synth/copy.js';
import { CustomerSimulator } from '../../src/synth/customers.js';
import { Rng, base62, beta, exponential, gamma, lognormalWithMean, normal, pickCumulative, poisson, uuid } from '../../src/synth/random.js';

const N = 100_000;

function mean(draw: () => number, n = N): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    s += x;
    s2 += x * x;
  }
  const m = s / n;
  return { mean: m, variance: s2 / n - m * m };
}

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds and streams', () => {
    const a = new Rng(42, 1, 7);
    const b = new Rng(42, 1, 7);
    const c = new Rng(42, 1, 8);
    const xa = Array.from({ length: 20 }, () => a.nextU32());
    const xb = Array.from({ length: 20 }, () => b.nextU32());
    const xc = Array.from({ length: 20 }, () => c.nextU32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('reseed restarts the stream exactly', () => {
    const r = new Rng(1);
    r.reseed(9, 9);
    const first = [r.next(), r.next(), r.next()];
    r.reseed(9, 9);
    expect([r.next(), r.next(), r.next()]).toEqual(first);
  });

  it('produces uniforms in [0,1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(3);
    let min = 1;
    let max = 0;
    const { mean: m, variance } = mean(() => {
      const u = r.next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      return u;
    });
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(m).toBeCloseTo(0.5, 2);
    expect(variance).toBeCloseTo(1 / 12, 2);
  });

  it('gives distinct v4 UUIDs across a million per-order streams', () => {
    const r = new Rng(0);
    const seen = new Set<string>();
    for (let i = 0; i < 200_000; i++) {
      r.reseed(42, 0x0de7, i >> 3, i & 7);
      const id = uuid(r);
      expect(seen.has(id)).toBe(false);
      seen.add(id);
    }
    const sample = [...seen][0]!;
    expect(sample).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('makes base62 ids of the requested length', () => {
    const id = base62(new Rng(5), 24);
    expect(id).toMatch(/^[0-9A-Za-z]{24}$/);
  });
});

describe('samplers match their known moments over 100k draws', () => {
  it('normal', () => {
    const r = new Rng(11);
    const s = mean(() => normal(r, 2, 3));
    expect(s.mean).toBeCloseTo(2, 1);
    expect(Math.sqrt(s.variance)).toBeCloseTo(3, 1);
  });

  it('exponential', () => {
    const r = new Rng(12);
    expect(mean(() => exponential(r, 4)).mean).toBeCloseTo(0.25, 2);
  });

  it.each([
    [0.25, 12],
    [0.8, 1],
    [2.5, 1],
    [9, 3],
  ])('gamma(shape %f, rate %f)', (shape, rate) => {
    const r = new Rng(13, shape * 100);
    const s = mean(() => gamma(r, shape, rate));
    expect(s.mean / (shape / rate)).toBeGreaterThan(0.97);
    expect(s.mean / (shape / rate)).toBeLessThan(1.03);
    expect(s.variance / (shape / (rate * rate))).toBeGreaterThan(0.9);
    expect(s.variance / (shape / (rate * rate))).toBeLessThan(1.1);
  });

  it.each([
    [0.8, 2.5],
    [2, 2],
    [5, 1],
  ])('beta(%f, %f)', (a, b) => {
    const r = new Rng(14, a * 10, b * 10);
    const s = mean(() => beta(r, a, b));
    const m = a / (a + b);
    const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(s.mean).toBeCloseTo(m, 2);
    expect(s.variance / v).toBeGreaterThan(0.95);
    expect(s.variance / v).toBeLessThan(1.05);
  });

  it.each([0.3, 4, 29, 31, 250, 5000])('poisson(%f)', (lambda) => {
    const r = new Rng(15, lambda);
    const s = mean(() => poisson(r, lambda));
    expect(s.mean / lambda).toBeGreaterThan(0.98);
    expect(s.mean / lambda).toBeLessThan(1.02);
    expect(s.variance / lambda).toBeGreaterThan(0.95);
    expect(s.variance / lambda).toBeLessThan(1.05);
  });

  it('lognormal with a given mean', () => {
    const r = new Rng(16);
    expect(mean(() => lognormalWithMean(r, 45, 0.6)).mean / 45).toBeCloseTo(1, 1);
  });

  it('pickCumulative picks proportionally to weights', () => {
    const cum = new Float64Array([1, 3, 6]); // weights 1, 2, 3
    const r = new Rng(17);
    const counts = [0, 0, 0];
    for (let i = 0; i < N; i++) counts[pickCumulative(cum, 0, 3, r.next())]!++;
    expect(counts[0]! / N).toBeCloseTo(1 / 6, 2);
    expect(counts[1]! / N).toBeCloseTo(2 / 6, 2);
    expect(counts[2]! / N).toBeCloseTo(3 / 6, 2);
  });
});

describe('calendar', () => {
  it('formats TIMESTAMP values in UTC with milliseconds', () => {
    expect(formatTimestamp(Date.UTC(2025, 0, 2, 3, 4, 5, 6))).toBe('2025-01-02 03:04:05.006');
    expect(formatTimestamp(Date.UTC(1999, 11, 31, 23, 59, 59, 999))).toBe('1999-12-31 23:59:59.999');
  });

  it('adds calendar months with day clamping', () => {
    expect(new Date(addMonthsUtc(Date.UTC(2024, 0, 31, 10), 1)).toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(new Date(addMonthsUtc(Date.UTC(2024, 10, 15), 14)).toISOString()).toBe('2026-01-15T00:00:00.000Z');
  });

  it('maps operational time monotonically onto the history with the weekly/trend multiplier', () => {
    const cal = new Calendar(Date.UTC(2025, 0, 1), 28);
    expect(HOURLY_PROFILE.reduce((s, x) => s + x, 0) / 24).toBeCloseTo(1, 10);
    let prev = -Infinity;
    for (let k = 0; k < 1000; k++) {
      const ms = cal.toCalendarMs((k / 1000) * cal.totalOperational);
      expect(ms).toBeGreaterThanOrEqual(prev);
      expect(ms).toBeGreaterThanOrEqual(cal.startMs);
      expect(ms).toBeLessThan(cal.endMs);
      prev = ms;
    }
    // Uniform operational times land on each day in proportion to that day's multiplier.
    const r = new Rng(18);
    const perDay = new Array<number>(28).fill(0);
    for (let i = 0; i < N; i++) perDay[cal.dayOf(cal.toCalendarMs(r.next() * cal.totalOperational))]!++;
    const totalM = Array.from({ length: 28 }, (_, d) => cal.dailyMultiplier(d)).reduce((s, x) => s + x, 0);
    for (let d = 0; d < 28; d++) expect(perDay[d]! / N).toBeCloseTo(cal.dailyMultiplier(d) / totalM, 2);
    expect(cal.dayStartMs(1) - cal.dayStartMs(0)).toBe(DAY_MS);
  });
});

describe('csv helpers', () => {
  it('formats cents exactly and quotes only when needed', () => {
    expect(formatCents(0)).toBe('0.00');
    expect(formatCents(1905)).toBe('19.05');
    expect(formatCents(-250)).toBe('-2.50');
    expect(csvField(null)).toBe('');
    expect(csvField('')).toBe('""');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(true)).toBe('t');
  });
});

describe('catalog and customers', () => {
  const cal = new Calendar(Date.UTC(2025, 0, 1), 200);
  const catalog = buildCatalog(7, 40, 200, cal.startMs);

  it('is deterministic and respects the price and elasticity bounds', () => {
    expect(buildCatalog(7, 40, 200, cal.startMs).products).toEqual(catalog.products);
    for (const p of catalog.products) {
      expect(p.elasticity).toBeLessThanOrEqual(-0.2);
      expect(p.baseCostCents / p.basePriceCents).toBeGreaterThan(0.34);
      expect(p.baseCostCents / p.basePriceCents).toBeLessThan(0.71);
      for (const q of p.periods) {
        expect(q.priceCents / p.basePriceCents).toBeGreaterThanOrEqual(0.7499);
        expect(q.priceCents / p.basePriceCents).toBeLessThanOrEqual(1.2501);
      }
    }
  });

  it('simulates the same customer identically in every pass', () => {
    const a = new CustomerSimulator(7, cal, catalog);
    const b = new CustomerSimulator(7, cal, catalog);
    for (let i = 0; i < 200; i++) {
      a.run(i, true);
      b.run(i, false);
      expect(b.birthMs).toBe(a.birthMs);
      expect(b.lambda).toBe(a.lambda);
      expect(a.ms[0]).toBe(a.birthMs);
      for (let k = 1; k < a.count; k++) expect(a.ms[k]!).toBeGreaterThanOrEqual(a.ms[k - 1]!);
      if (a.count > 0) expect(a.ms[a.count - 1]!).toBeLessThan(cal.endMs);
    }
  });
});
