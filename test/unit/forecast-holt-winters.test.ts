import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitHoltWinters, hwFilter, hwForecast, type Seasonality } from '../../src/models/forecast/holt-winters.ts';

// Produced by test/reference/holt_winters.py (numpy recursions, scipy fit) on a fixed series.
const ref = JSON.parse(readFileSync(new URL('../reference/holt-winters.json', import.meta.url), 'utf8')) as {
  m: number;
  y: number[];
  fixed: { alpha: number; beta: number; gamma: number; phi: number };
  kinds: Record<Seasonality, {
    fixed_fitted: number[];
    fixed_state: { level: number; trend: number; season: number[] };
    fixed_forecast: number[];
    fit: { alpha: number; beta: number; gamma: number; phi: number; sse: number };
  }>;
};

describe.each(['additive', 'multiplicative'] as const)('Holt-Winters, %s weekly seasonality, against the numpy reference', (kind) => {
  const r = ref.kinds[kind];

  it('runs the same recursions: one-step fits, final states and 30-day forecast at fixed parameters', () => {
    const { fitted, state } = hwFilter(ref.y, ref.m, kind, ref.fixed);
    fitted.forEach((v, i) => expect(v).toBeCloseTo(r.fixed_fitted[i]!, 8));
    expect(state.level).toBeCloseTo(r.fixed_state.level, 8);
    expect(state.trend).toBeCloseTo(r.fixed_state.trend, 8);
    state.season.forEach((v, i) => expect(v).toBeCloseTo(r.fixed_state.season[i]!, 8));
    hwForecast(state, 30, kind, ref.fixed.phi).forEach((v, i) => expect(v).toBeCloseTo(r.fixed_forecast[i]!, 8));
  });

  it('fits the parameters scipy finds: squared error within 0.01% of its optimum', () => {
    const fit = fitHoltWinters(ref.y, ref.m, kind);
    expect(fit.sse).toBeLessThan(r.fit.sse * 1.0001);
    expect(fit.params.alpha).toBeCloseTo(r.fit.alpha, 2);
    expect(fit.params.phi).toBeCloseTo(r.fit.phi, 2);
    expect(fit.params.gamma).toBeLessThanOrEqual(1 - fit.params.alpha);
  });
});
