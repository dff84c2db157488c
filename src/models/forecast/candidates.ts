import MultivariateLinearRegression from 'ml-regression-multivariate-linear';
import { weekday } from '../days.ts';
import { fitHoltWinters, hwFilter, hwForecast, type HwParams, type Seasonality } from './holt-winters.ts';

/** The weekly season of a daily series. */
export const WEEK = 7;

export const MODELS = ['seasonal_naive', 'hw_additive', 'hw_multiplicative', 'regression'] as const;
export type ModelName = (typeof MODELS)[number];

export interface SeriesContext {
  /** Day number (days since 1970-01-01, UTC) of the series' first value. */
  startDay: number;
  /** Day numbers of holidays (the regression gives them their own effect). */
  holidays: ReadonlySet<number>;
}

export interface FittedModel {
  name: ModelName;
  /** Forecasts for the `horizon` days after the training data. */
  forecast(horizon: number): Float64Array;
  /** Fitted parameters, for the report (and a warm start of the same model on more data). */
  params: Record<string, number>;
}

/** Why a model cannot be fitted on a series, or null when it can. */
export function inapplicable(name: ModelName, y: ArrayLike<number>): string | null {
  switch (name) {
    case 'seasonal_naive':
      return y.length < WEEK ? `needs a week of history (${WEEK} days)` : null;
    case 'hw_additive':
    case 'hw_multiplicative':
      if (y.length < 4 * WEEK) return `needs four weeks of history (${4 * WEEK} days)`;
      if (name === 'hw_multiplicative' && Array.prototype.some.call(y, (v: number) => !(v > 0))) return 'needs every day above zero';
      return null;
    case 'regression':
      return y.length < 3 * WEEK ? `needs three weeks of history (${3 * WEEK} days)` : null;
  }
}

/** ŷ_{n+h} = y_{n+h−7k}, the same weekday of the last week. */
function seasonalNaive(y: ArrayLike<number>): FittedModel {
  const n = y.length;
  return {
    name: 'seasonal_naive',
    params: {},
    forecast: (horizon) => Float64Array.from({ length: horizon }, (_, i) => y[n - WEEK + (i % WEEK)]!),
  };
}

function holtWinters(y: ArrayLike<number>, kind: Seasonality, warm?: Record<string, number>, keep = false): FittedModel {
  const warmStart = warm && 'alpha' in warm ? (warm as unknown as HwParams) : undefined;
  // Kept parameters only need the recursions run over the longer history; a fit has run them already.
  const { params, state } = keep && warmStart ? { params: warmStart, state: hwFilter(y, WEEK, kind, warmStart).state } : fitHoltWinters(y, WEEK, kind, { warmStart });
  return {
    name: kind === 'additive' ? 'hw_additive' : 'hw_multiplicative',
    params: { ...params },
    forecast: (horizon) => hwForecast(state, horizon, kind, params.phi),
  };
}

/** A yearly season is fitted once the history covers this many years. */
export const YEARLY_AFTER_YEARS = 2;
const YEAR = 365.25;
/** Fourier pairs of the yearly season: smooth, three parameters a side instead of 365. */
const YEARLY_TERMS = 3;

/**
 * Least squares on an intercept, a linear trend, day-of-week effects (Monday the baseline), a holiday
 * effect when the training window holds a holiday, and, with two years of history, a yearly season
 * as YEARLY_TERMS sine/cosine pairs (ml-regression).
 */
function regression(y: ArrayLike<number>, ctx: SeriesContext): FittedModel {
  const n = y.length;
  let holidays = false;
  for (let t = 0; t < n && !holidays; t++) holidays = ctx.holidays.has(ctx.startDay + t);
  const yearly = n >= YEARLY_AFTER_YEARS * YEAR;
  const features = (t: number): number[] => {
    const day = ctx.startDay + t;
    const dow = weekday(day);
    const row = [t];
    for (let d = 1; d < WEEK; d++) row.push(dow === d ? 1 : 0);
    if (holidays) row.push(ctx.holidays.has(day) ? 1 : 0);
    if (yearly) {
      for (let k = 1; k <= YEARLY_TERMS; k++) row.push(Math.sin((2 * Math.PI * k * day) / YEAR), Math.cos((2 * Math.PI * k * day) / YEAR));
    }
    return row;
  };
  const x = Array.from({ length: n }, (_, t) => features(t));
  const model = new MultivariateLinearRegression(x, Array.from({ length: n }, (_, t) => [y[t]!]), { statistics: false });
  const w = model.weights.map((r) => r[0]!);
  const params: Record<string, number> = { trend: w[0]!, intercept: w[w.length - 1]! };
  return {
    name: 'regression',
    params,
    forecast: (horizon) => Float64Array.from({ length: horizon }, (_, i) => model.predict(features(n + i))[0]!),
  };
}

/**
 * Fits `name` on y (the caller checked `inapplicable`). `warm`: the same model's parameters on a
 * shorter prefix, a start for the search; with `keep`, used as they are (only the states are updated).
 */
export function fitModel(name: ModelName, y: ArrayLike<number>, ctx: SeriesContext, warm?: Record<string, number>, keep = false): FittedModel {
  switch (name) {
    case 'seasonal_naive': return seasonalNaive(y);
    case 'hw_additive': return holtWinters(y, 'additive', warm, keep);
    case 'hw_multiplicative': return holtWinters(y, 'multiplicative', warm, keep);
    case 'regression': return regression(y, ctx);
  }
}
