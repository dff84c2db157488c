/**
 * The pieces of an experiment read beside its effects: sample-ratio mismatch against the configured
 * split, p-values adjusted for several arms, the exact Beta-Binomial chance to win for small samples,
 * the probability of being best over all arms, and power.
 */
import betaln from '@stdlib/math-base-special-betaln';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { normal, Rng } from '../../synth/random.ts';
import type { ArmStats } from './effects.ts';

export interface Srm {
  /** Pearson χ² p-value of the observed arm sizes against the expected split; null when not evaluated. */
  pValue: number | null;
  chi2: number | null;
  expected: number[];
  flagged: boolean;
  /** Why it was not evaluated. */
  skipped?: string;
}

/**
 * Pearson's χ² goodness of fit of the arms' unit counts to `weights` (any positive numbers; they are
 * normalised). Flagged at p < `alpha` (0.001: a real mismatch is rarely subtle, and the job checks
 * every experiment hourly). Not evaluated below `minUnits`, or when an expected count is
 * under 5, where the χ² approximation is poor.
 */
export function sampleRatio(counts: number[], weights: number[], alpha: number, minUnits: number): Srm {
  const total = counts.reduce((s, c) => s + c, 0);
  const wsum = weights.reduce((s, w) => s + w, 0);
  const expected = weights.map((w) => (total * w) / wsum);
  if (counts.length < 2) return { pValue: null, chi2: null, expected, flagged: false, skipped: 'fewer than two arms' };
  if (total < minUnits) return { pValue: null, chi2: null, expected, flagged: false, skipped: `fewer than ${minUnits} units` };
  if (expected.some((e) => e < 5)) return { pValue: null, chi2: null, expected, flagged: false, skipped: 'an expected arm size under 5' };
  const chi2 = counts.reduce((s, c, i) => s + (c - expected[i]!) ** 2 / expected[i]!, 0);
  const pValue = 1 - chisquareCdf(chi2, counts.length - 1);
  return { pValue, chi2, expected, flagged: pValue < alpha };
}

export type Correction = 'holm' | 'bh';

/** Holm's step-down (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p-values, in input order. */
export function adjustPValues(p: readonly number[], method: Correction): number[] {
  const m = p.length;
  const order = p.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  if (method === 'holm') {
    let running = 0;
    order.forEach(([v, i], rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * v));
      out[i] = running;
    });
  } else {
    let running = 1;
    for (let rank = m - 1; rank >= 0; rank--) {
      const [v, i] = order[rank]!;
      running = Math.min(running, Math.min(1, (m * v) / (rank + 1)));
      out[i] = running;
    }
  }
  return out;
}

/** Beyond this many of B's conversions the exact sum is not worth its terms: the normal view is fine there. */
export const EXACT_MAX_TERMS = 200_000;

/**
 * P(p_B > p_A) for conversion rates with uniform Beta(1, 1) priors, exactly (Evan Miller's closed
 * form, summed in log space): Σ_{i<α_B} B(α_A+i, β_A+β_B) / ((β_B+i) B(1+i, β_B) B(α_A, β_A)).
 */
export function exactChanceToWin(a: { n: number; conversions: number }, b: { n: number; conversions: number }): number | null {
  const aA = 1 + a.conversions;
  const bA = 1 + a.n - a.conversions;
  const aB = 1 + b.conversions;
  const bB = 1 + b.n - b.conversions;
  if (aB > EXACT_MAX_TERMS) return null;
  const base = betaln(aA, bA);
  let max = -Infinity;
  const terms = new Float64Array(aB);
  for (let i = 0; i < aB; i++) {
    const t = betaln(aA + i, bA + bB) - Math.log(bB + i) - betaln(1 + i, bB) - base;
    terms[i] = t;
    if (t > max) max = t;
  }
  let sum = 0;
  for (let i = 0; i < aB; i++) sum += Math.exp(terms[i]! - max);
  return Math.min(1, Math.max(0, Math.exp(max + Math.log(sum))));
}

/**
 * Probability that each arm has the highest mean, by drawing every arm's mean from its normal
 * sampling distribution N(mean, variance/n): seeded, so a run is reproducible.
 */
export function probabilityBest(arms: readonly ArmStats[], draws: number, seed: number): number[] {
  const rng = new Rng(seed, 0xbe57);
  const wins = new Array<number>(arms.length).fill(0);
  const sd = arms.map((a) => (a.n > 0 ? Math.sqrt(a.variance / a.n) : Infinity));
  for (let d = 0; d < draws; d++) {
    let best = -1;
    let top = -Infinity;
    for (let k = 0; k < arms.length; k++) {
      if (!Number.isFinite(sd[k]!)) continue;
      const x = normal(rng, arms[k]!.mean, sd[k]!);
      if (x > top) {
        top = x;
        best = k;
      }
    }
    if (best >= 0) wins[best]!++;
  }
  return wins.map((w) => w / draws);
}

/** Snake case: it is served as it is. */
export interface Power {
  /** Smallest relative effect the test detects with `power` at its current size (two-sided α). */
  mde_relative: number | null;
  /** Units per arm needed to detect `target` (relative) with `power` at the observed baseline. */
  units_per_arm: number | null;
  /** Of those, how many the smaller arm still lacks. */
  more_units_per_arm: number | null;
  target: number;
  power: number;
}

/**
 * Normal-approximation power for the difference of two means. For a proportion the variance under
 * the alternative is p₁(1 − p₁) at p₁ = p_A(1 + target); for a mean it is the control's.
 */
export function power(a: ArmStats, b: ArmStats, kind: 'proportion' | 'mean', alpha: number, target: number, wanted = 0.8): Power {
  const z = normalQuantile(1 - alpha / 2, 0, 1) + normalQuantile(wanted, 0, 1);
  const base = { target, power: wanted };
  if (a.mean === 0 || a.n < 2 || b.n < 2) return { mde_relative: null, units_per_arm: null, more_units_per_arm: null, ...base };
  const mdeRelative = (z * Math.sqrt(a.variance / a.n + b.variance / b.n)) / Math.abs(a.mean);
  const p1 = a.mean * (1 + target);
  const altVariance = kind === 'proportion' ? Math.max(0, p1 * (1 - p1)) : a.variance;
  const unitsPerArm = Math.ceil((z ** 2 * (a.variance + altVariance)) / (target * a.mean) ** 2);
  return { mde_relative: mdeRelative, units_per_arm: unitsPerArm, more_units_per_arm: Math.max(0, unitsPerArm - Math.min(a.n, b.n)), ...base };
}
