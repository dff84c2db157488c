import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeExperiment, type ArmInput, type ExperimentSettings } from '../../src/models/experiments/analyze.ts';
import { adjustPValues, exactChanceToWin, power, probabilityBest, sampleRatio } from '../../src/models/experiments/checks.ts';
import { armStats, bayesian, effect, fixedHorizon, FLAT_PRIOR, sequential, welchDf, type Moments } from '../../src/models/experiments/effects.ts';
import { normal, Rng } from '../../src/synth/random.ts';

const reference = JSON.parse(readFileSync(new URL('../reference/experiments.json', import.meta.url), 'utf8'));

const prop = (n: number, c: number): Moments => ({ n, sum: c, sumSq: c });

describe("GrowthBook's published vectors (gbstats unit tests)", () => {
  const a = armStats({ n: 3407, sum: 1396.87, sumSq: 52377.9767 }, 'mean');
  const b = armStats({ n: 3461, sum: 2422.7, sumSq: 134698.29 }, 'mean');

  it('Welch, relative lift of means', () => {
    const e = effect(a, b, 'relative')!;
    const df = welchDf(a, b);
    const r = fixedHorizon(e, df, 0.05);
    expect(e.estimate).toBeCloseTo(0.70732, 5);
    expect(e.se).toBeCloseTo(0.37879, 5);
    expect(df).toBeCloseTo(5841.74, 1);
    expect(r.ci.lo).toBeCloseTo(-0.03526, 5);
    expect(r.ci.hi).toBeCloseTo(1.44989, 5);
    expect(r.pValue).toBeCloseTo(0.06191, 5);
  });

  it('Welch, absolute difference of means', () => {
    const e = effect(a, b, 'absolute')!;
    const r = fixedHorizon(e, welchDf(a, b), 0.05);
    expect(e.estimate).toBeCloseTo(0.29, 5);
    expect(e.se).toBeCloseTo(0.12478, 5);
    expect(r.ci.lo).toBeCloseTo(0.04538, 5);
    expect(r.ci.hi).toBeCloseTo(0.53462, 5);
    expect(r.pValue).toBeCloseTo(0.02016, 5);
  });

  it('Welch, relative lift of proportions', () => {
    const pa = armStats(prop(28, 14), 'proportion');
    const pb = armStats(prop(30, 16), 'proportion');
    const e = effect(pa, pb, 'relative')!;
    const r = fixedHorizon(e, welchDf(pa, pb), 0.05);
    expect(e.estimate).toBeCloseTo(0.06667, 5);
    expect(e.se).toBeCloseTo(0.2717, 4);
    expect(r.ci.lo).toBeCloseTo(-0.47767, 4);
    expect(r.ci.hi).toBeCloseTo(0.61101, 4);
    expect(r.pValue).toBeCloseTo(0.80707, 4);
  });

  it('sequential (N* = 5000), relative lift of proportions', () => {
    const pa = armStats(prop(3000, 1396), 'proportion');
    const pb = armStats(prop(3461, 2422), 'proportion');
    const e = effect(pa, pb, 'relative')!;
    const r = sequential(e, pa.n + pb.n, 0.05, 5000);
    expect(e.estimate).toBeCloseTo(0.50386, 5);
    expect(r.ci.lo).toBeCloseTo(0.40098, 5);
    expect(r.ci.hi).toBeCloseTo(0.60675, 5);
  });

  it('Bayesian, flat prior, proportions', () => {
    const pa = armStats(prop(100, 49), 'proportion');
    const pb = armStats(prop(100, 51), 'proportion');
    const r = bayesian(effect(pa, pb, 'relative')!, 0.05, FLAT_PRIOR);
    expect(r.mean).toBeCloseTo(0.04082, 5);
    expect(r.sd).toBeCloseTo(0.14725, 5);
    expect(r.chanceToWin).toBeCloseTo(0.60918, 5);
    expect(r.ci.lo).toBeCloseTo(-0.24779, 5);
    expect(r.ci.hi).toBeCloseTo(0.32943, 5);
    expect(r.risk[0]).toBeCloseTo(0.0814, 4);
    expect(r.risk[1]).toBeCloseTo(0.04058, 4);
  });

  it('Holm and Benjamini-Hochberg', () => {
    const p = [0.01, 0.04, 0.03, 0.005, 0.2];
    adjustPValues(p, 'holm').forEach((v, i) => expect(v).toBeCloseTo([0.04, 0.09, 0.09, 0.025, 0.2][i]!, 12));
    adjustPValues(p, 'bh').forEach((v, i) => expect(v).toBeCloseTo([0.025, 0.05, 0.05, 0.025, 0.2][i]!, 12));
  });
});

describe('against scipy (test/reference/experiments.py)', () => {
  it("Welch's test on unit-level sufficient statistics", () => {
    for (const c of reference.welch) {
      const a = armStats(c.a, 'mean');
      const b = armStats(c.b, 'mean');
      const e = effect(a, b, 'absolute')!;
      const df = welchDf(a, b);
      const r = fixedHorizon(e, df, 0.05);
      expect(e.estimate).toBeCloseTo(c.absolute.estimate, 9);
      expect(e.se).toBeCloseTo(c.absolute.se, 9);
      expect(df).toBeCloseTo(c.absolute.df, 6);
      expect(r.ci.lo).toBeCloseTo(c.absolute.lo, 8);
      expect(r.ci.hi).toBeCloseTo(c.absolute.hi, 8);
      expect(r.pValue).toBeCloseTo(c.absolute.p, 8);
    }
  });

  it('sample-ratio χ² against the configured split', () => {
    for (const c of reference.srm) {
      const r = sampleRatio(c.counts, c.weights, 0.001, 100);
      expect(r.chi2).toBeCloseTo(c.chi2, 9);
      expect(r.pValue).toBeCloseTo(c.p, 9);
      expect(r.flagged).toBe(c.p < 0.001);
    }
  });

  it('the exact Beta-Binomial chance to win equals the integral of the Beta densities', () => {
    for (const c of reference.exact) expect(exactChanceToWin(c.a, c.b)).toBeCloseTo(c.chance, 8);
  });

  it('probability of being best matches the integral within Monte Carlo error', () => {
    for (const c of reference.best) {
      const arms = c.arms.map((a: { mean: number; se: number }) => ({ n: 100, mean: a.mean, variance: a.se ** 2 * 100 }));
      const draws = 40_000;
      const p = probabilityBest(arms, draws, 7);
      p.forEach((v, i) => expect(Math.abs(v - c.best[i])).toBeLessThan(4 * Math.sqrt((c.best[i] * (1 - c.best[i])) / draws) + 1e-9));
      // Seeded: the same draws again.
      expect(probabilityBest(arms, draws, 7)).toEqual(p);
    }
  });

  it('units per arm for 80% power', () => {
    for (const c of reference.power) {
      const a = armStats(prop(1000, 1000 * c.baseline), 'proportion');
      expect(power(a, a, 'proportion', 0.05, c.target).units_per_arm).toBe(c.units_per_arm);
    }
  });
});

describe('sample-ratio check edge cases', () => {
  it('is not evaluated on small samples, and uses the configured split, not 50/50', () => {
    expect(sampleRatio([30, 10], [1, 1], 0.001, 100).skipped).toMatch(/fewer than 100 units/);
    // 2,500 / 7,500 is a perfect 1:3 split: a 50/50 assumption would flag it.
    expect(sampleRatio([2500, 7500], [1, 3], 0.001, 100)).toMatchObject({ flagged: false, pValue: 1 });
    expect(sampleRatio([2500, 7500], [1, 1], 0.001, 100).flagged).toBe(true);
  });
});

/** Simulated experiments: sufficient statistics per day for two arms with given conversion rates. */
function simulate(rng: Rng, days: number, perDay: number, pA: number, pB: number): { a: Moments; b: Moments }[] {
  const a = { n: 0, sum: 0, sumSq: 0 };
  const b = { n: 0, sum: 0, sumSq: 0 };
  const out: { a: Moments; b: Moments }[] = [];
  for (let d = 0; d < days; d++) {
    for (let u = 0; u < perDay; u++) {
      const arm = rng.next() < 0.5 ? a : b;
      const x = rng.next() < (arm === a ? pA : pB) ? 1 : 0;
      arm.n++;
      arm.sum += x;
      arm.sumSq += x;
    }
    out.push({ a: { ...a }, b: { ...b } });
  }
  return out;
}

describe('error rates on simulated A/A tests', () => {
  const alpha = 0.05;
  const runs = 400;
  const rng = new Rng(20261123, 0xaa);
  const sims = Array.from({ length: runs }, () => simulate(rng, 28, 200, 0.1, 0.1));

  it('fixed-horizon tests, looked at once, reject about α of the time', () => {
    let rejected = 0;
    for (const days of sims) {
      const last = days.at(-1)!;
      const e = effect(armStats(last.a, 'proportion'), armStats(last.b, 'proportion'), 'relative')!;
      if (fixedHorizon(e, welchDf(armStats(last.a, 'proportion'), armStats(last.b, 'proportion')), alpha).pValue < alpha) rejected++;
    }
    // Binomial(400, 0.05): mean 20, sd 4.4.
    expect(rejected).toBeGreaterThan(20 - 3 * 4.4);
    expect(rejected).toBeLessThan(20 + 3 * 4.4);
  });

  it('daily peeks inflate the fixed-horizon error, and the confidence sequence keeps it below α', () => {
    let peekFixed = 0;
    let peekSequential = 0;
    for (const days of sims) {
      let fixedHit = false;
      let seqHit = false;
      for (const { a, b } of days) {
        const sa = armStats(a, 'proportion');
        const sb = armStats(b, 'proportion');
        const e = effect(sa, sb, 'relative');
        if (!e) continue;
        if (fixedHorizon(e, welchDf(sa, sb), alpha).pValue < alpha) fixedHit = true;
        const s = sequential(e, a.n + b.n, alpha, 5000);
        if (s.ci.lo > 0 || s.ci.hi < 0) seqHit = true;
      }
      if (fixedHit) peekFixed++;
      if (seqHit) peekSequential++;
    }
    expect(peekFixed / runs).toBeGreaterThan(0.1);
    expect(peekSequential / runs).toBeLessThan(alpha);
  });

  it('a real effect is found: +30% on a 10% rate over 28 days of 200 units', () => {
    const r = new Rng(5, 0xbb);
    let found = 0;
    for (let i = 0; i < 100; i++) {
      const last = simulate(r, 28, 200, 0.1, 0.13).at(-1)!;
      const sa = armStats(last.a, 'proportion');
      const sb = armStats(last.b, 'proportion');
      if (fixedHorizon(effect(sa, sb, 'relative')!, welchDf(sa, sb), alpha).pValue < alpha) found++;
    }
    // Power at this size is about 0.9 (normal approximation): well above α.
    expect(found).toBeGreaterThan(75);
  });
});

describe('analyzeExperiment', () => {
  const settings: ExperimentSettings = {
    alpha: 0.05, sequentialTuning: 5000, prior: FLAT_PRIOR, correction: 'holm', srmAlpha: 0.001, srmMinUnits: 100,
    targetLift: 0.05, draws: 10_000, seed: 1,
  };
  function arm(variant: string, n: number, p: number, meanIfConverted: number, rng: Rng, weight = 1): ArmInput {
    let c = 0;
    const rev = { n, sum: 0, sumSq: 0 };
    for (let i = 0; i < n; i++) {
      if (rng.next() < p) {
        c++;
        const x = Math.max(0, normal(rng, meanIfConverted, meanIfConverted / 3));
        rev.sum += x;
        rev.sumSq += x * x;
      }
    }
    return { variant, units: n, conversions: c, revenue: rev, weight };
  }

  it('three arms: Holm-adjusted p-values, probabilities of being best summing to 1, verdict lines', () => {
    const rng = new Rng(11, 0xcc);
    const r = analyzeExperiment({
      metric: 'conversion', control: 'A', running: false,
      arms: [arm('C', 8000, 0.1, 40, rng), arm('A', 8000, 0.1, 40, rng), arm('B', 8000, 0.14, 40, rng)],
    }, settings);
    expect(r.arms.map((a) => a.variant)).toEqual(['A', 'B', 'C']);
    expect(r.arms[0]!.comparisons).toBeNull();
    const [, b, c] = r.arms;
    const pb = b!.comparisons!.conversion_rate!.relative;
    const pc = c!.comparisons!.conversion_rate!.relative;
    const expected = adjustPValues([pb.p_value, pc.p_value], 'holm');
    expect([pb.p_value_adjusted, pc.p_value_adjusted]).toEqual(expected);
    expect(r.arms.reduce((s, a) => s + a.probability_best.conversion_rate!, 0)).toBeCloseTo(1, 9);
    expect(b!.verdict).toMatch(/^B beats A: \+\d+\.\d% \[\d+\.\d%, \d+\.\d%\], p (<|=) 0\.\d+/);
    expect(c!.verdict).toMatch(/^(Inconclusive: about [\d,]+ more units per arm needed to detect \+5\.0% \(now [+−]\d|No difference detected)/);
    expect(r.srm.flagged).toBe(false);
  });

  it('a broken split is reported before any effect', () => {
    const rng = new Rng(12, 0xcc);
    const r = analyzeExperiment({ metric: 'conversion', control: 'A', running: false, arms: [arm('A', 9000, 0.1, 40, rng), arm('B', 10000, 0.14, 40, rng)] }, settings);
    expect(r.srm.flagged).toBe(true);
    expect(r.arms[1]!.verdict).toMatch(/^Sample ratio mismatch \(p < 0\.001\)/);
  });

  it('a running experiment is judged on its confidence sequence', () => {
    // 600/6000 vs 690/6000: +15%, z ≈ 2.5, significant at a fixed horizon but not yet anytime-valid.
    const fixedArm = (variant: string, c: number): ArmInput => ({ variant, units: 6000, conversions: c, revenue: { n: 6000, sum: 40 * c, sumSq: 1800 * c }, weight: 1 });
    const input = { metric: 'conversion' as const, control: 'A', arms: [fixedArm('A', 600), fixedArm('B', 690)] };
    const done = analyzeExperiment({ ...input, running: false }, settings);
    const running = analyzeExperiment({ ...input, running: true }, settings);
    expect(running.verdict_basis).toBe('sequential');
    const c = running.arms[1]!.comparisons!.conversion_rate!;
    expect(c.sequential.ci.hi - c.sequential.ci.lo).toBeGreaterThan(2.5 * (c.relative.ci.hi - c.relative.ci.lo) / 2);
    expect(done.arms[1]!.verdict).toMatch(/^B beats A: \+15\.0% \[\d+\.\d%, \d+\.\d%\], p = 0\.0\d\d$/);
    expect(running.arms[1]!.verdict).toMatch(/^Inconclusive: about 52,000 more units per arm needed to detect \+5\.0% \(now \+15\.0% \[−3\.7%, 33\.7%\], anytime-valid p = 0\.245\)$/);
  });
});

describe('degenerate arms', () => {
  const settings: ExperimentSettings = {
    alpha: 0.05, sequentialTuning: 5000, prior: FLAT_PRIOR, correction: 'holm', srmAlpha: 0.001, srmMinUnits: 100,
    targetLift: 0.05, draws: 1000, seed: 1,
  };

  it('an arm without variation gives no effect, not a certain one', () => {
    const a = armStats(prop(1000, 5), 'proportion');
    const b = armStats(prop(1000, 0), 'proportion');
    expect(effect(a, b, 'relative')).toBeNull();
    expect(effect(a, b, 'absolute')).toBeNull();
    const r = analyzeExperiment({
      metric: 'conversion', control: 'A', running: false,
      arms: [{ variant: 'A', units: 1000, conversions: 5, revenue: { n: 1000, sum: 200, sumSq: 8000 }, weight: 1 }, { variant: 'B', units: 1000, conversions: 0, revenue: { n: 1000, sum: 0, sumSq: 0 }, weight: 1 }],
    }, settings);
    expect(r.arms[1]!.comparisons!.conversion_rate).toBeNull();
    expect(r.arms[1]!.verdict).toMatch(/^Not enough data to compare B with A/);
    // The exact chance to win needs no variance: it is still there to read.
    expect(exactChanceToWin({ n: 1000, conversions: 5 }, { n: 1000, conversions: 0 })).toBeLessThan(0.05);
  });

  it('a configured arm that got no units fails the sample-ratio check instead of vanishing', async () => {
    const { Warehouse } = await import('../../src/warehouse/warehouse.ts');
    const { computeExperiments } = await import('../../src/models/experiments/run-experiments.ts');
    const wh = await Warehouse.open({ path: ':memory:', threads: 1 });
    try {
      await wh.withWriter(async (c) => {
        await c.run(`INSERT INTO experiments (tenant_id, experiment_id, name, metric, status, variants, started_at, _key)
          VALUES ('t', 'e1', 'split', 'conversion', 'completed', '{"A": {"weight": 50}, "B": {"weight": 50}}', TIMESTAMP '2026-01-01', 1)`);
        await c.run(`INSERT INTO experiment_units (tenant_id, experiment_id, unit_id, variant, converted, revenue, ts, _key)
          SELECT 't', 'e1', 'u' || i, 'A', i % 10 = 0, 0, TIMESTAMP '2026-01-02', i FROM range(400) t(i)`);
      });
      const [e] = await computeExperiments(wh, { settings, winsorize: 0, keepRuns: 5 });
      expect(e!.result.arms.map((a) => [a.variant, a.units])).toEqual([['A', 400], ['B', 0]]);
      expect(e!.result.srm.flagged).toBe(true);
      expect(e!.result.arms[1]!.verdict).toMatch(/^Sample ratio mismatch/);
    } finally {
      await wh.close();
    }
  });
});
