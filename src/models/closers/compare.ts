/**
 * AI − human differences of the two closers' conversion rate and order value, with the experiment
 * statistics (Welch t on sufficient statistics): these are observational comparisons, not a
 * randomised test, so the verdict says "differs", never "causes".
 */
import { armStats, effect, fixedHorizon, welchDf, type Moments } from '../experiments/effects.ts';

export interface Difference {
  /** AI minus human. */
  estimate: number;
  ci: [number, number];
  level: number;
  p_value: number;
}

/** Sufficient statistics of one closer: conversations it answered first and orders it closed that were kept. */
export interface CloserMoments {
  conversations: Moments;
  orderValue: Moments;
}

/** AI − human of a proportion or a mean; null when either side has fewer than two units or no variation. */
export function difference(ai: Moments, human: Moments, kind: 'proportion' | 'mean', level: number): Difference | null {
  const a = armStats(human, kind);
  const b = armStats(ai, kind);
  const e = effect(a, b, 'absolute');
  if (!e) return null;
  const fh = fixedHorizon(e, welchDf(a, b), 1 - level);
  return { estimate: e.estimate, ci: [fh.ci.lo, fh.ci.hi], level, p_value: fh.pValue };
}

export function compareClosers(ai: CloserMoments, human: CloserMoments, level: number): { conversion_rate: Difference | null; aov: Difference | null } {
  return {
    conversion_rate: difference(ai.conversations, human.conversations, 'proportion', level),
    aov: difference(ai.orderValue, human.orderValue, 'mean', level),
  };
}
