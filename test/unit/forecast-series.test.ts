import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../../src/models/forecast/forecast.ts';
import { periodInterval, quantileSorted } from '../../src/models/forecast/intervals.ts';
import { readFileSync } from 'node:fs';
import { normal, Rng } from '../../src/synth/random.ts';


/** Daily revenue with a known trend (+0.15%/day), weekly pattern and 8% multiplicative noise. */
function shopSeries(days: number, seed = 1): number[] {
  const rng = new Rng(seed);
  const week = [0.8, 0.9, 1.0, 1.05, 1.1, 1.35, 0.8];
  return Array.from({ length: days }, (_, t) => 2000 * (1 + 0.0015 * t) * week[t % 7]! * (1 + 0.08 * normal(rng)));
}

const ctx = { startDay: 20089, holidays: new Set<number>() };

describe('revenue forecast of a daily series', () => {
  it('on a year with known trend and weekly seasonality, picks a model that beats seasonal naive, with calibrated 80% intervals', () => {
    const y = shopSeries(365);
    const f = forecastSeries(y, ctx, { horizon: 90, levels: [0.8, 0.95] });
    expect(f.model).not.toBe('seasonal_naive');
    const chosen = f.scores.find((s) => s.model === f.model)!;
    expect(chosen.mase!).toBeLessThan(1);
    expect(f.coverage.get(0.8)!).toBeGreaterThanOrEqual(0.7);
    expect(f.coverage.get(0.8)!).toBeLessThanOrEqual(0.9);
    expect(f.coverage.get(0.95)!).toBeGreaterThanOrEqual(0.85);
    // The truth 30 days out (noise-free) sits inside the 95% band, and the band is not absurdly wide.
    const t = 365 + 29;
    const truth = 2000 * (1 + 0.0015 * t) * [0.8, 0.9, 1.0, 1.05, 1.1, 1.35, 0.8][t % 7]!;
    const band = f.intervals.get(0.95)!;
    expect(truth).toBeGreaterThan(band.lo[29]!);
    expect(truth).toBeLessThan(band.hi[29]!);
    expect(band.hi[29]! - band.lo[29]!).toBeLessThan(0.6 * truth);
    expect(Math.min(...f.points)).toBeGreaterThan(0);
  });

  it('a weekly total\'s interval comes from whole error paths: narrower than the sum of daily bounds, around the summed points', () => {
    const y = shopSeries(365, 2);
    const f = forecastSeries(y, ctx, { horizon: 28, levels: [0.8] });
    const days = [7, 8, 9, 10, 11, 12, 13];
    const week = periodInterval(f.points, days, f.errors, 0.8)!;
    const point = days.reduce((s, h) => s + f.points[h]!, 0);
    const daily = f.intervals.get(0.8)!;
    const summed = days.reduce((s, h) => s + (daily.hi[h]! - daily.lo[h]!), 0);
    expect(week.lo).toBeLessThan(point);
    expect(week.hi).toBeGreaterThan(point);
    expect(week.hi - week.lo).toBeLessThan(summed);
  });

  it('with two years of history, the regression fits the yearly season too', () => {
    // ±25% over the year on top of the weekly pattern and trend.
    const rng = new Rng(5);
    const week = [0.8, 0.9, 1.0, 1.05, 1.1, 1.35, 0.8];
    const truth = (t: number) => 2000 * (1 + 0.0005 * t) * (1 + 0.25 * Math.sin((2 * Math.PI * (ctx.startDay + t)) / 365.25)) * week[t % 7]!;
    const y = Array.from({ length: 800 }, (_, t) => truth(t) * (1 + 0.05 * normal(rng)));
    const error = (n: number) => {
      const f = forecastSeries(y.slice(0, n), ctx, { horizon: 60, levels: [0.8], candidates: ['regression'] });
      let e = 0;
      for (let h = 0; h < 60; h++) e += Math.abs(f.points[h]! - truth(n + h)) / truth(n + h);
      return e / 60;
    };
    // 800 days: the season is fitted and the next 60 days follow it; 700 days: trend and weekdays only.
    expect(error(800)).toBeLessThan(0.05);
    expect(error(700)).toBeGreaterThan(2 * error(800));
  });

  it('degrades gracefully: a spike, days of zero revenue, a short history', () => {
    const spiky = shopSeries(200, 3);
    spiky[150] = spiky[150]! * 25;
    for (let t = 60; t < 67; t++) spiky[t] = 0;
    const f = forecastSeries(spiky, ctx, { horizon: 60, levels: [0.8] });
    expect(f.scores.find((s) => s.model === 'hw_multiplicative')!.skipped).toMatch(/above zero/);
    expect(f.points.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(f.intervals.get(0.8)!.lo.every((v) => Number.isNaN(v) || v >= 0)).toBe(true);

    const short = forecastSeries(shopSeries(20, 4), ctx, { horizon: 14, levels: [0.8] });
    expect(short.choice).toMatch(/too few to backtest/);
    expect(short.points.every((v) => v >= 0)).toBe(true);
    expect(short.intervals.get(0.8)!.hi[13]! - short.intervals.get(0.8)!.lo[13]!)
      .toBeGreaterThan(short.intervals.get(0.8)!.hi[0]! - short.intervals.get(0.8)!.lo[0]!);
    const tiny = forecastSeries([100, 0, 50], ctx, { horizon: 5, levels: [0.8] });
    expect([...tiny.points]).toEqual([50, 50, 50, 50, 50]);
    expect(tiny.intervals.get(0.8)!.lo.every(Number.isNaN)).toBe(true);
  });
});

describe('type-7 quantiles', () => {
  it('match numpy.quantile (test/reference/holt_winters.py)', () => {
    const ref = JSON.parse(readFileSync(new URL('../reference/holt-winters.json', import.meta.url), 'utf8')) as { quantiles: { x: number[]; p: number[]; q: number[] } };
    const sorted = [...ref.quantiles.x].sort((a, b) => a - b);
    ref.quantiles.p.forEach((p, i) => expect(quantileSorted(sorted, p)).toBeCloseTo(ref.quantiles.q[i]!, 12));
  });
});
