import type { Backtest } from './backtest.ts';

/**
 * Prediction intervals calibrated on the backtest's own errors (empirical quantiles by horizon), so
 * their width is what the model really achieved, not what its assumptions promise.
 */

/** The type-7 quantile (linear between order statistics; numpy's and R's default) of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Fewest errors behind a horizon's quantiles: neighbouring horizons are pooled until there are this many. */
export const MIN_SAMPLES = 30;
/** Farthest a horizon borrows errors from (days either side). */
const MAX_POOL = 14;

export interface ErrorSample {
  /** Errors per origin, index h − 1, NaN where unknown; each already on today's scale. */
  paths: Float64Array[];
}

/**
 * The backtest's errors rescaled to the level of the series now: each origin's errors times
 * (mean of the last 28 days now) / (mean of the 28 days before that origin). A year of growth
 * would otherwise leave intervals sized for last year's revenue.
 */
export function rescaledErrors(bt: Backtest, y: ArrayLike<number>, upTo = y.length): ErrorSample {
  const now = recentLevel(y, upTo);
  return {
    paths: bt.errors.map((e, k) => {
      const then = recentLevel(y, bt.origins[k]!);
      const f = then > 0 && now > 0 ? now / then : 1;
      return e.map((v) => v * f);
    }),
  };
}

function recentLevel(y: ArrayLike<number>, end: number): number {
  const start = Math.max(0, end - 28);
  let s = 0;
  for (let t = start; t < end; t++) s += y[t]!;
  return end > start ? s / (end - start) : 0;
}

/**
 * Error quantiles [lower, upper] at each horizon 1..horizon for central levels (e.g. 0.8): the errors
 * at h, widened to h ± 1, h ± 2, … (up to MAX_POOL) until there are MIN_SAMPLES, sorted once.
 */
export function horizonQuantiles(sample: ErrorSample, horizon: number, levels: readonly number[]): Map<number, { lo: Float64Array; hi: Float64Array }> {
  const out = new Map(levels.map((l) => [l, { lo: new Float64Array(horizon).fill(NaN), hi: new Float64Array(horizon).fill(NaN) }]));
  const column = (j: number, into: number[]) => {
    for (const path of sample.paths) {
      const v = path[j];
      if (v !== undefined && !Number.isNaN(v)) into.push(v);
    }
  };
  for (let h = 0; h < horizon; h++) {
    const values: number[] = [];
    column(h, values);
    for (let w = 1; w <= MAX_POOL && values.length < MIN_SAMPLES; w++) {
      if (h - w >= 0) column(h - w, values);
      if (h + w < horizon) column(h + w, values);
    }
    if (values.length === 0) continue;
    values.sort((a, b) => a - b);
    for (const level of levels) {
      const q = out.get(level)!;
      q.lo[h] = quantileSorted(values, (1 - level) / 2);
      q.hi[h] = quantileSorted(values, (1 + level) / 2);
    }
  }
  return out;
}

/**
 * How often the intervals would have held, honestly: at each origin, quantiles from only the errors
 * already observed by then (an earlier origin's error at horizon h is known h days after it), checked
 * against that origin's actuals. Per level, the share covered, or null when no origin had enough history.
 */
export function backtestCoverage(bt: Backtest, y: ArrayLike<number>, levels: readonly number[], minPaths = 8): Map<number, number | null> {
  const hit = new Map(levels.map((l) => [l, 0]));
  let total = 0;
  for (let k = minPaths; k < bt.origins.length; k++) {
    const origin = bt.origins[k]!;
    const known: Float64Array[] = [];
    for (let j = 0; j < k; j++) {
      const e = bt.errors[j]!.slice();
      for (let h = 0; h < e.length; h++) if (bt.origins[j]! + h >= origin) e[h] = NaN;
      known.push(e);
    }
    const past = { ...bt, errors: known, origins: bt.origins.slice(0, k) };
    const q = horizonQuantiles(rescaledErrors(past, y, origin), bt.errors[k]!.length, levels);
    const f = bt.forecasts[k]!;
    const anyLevel = q.get(levels[0]!)!;
    for (let h = 0; h < f.length && origin + h < y.length; h++) {
      if (Number.isNaN(anyLevel.lo[h]!)) continue;
      const actual = y[origin + h]!;
      total++;
      for (const level of levels) {
        const b = q.get(level)!;
        if (actual >= Math.max(0, f[h]! + b.lo[h]!) && actual <= Math.max(0, f[h]! + b.hi[h]!)) hit.set(level, hit.get(level)! + 1);
      }
    }
  }
  return new Map(levels.map((l) => [l, total ? hit.get(l)! / total : null]));
}

/**
 * Interval of a period's total (a week, a month) by simulation: each backtest origin's error path
 * added to the daily forecasts of the period's days (errors of neighbouring days move together, so
 * whole paths are used, never independent draws), negatives cut at zero, then summed; quantiles over
 * the paths. Summing daily bounds would overstate the width; null with fewer than `minPaths` paths.
 */
export function periodInterval(
  forecast: Float64Array, days: readonly number[], sample: ErrorSample, level: number, minPaths = 8,
): { lo: number; hi: number; paths: number } | null {
  const totals: number[] = [];
  for (const path of sample.paths) {
    let total = 0;
    let complete = true;
    for (const h of days) {
      const e = path[h];
      if (e === undefined || Number.isNaN(e)) {
        complete = false;
        break;
      }
      total += Math.max(0, forecast[h]! + e);
    }
    if (complete) totals.push(total);
  }
  if (totals.length < minPaths) return null;
  totals.sort((a, b) => a - b);
  return { lo: quantileSorted(totals, (1 - level) / 2), hi: quantileSorted(totals, (1 + level) / 2), paths: totals.length };
}
