import { backtest, type Backtest, backtestOrigins, clampForecast, DEFAULT_BACKTEST, type BacktestOptions } from './backtest.ts';
import { fitModel, inapplicable, MODELS, type ModelName, type SeriesContext, WEEK } from './candidates.ts';
import { backtestCoverage, type ErrorSample, horizonQuantiles, quantileSorted, rescaledErrors } from './intervals.ts';

export interface ForecastOptions {
  horizon: number;
  /** Central interval levels, e.g. [0.8, 0.95]. */
  levels: number[];
  backtest?: Partial<BacktestOptions>;
  candidates?: readonly ModelName[];
}

export interface ModelScore {
  model: ModelName;
  /** Backtest MASE (< 1: better than the in-sample seasonal naive forecast). */
  mase: number | null;
  mape: number | null;
  /** Why it was not evaluated. */
  skipped?: string;
}

export interface SeriesForecast {
  model: ModelName;
  /** How the model was chosen, in a sentence. */
  choice: string;
  scores: ModelScore[];
  /** Daily point forecasts for days 1..horizon after the data, never negative. */
  points: Float64Array;
  /** Per level: daily bounds (NaN where no calibration was possible). */
  intervals: Map<number, { lo: Float64Array; hi: Float64Array }>;
  /** Per level: share of backtest actuals inside intervals calibrated only on errors known at the time. */
  coverage: Map<number, number | null>;
  /** Backtest error paths on today's scale, for intervals of weekly and monthly totals. */
  errors: ErrorSample;
  params: Record<string, number>;
}

/**
 * Forecasts a daily series: every applicable candidate is scored by rolling-origin backtest (MASE),
 * the best is refitted on all the data, and its intervals are the empirical quantiles of its own
 * backtest errors by horizon.
 *
 * Fallbacks, for a history too short to backtest (fewer than minTrain + 1 days): the weekly
 * seasonal naive forecast (a week or more of data; else the mean of the days there are), with
 * intervals from its in-sample errors widened by √(weeks ahead) as FPP3 §5.5 does for it (two weeks
 * or more; else no intervals).
 */
export function forecastSeries(y: ArrayLike<number>, ctx: SeriesContext, opts: ForecastOptions): SeriesForecast {
  const bo: BacktestOptions = { ...DEFAULT_BACKTEST, ...opts.backtest, horizon: opts.horizon };
  const candidates = opts.candidates ?? MODELS;
  if (backtestOrigins(y.length, bo).length === 0) return shortHistory(y, opts, bo);
  const scores: ModelScore[] = [];
  const runs: Backtest[] = [];
  for (const model of candidates) {
    const why = inapplicable(model, y);
    if (why) {
      scores.push({ model, mase: null, mape: null, skipped: why });
      continue;
    }
    const bt = backtest(y, model, ctx, bo);
    runs.push(bt);
    scores.push({ model, mase: finite(bt.mase), mape: finite(bt.mape) });
  }
  const best = runs.filter((r) => Number.isFinite(r.mase)).sort((a, b) => a.mase - b.mase)[0] ?? runs[0]!;
  const fitted = fitModel(best.model, y, ctx, best.lastParams);
  const points = clampForecast(fitted.forecast(opts.horizon));
  const errors = rescaledErrors(best, y);
  const intervals = new Map<number, { lo: Float64Array; hi: Float64Array }>();
  const coverage = new Map<number, number | null>();
  const quantiles = horizonQuantiles(errors, opts.horizon, opts.levels);
  const covered = backtestCoverage(best, y, opts.levels);
  for (const level of opts.levels) {
    const q = quantiles.get(level)!;
    intervals.set(level, bounds(points, q.lo, q.hi));
    coverage.set(level, covered.get(level) ?? null);
  }
  return {
    model: best.model,
    choice: `lowest backtest MASE (${fmt(best.mase)}) over ${best.origins.length} origins every ${bo.step} days, horizons 1-${opts.horizon}`,
    scores, points, intervals, coverage, errors, params: fitted.params,
  };
}

function shortHistory(y: ArrayLike<number>, opts: ForecastOptions, bo: BacktestOptions): SeriesForecast {
  const n = y.length;
  const intervals = new Map<number, { lo: Float64Array; hi: Float64Array }>();
  const coverage = new Map<number, number | null>();
  let points: Float64Array;
  let model: ModelName = 'seasonal_naive';
  let choice: string;
  if (n >= WEEK) {
    points = clampForecast(Float64Array.from({ length: opts.horizon }, (_, i) => y[n - WEEK + (i % WEEK)]!));
    choice = `seasonal naive: ${n} days of history are too few to backtest (${bo.minTrain + 1} needed)`;
  } else {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i]!;
    mean = n ? mean / n : 0;
    points = clampForecast(new Float64Array(opts.horizon).fill(mean));
    choice = `mean of the ${n} days there are: too few for any model`;
    model = 'seasonal_naive';
  }
  const residuals: number[] = [];
  for (let t = WEEK; t < n; t++) residuals.push(y[t]! - y[t - WEEK]!);
  for (const level of opts.levels) {
    coverage.set(level, null);
    if (residuals.length < WEEK) {
      intervals.set(level, { lo: new Float64Array(opts.horizon).fill(NaN), hi: new Float64Array(opts.horizon).fill(NaN) });
      continue;
    }
    const sorted = [...residuals].sort((a, b) => a - b);
    const qlo = quantileSorted(sorted, (1 - level) / 2);
    const qhi = quantileSorted(sorted, (1 + level) / 2);
    const widen = (h: number) => Math.sqrt(Math.floor(h / WEEK) + 1);
    const lo = Float64Array.from({ length: opts.horizon }, (_, h) => qlo * widen(h));
    const hi = Float64Array.from({ length: opts.horizon }, (_, h) => qhi * widen(h));
    intervals.set(level, bounds(points, lo, hi));
  }
  return {
    model, choice, points, intervals, coverage, params: {},
    scores: MODELS.map((m) => ({ model: m, mase: null, mape: null, skipped: 'history too short to backtest' })),
    errors: { paths: [] },
  };
}

function bounds(points: Float64Array, qlo: Float64Array, qhi: Float64Array): { lo: Float64Array; hi: Float64Array } {
  return {
    lo: points.map((p, h) => (Number.isNaN(qlo[h]!) ? NaN : Math.max(0, p + qlo[h]!))),
    hi: points.map((p, h) => (Number.isNaN(qhi[h]!) ? NaN : Math.max(0, p + qhi[h]!))),
  };
}

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
