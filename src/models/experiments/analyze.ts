/**
 * One experiment's verdict from its arms' sufficient statistics: the pure core the experiments job
 * runs per experiment. Every non-control arm is compared with the control on conversion rate,
 * revenue per unit and (when a cap is set) winsorised revenue per unit.
 */
import {
  armStats, bayesian, effect, fixedHorizon, sequential, welchDf,
  type ArmStats, type Interval, type MetricKind, type Moments, type Prior,
} from './effects.ts';
import { adjustPValues, exactChanceToWin, power, probabilityBest, sampleRatio, type Correction, type Power, type Srm } from './checks.ts';

export interface ArmInput {
  variant: string;
  units: number;
  conversions: number;
  revenue: Moments;
  /** Revenue capped at the experiment's winsorisation cap; absent when no cap is set. */
  revenueCapped?: Moments;
  /** Configured share of traffic (any positive scale). */
  weight: number;
}

export interface ExperimentInput {
  metric: 'conversion' | 'revenue';
  control: string;
  arms: ArmInput[];
  /** Whether units may still arrive: the verdict then rests on the anytime-valid results. */
  running: boolean;
}

export interface ExperimentSettings {
  alpha: number;
  /** N* of the confidence sequences (GrowthBook's default 5,000). */
  sequentialTuning: number;
  prior: Prior;
  correction: Correction;
  srmAlpha: number;
  srmMinUnits: number;
  /** Relative effect the power figures are for. */
  targetLift: number;
  draws: number;
  seed: number;
}

export const METRICS = ['conversion_rate', 'revenue_per_unit', 'revenue_per_unit_winsorized'] as const;
export type MetricName = (typeof METRICS)[number];

export interface Comparison {
  relative: { estimate: number; se: number; ci: Interval; p_value: number; p_value_adjusted: number; df: number };
  absolute: { estimate: number; se: number; ci: Interval; p_value: number };
  /** Anytime-valid (relative) results: valid however often the experiment is looked at. */
  sequential: { ci: Interval; p_value: number; p_value_adjusted: number; tuning: number };
  bayesian: { chance_to_win: number; mean: number; sd: number; ci: Interval; risk: { control: number; treatment: number }; chance_to_win_exact: number | null };
}

export interface ArmResult {
  variant: string;
  control: boolean;
  units: number;
  weight: number;
  conversions: number;
  metrics: Record<MetricName, { mean: number; sd: number } | null>;
  /** Against the control, per metric; null for the control itself or where undefined. */
  comparisons: Partial<Record<MetricName, Comparison | null>> | null;
  probability_best: Partial<Record<MetricName, number>>;
  power: Power | null;
  verdict: string | null;
}

export interface ExperimentResult {
  primary_metric: MetricName;
  srm: Srm;
  arms: ArmResult[];
  probability_best: { seed: number; draws: number };
  alpha: number;
  correction: Correction;
  /** The verdicts rest on the anytime-valid results while the experiment runs. */
  verdict_basis: 'fixed_horizon' | 'sequential';
}

const KIND: Record<MetricName, MetricKind> = { conversion_rate: 'proportion', revenue_per_unit: 'mean', revenue_per_unit_winsorized: 'mean' };

function metricMoments(arm: ArmInput, metric: MetricName): Moments | null {
  switch (metric) {
    case 'conversion_rate': return { n: arm.units, sum: arm.conversions, sumSq: arm.conversions };
    case 'revenue_per_unit': return arm.revenue;
    case 'revenue_per_unit_winsorized': return arm.revenueCapped ?? null;
  }
}

function compare(a: ArmStats, b: ArmStats, ctl: ArmInput, arm: ArmInput, metric: MetricName, s: ExperimentSettings): Comparison | null {
  const rel = effect(a, b, 'relative');
  const abs = effect(a, b, 'absolute');
  if (!rel || !abs) return null;
  const df = welchDf(a, b);
  const fixedRel = fixedHorizon(rel, df, s.alpha);
  const fixedAbs = fixedHorizon(abs, df, s.alpha);
  const seq = sequential(rel, a.n + b.n, s.alpha, s.sequentialTuning);
  const bayes = bayesian(rel, s.alpha, s.prior);
  return {
    relative: { estimate: rel.estimate, se: rel.se, ci: fixedRel.ci, p_value: fixedRel.pValue, p_value_adjusted: fixedRel.pValue, df },
    absolute: { estimate: abs.estimate, se: abs.se, ci: fixedAbs.ci, p_value: fixedAbs.pValue },
    sequential: { ci: seq.ci, p_value: seq.pValue, p_value_adjusted: seq.pValue, tuning: seq.tuning },
    bayesian: {
      chance_to_win: bayes.chanceToWin, mean: bayes.mean, sd: bayes.sd, ci: bayes.ci,
      risk: { control: bayes.risk[0], treatment: bayes.risk[1] },
      chance_to_win_exact: metric === 'conversion_rate' ? exactChanceToWin({ n: ctl.units, conversions: ctl.conversions }, { n: arm.units, conversions: arm.conversions }) : null,
    },
  };
}

export function analyzeExperiment(input: ExperimentInput, s: ExperimentSettings): ExperimentResult {
  const arms = [...input.arms].sort((x, y) => (x.variant === input.control ? -1 : y.variant === input.control ? 1 : x.variant.localeCompare(y.variant)));
  const ctl = arms[0]?.variant === input.control ? arms[0] : undefined;
  const primary: MetricName = input.metric === 'revenue' ? 'revenue_per_unit' : 'conversion_rate';
  const srm = sampleRatio(arms.map((a) => a.units), arms.map((a) => a.weight), s.srmAlpha, s.srmMinUnits);
  const stats = new Map<MetricName, (ArmStats | null)[]>();
  for (const m of METRICS) stats.set(m, arms.map((a) => { const mm = metricMoments(a, m); return mm ? armStats(mm, KIND[m]) : null; }));
  const best = new Map<MetricName, number[]>();
  for (const m of METRICS) {
    const st = stats.get(m)!;
    if (st.every((x) => x !== null)) best.set(m, probabilityBest(st as ArmStats[], s.draws, s.seed));
  }
  const results: ArmResult[] = arms.map((arm, k) => {
    const isControl = arm === ctl;
    const metrics = Object.fromEntries(METRICS.map((m) => {
      const st = stats.get(m)![k];
      return [m, st ? { mean: st.mean, sd: Math.sqrt(st.variance) } : null];
    })) as ArmResult['metrics'];
    let comparisons: ArmResult['comparisons'] = null;
    let pw: Power | null = null;
    if (!isControl && ctl) {
      comparisons = {};
      for (const m of METRICS) {
        const a = stats.get(m)![0];
        const b = stats.get(m)![k];
        comparisons[m] = a && b ? compare(a, b, ctl, arm, m, s) : null;
      }
      const a = stats.get(primary)![0];
      const b = stats.get(primary)![k];
      pw = a && b ? power(a, b, KIND[primary], s.alpha, s.targetLift) : null;
    }
    return {
      variant: arm.variant, control: isControl, units: arm.units, weight: arm.weight, conversions: arm.conversions,
      metrics, comparisons, power: pw, verdict: null,
      probability_best: Object.fromEntries([...best].map(([m, p]) => [m, p[k]!])),
    };
  });
  // Several treatment arms: adjust each metric's p-values, fixed-horizon and anytime-valid, across them.
  const treated = results.filter((r) => r.comparisons);
  for (const m of METRICS) {
    const withP = treated.filter((r) => r.comparisons![m]);
    const fixed = adjustPValues(withP.map((r) => r.comparisons![m]!.relative.p_value), s.correction);
    const anytime = adjustPValues(withP.map((r) => r.comparisons![m]!.sequential.p_value), s.correction);
    withP.forEach((r, i) => {
      r.comparisons![m]!.relative.p_value_adjusted = fixed[i]!;
      r.comparisons![m]!.sequential.p_value_adjusted = anytime[i]!;
    });
  }
  const basis = input.running ? 'sequential' : 'fixed_horizon';
  for (const r of results) {
    if (r.comparisons) r.verdict = verdict(r, ctl!.variant, primary, srm, s, basis);
    else if (!ctl) r.verdict = `No units in the control arm ${input.control}: nothing to compare ${r.variant} with`;
  }
  return { primary_metric: primary, srm, arms: results, probability_best: { seed: s.seed, draws: s.draws }, alpha: s.alpha, correction: s.correction, verdict_basis: basis };
}

const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
const pctPlain = (x: number): string => `${x < 0 ? '−' : ''}${Math.abs(100 * x).toFixed(1)}%`;
const pValueText = (p: number): string => (p < 0.001 ? 'p < 0.001' : `p = ${p.toFixed(3)}`);

/** About two significant figures: 41,237 → "41,000". */
function roughly(n: number): string {
  if (n < 100) return String(n);
  const step = 10 ** (Math.floor(Math.log10(n)) - 1);
  return (Math.round(n / step) * step).toLocaleString('en-US');
}

/** One line a dashboard can show for a treatment arm. */
export function verdict(r: ArmResult, control: string, primary: MetricName, srm: Srm, s: ExperimentSettings, basis: 'fixed_horizon' | 'sequential'): string {
  if (srm.flagged) {
    return `Sample ratio mismatch (${pValueText(srm.pValue!)}): the arms are not split as configured, so these results cannot be trusted; check the assignment`;
  }
  const c = r.comparisons?.[primary];
  if (!c) return `Not enough data to compare ${r.variant} with ${control}: an arm has fewer than two units or no variation`;
  const est = c.relative.estimate;
  const sequentialBasis = basis === 'sequential';
  const ci = sequentialBasis ? c.sequential.ci : c.relative.ci;
  const p = sequentialBasis ? c.sequential.p_value_adjusted : c.relative.p_value_adjusted;
  const tail = `${pct(est)} [${pctPlain(ci.lo)}, ${pctPlain(ci.hi)}], ${sequentialBasis ? 'anytime-valid ' : ''}${pValueText(p)}`;
  if (p < s.alpha) return est > 0 ? `${r.variant} beats ${control}: ${tail}` : `${r.variant} is worse than ${control}: ${tail}`;
  const more = r.power?.more_units_per_arm;
  if (more && more > 0) return `Inconclusive: about ${roughly(more)} more units per arm needed to detect ${pct(s.targetLift)} (now ${tail})`;
  const mde = r.power?.mde_relative;
  return `No difference detected: ${tail}${mde != null ? `; the test can detect ${pct(mde)} with 80% power` : ''}`;
}
