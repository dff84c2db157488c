import { fitModel, type FittedModel, type ModelName, type SeriesContext, WEEK } from './candidates.ts';

export interface BacktestOptions {
  /** Longest horizon evaluated (days). */
  horizon: number;
  /** Days between origins. */
  step: number;
  /** Fewest days a model is trained on. */
  minTrain: number;
  /** Most origins (the latest ones are kept). */
  maxOrigins: number;
}

export const DEFAULT_BACKTEST: BacktestOptions = { horizon: 90, step: 7, minTrain: 28, maxOrigins: 40 };

export interface Backtest {
  model: ModelName;
  /** Index of the first forecast day of each origin, oldest first. */
  origins: number[];
  /** errors[k][h−1] = actual − forecast at horizon h from origins[k]; NaN past the end of the data. */
  errors: Float64Array[];
  /** Forecasts, same shape (the coverage check needs them). */
  forecasts: Float64Array[];
  /** Mean absolute scaled error over every (origin, horizon) with an actual (Hyndman & Koehler 2006,
   * scaled by the training window's in-sample MAE of the seasonal naive forecast). */
  mase: number;
  /** MAPE over the days with a non-zero actual (NaN when there is none). */
  mape: number;
  /** The model's parameters at the last origin (a warm start for the final fit). */
  lastParams?: Record<string, number>;
}

/** Origins for a series of n days: every `step` days back from the last possible one, oldest first. */
export function backtestOrigins(n: number, o: BacktestOptions): number[] {
  const origins: number[] = [];
  for (let k = n - 1; k >= o.minTrain && origins.length < o.maxOrigins; k -= o.step) origins.push(k);
  return origins.reverse();
}

/** In-sample MAE of the weekly seasonal naive forecast over y[0..n): MASE's scale. */
export function seasonalScale(y: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let t = WEEK; t < n; t++) s += Math.abs(y[t]! - y[t - WEEK]!);
  return n > WEEK ? s / (n - WEEK) : NaN;
}

/** Holt-Winters parameters are re-estimated at every REFIT_EVERY-th origin (the states at every one). */
export const REFIT_EVERY = 4;

/**
 * Rolling-origin evaluation: at each origin the model is fitted on everything before it and
 * forecasts up to `horizon` days. Holt-Winters re-estimates its parameters every REFIT_EVERY origins
 * (a month at weekly origins), starting from the previous estimate, and in between runs its
 * recursions on the longer history with those parameters: a search at every origin cost 1.5-2 s per
 * year-long series, and a week more of data moves the estimate little.
 */
export function backtest(y: ArrayLike<number>, model: ModelName, ctx: SeriesContext, opts: BacktestOptions = DEFAULT_BACKTEST): Backtest {
  const origins = backtestOrigins(y.length, opts);
  const errors: Float64Array[] = [];
  const forecasts: Float64Array[] = [];
  let warm: Record<string, number> | undefined;
  let scaled = 0;
  let count = 0;
  let pct = 0;
  let pctCount = 0;
  for (const [k, origin] of origins.entries()) {
    const train = Array.prototype.slice.call(y, 0, origin) as number[];
    const fitted: FittedModel = fitModel(model, train, ctx, warm, k % REFIT_EVERY !== 0);
    warm = fitted.params;
    const f = clampForecast(fitted.forecast(opts.horizon));
    const e = new Float64Array(opts.horizon).fill(NaN);
    const scale = seasonalScale(train, origin);
    for (let h = 0; h < opts.horizon && origin + h < y.length; h++) {
      const actual = y[origin + h]!;
      e[h] = actual - f[h]!;
      if (scale > 0) {
        scaled += Math.abs(e[h]!) / scale;
        count++;
      }
      if (actual !== 0) {
        pct += Math.abs(e[h]! / actual);
        pctCount++;
      }
    }
    errors.push(e);
    forecasts.push(f);
  }
  return { model, origins, errors, forecasts, mase: count ? scaled / count : NaN, mape: pctCount ? pct / pctCount : NaN, lastParams: warm };
}

/** Revenue is never negative: a forecast below zero is zero. */
export function clampForecast(f: Float64Array): Float64Array {
  for (let i = 0; i < f.length; i++) if (!(f[i]! > 0)) f[i] = 0;
  return f;
}
