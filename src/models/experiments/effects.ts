/**
 * Two-arm effect statistics from sufficient statistics (n, Σx, Σx²), the way GrowthBook's gbstats
 * computes them, so its published vectors are our unit tests:
 * - a unit-level variance per arm: p(1 − p) for a proportion, the sample variance for a mean;
 * - the effect of B over A, absolute (μB − μA) or relative (μB/μA − 1, by the delta method);
 * - fixed-horizon Welch t intervals and p-values (one path for proportions and means);
 * - anytime-valid confidence sequences (Waudby-Smith et al. 2023, "Time-uniform central limit theory
 *   and asymptotic confidence sequences", eq. 155, with GrowthBook's tuning N*): safe to look daily;
 * - a Gaussian Bayesian view on the same effect: chance to beat control, credible interval and
 *   expected loss, with an optional Gaussian prior.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

export type MetricKind = 'proportion' | 'mean';
export type Scale = 'relative' | 'absolute';

export interface ArmStats {
  n: number;
  mean: number;
  variance: number;
}

/** Mean and unit-level variance of one arm. A proportion's Σx² is Σx (x is 0 or 1). */
export function armStats(m: Moments, kind: MetricKind): ArmStats {
  const mean = m.n > 0 ? m.sum / m.n : 0;
  if (kind === 'proportion') return { n: m.n, mean, variance: mean * (1 - mean) };
  const variance = m.n > 1 ? Math.max(0, (m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1)) : 0;
  return { n: m.n, mean, variance };
}

export interface Effect {
  estimate: number;
  se: number;
}

/**
 * The effect of B over A and its standard error; null when undefined: an arm with fewer than two
 * units, an arm without variation (0 of 1,000 converted would give a standard error of 0 and a
 * "certain" −100%; gbstats also refuses it), or a zero baseline for a relative effect.
 */
export function effect(a: ArmStats, b: ArmStats, scale: Scale): Effect | null {
  if (a.n < 2 || b.n < 2 || a.variance === 0 || b.variance === 0) return null;
  if (scale === 'absolute') return { estimate: b.mean - a.mean, se: Math.sqrt(b.variance / b.n + a.variance / a.n) };
  if (a.mean === 0) return null;
  const variance = b.variance / (a.mean ** 2 * b.n) + (a.variance * b.mean ** 2) / (a.mean ** 4 * a.n);
  return { estimate: b.mean / a.mean - 1, se: Math.sqrt(variance) };
}

/** Welch-Satterthwaite degrees of freedom (effect() refuses the arms without variance that would divide by 0). */
export function welchDf(a: ArmStats, b: ArmStats): number {
  if (a.n <= 1 || b.n <= 1 || a.variance === 0 || b.variance === 0) return 1;
  const num = (a.variance / a.n + b.variance / b.n) ** 2;
  const den = a.variance ** 2 / (a.n ** 2 * (a.n - 1)) + b.variance ** 2 / (b.n ** 2 * (b.n - 1));
  return num / den;
}

export interface Interval {
  lo: number;
  hi: number;
}

export interface FixedHorizon {
  ci: Interval;
  pValue: number;
  df: number;
}

/** Two-sided Welch t interval at level 1 − α and p-value. */
export function fixedHorizon(e: Effect, df: number, alpha: number): FixedHorizon {
  const half = tQuantile(1 - alpha / 2, df) * e.se;
  const t = e.se > 0 ? Math.abs(e.estimate / e.se) : e.estimate === 0 ? 0 : Infinity;
  return { ci: { lo: e.estimate - half, hi: e.estimate + half }, pValue: 2 * (1 - tCdf(t, df)), df };
}

/** ρ of the confidence sequence, tuned so the sequence is tightest at `tuning` (N*) units in all. */
export function sequentialRho(alpha: number, tuning: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuning);
}

export interface Sequential {
  ci: Interval;
  /** Anytime-valid p-value: 1 / e-value, capped at 1. */
  pValue: number;
  tuning: number;
}

/**
 * Asymptotic confidence sequence for the effect after `n` units in all (both arms): it covers the
 * truth at every n at once with probability ≥ 1 − α, so peeking does not inflate the error rate.
 */
export function sequential(e: Effect, n: number, alpha: number, tuning: number): Sequential {
  const rho = sequentialRho(alpha, tuning);
  const t = n * rho ** 2 + 1;
  const s2 = e.se ** 2 * n;
  const half = Math.sqrt(s2) * Math.sqrt((2 * t * Math.log(Math.sqrt(t) / alpha)) / (n * rho) ** 2);
  const z2 = e.se > 0 ? (e.estimate / e.se) ** 2 : 0;
  const evalue = Math.exp((rho ** 2 * z2 * n) / (2 * t)) / Math.sqrt(t);
  return { ci: { lo: e.estimate - half, hi: e.estimate + half }, pValue: Math.min(1, 1 / evalue), tuning };
}

/** A Gaussian prior on the effect; `variance: Infinity` is flat. */
export interface Prior {
  mean: number;
  variance: number;
}

export const FLAT_PRIOR: Prior = { mean: 0, variance: Infinity };

export interface Bayesian {
  mean: number;
  sd: number;
  chanceToWin: number;
  ci: Interval;
  /** Expected loss of shipping [A, B]: E[max(effect, 0)] and E[max(−effect, 0)] under the posterior. */
  risk: [number, number];
}

/** Normal posterior of the effect (normal likelihood from the delta method × Gaussian prior). */
export function bayesian(e: Effect, alpha: number, prior: Prior = FLAT_PRIOR): Bayesian {
  let mean = e.estimate;
  let variance = e.se ** 2;
  if (Number.isFinite(prior.variance) && variance > 0) {
    const precision = 1 / prior.variance + 1 / variance;
    mean = (prior.mean / prior.variance + e.estimate / variance) / precision;
    variance = 1 / precision;
  }
  const sd = Math.sqrt(variance);
  const z = normalQuantile(1 - alpha / 2, 0, 1);
  if (sd === 0) return { mean, sd, chanceToWin: mean > 0 ? 1 : mean < 0 ? 0 : 0.5, ci: { lo: mean, hi: mean }, risk: [Math.max(mean, 0), Math.max(-mean, 0)] };
  const density = Math.exp(-0.5 * (mean / sd) ** 2) / Math.sqrt(2 * Math.PI);
  const up = normalCdf(mean / sd, 0, 1);
  return {
    mean,
    sd,
    chanceToWin: up,
    ci: { lo: mean - z * sd, hi: mean + z * sd },
    risk: [mean * up + sd * density, -mean * (1 - up) + sd * density],
  };
}
