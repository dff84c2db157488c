/**
 * Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): a
 * customer's purchases are Gamma(p, ν) in value with ν ~ Gamma(q, v) across customers, independent of
 * how often she buys. Fitted on the repeat buyers' average repeat spend.
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import { minimize } from './optimize.ts';

export interface GammaGammaParams {
  p: number;
  q: number;
  v: number;
}

/** A repeat buyer: x repeat purchases with mean value m. */
export interface Spend {
  x: number;
  m: number;
}

export interface GammaGammaFit {
  params: GammaGammaParams;
  se: GammaGammaParams | null;
  /** Covariance of (log p, log q, log v). */
  logCovariance: number[][] | null;
  logLikelihood: number;
  customers: number;
  /** E[spend] of a customer with no repeat purchase yet: p·v/(q − 1) (infinite for q ≤ 1). */
  populationMean: number;
}

const toParams = (v: readonly number[]): GammaGammaParams => ({ p: v[0]!, q: v[1]!, v: v[2]! });

export function gammaGammaLogLikelihood(g: GammaGammaParams, data: readonly Spend[]): number {
  return preparedLogLikelihood(g, prepare(data));
}

/** Parameter-free parts of the likelihood, computed once per fit: log m, log x, and the distinct x. */
function prepare(data: readonly Spend[]) {
  const x = Float64Array.from(data, (d) => d.x);
  // A loop, not Math.max(...x): spreading a million arguments overflows the stack.
  let maxX = 0;
  for (const v of x) if (v > maxX) maxX = v;
  return { x, m: Float64Array.from(data, (d) => d.m), logM: Float64Array.from(data, (d) => Math.log(d.m)), logX: Float64Array.from(data, (d) => Math.log(d.x)), maxX };
}

function preparedLogLikelihood(g: GammaGammaParams, d: ReturnType<typeof prepare>): number {
  const { p, q, v } = g;
  if (!(p > 0 && q > 0 && v > 0)) return -Infinity;
  // The Gamma functions depend on x only: once per distinct purchase count.
  const byX = new Float64Array(d.maxX + 1);
  for (let x = 1; x <= d.maxX; x++) byX[x] = gammaln(p * x + q) - gammaln(p * x);
  const constant = -gammaln(q) + q * Math.log(v);
  let ll = 0;
  for (let i = 0; i < d.x.length; i++) {
    const x = d.x[i]!;
    const px = p * x;
    ll += byX[x]! + constant + (px - 1) * d.logM[i]! + px * d.logX[i]! - (px + q) * Math.log(x * d.m[i]! + v);
  }
  return ll;
}

export function fitGammaGamma(data: readonly Spend[]): GammaGammaFit {
  const usable = data.filter((d) => d.x > 0 && d.m > 0);
  if (usable.length === 0) throw new Error('fitGammaGamma needs repeat buyers with spend');
  const mean = usable.reduce((s, d) => s + d.m, 0) / usable.length;
  const prepared = prepare(usable);
  const nll = (x: number[]) => -preparedLogLikelihood(toParams(x.map(Math.exp)), prepared);
  // Start at p = 1, q = 2 and the v that makes the population mean the sample's.
  const opt = minimize(nll, [0, Math.log(2), Math.log(mean)]);
  const params = toParams(opt.x.map(Math.exp));
  const se = opt.covariance ? toParams(opt.x.map((x, i) => Math.exp(x) * Math.sqrt(Math.max(0, opt.covariance![i]![i]!)))) : null;
  return {
    params, se, logCovariance: opt.covariance, logLikelihood: -opt.value, customers: usable.length,
    populationMean: params.q > 1 ? (params.p * params.v) / (params.q - 1) : Infinity,
  };
}

/**
 * E[value of a purchase | x repeat purchases averaging m]; the population mean when x = 0. NaN where
 * the model has no finite mean (p·x + q ≤ 1: a q ≤ 1 fit says spend is too heavy-tailed to average).
 */
export function expectedSpend(g: GammaGammaParams, x: number, m: number): number {
  const d = g.p * x + g.q - 1;
  return d > 0 ? (g.p * (g.v + x * m)) / d : NaN;
}
