/**
 * BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"): while alive a customer
 * buys at rate λ ~ Gamma(r, α); after each repeat purchase she drops out with probability
 * p ~ Beta(a, b). Fitted by maximum likelihood over the customer base's (x, t_x, T) summaries.
 *
 * Time is in whatever unit the summaries use (the job uses days; the CDNOW check weeks); α and every
 * horizon t are in that unit.
 */
import betaln from '@stdlib/math-base-special-betaln';
import gammaln from '@stdlib/math-base-special-gammaln';
import { logHyp2f1 } from './hyp2f1.ts';
import { minimize } from './optimize.ts';

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** One customer: x repeat purchases, the last at t_x after the first, observed for T since the first. */
export interface Rfm {
  x: number;
  tx: number;
  T: number;
}

export interface BgNbdFit {
  params: BgNbdParams;
  /** Standard errors (from the inverse Hessian of the log-likelihood). */
  se: BgNbdParams | null;
  /** Covariance of (log r, log α, log a, log b); null if the Hessian was not positive definite. */
  logCovariance: number[][] | null;
  logLikelihood: number;
  customers: number;
  iterations: number;
}

const NAMES = ['r', 'alpha', 'a', 'b'] as const;
/** Past this many distinct summaries the fit starts from one on a subsample of about this many. */
const SUBSAMPLE_ROWS = 30_000;
const toParams = (v: readonly number[]): BgNbdParams => ({ r: v[0]!, alpha: v[1]!, a: v[2]!, b: v[3]! });

/** A summary standing for `w` customers (1 when absent): the job reads them already grouped. */
export type WeightedRfm = Rfm & { w?: number };

/** Identical summaries folded together with a weight: the likelihood then costs per distinct (x, t_x, T). */
function fold(data: readonly WeightedRfm[]): { x: Int32Array; tx: Float64Array; T: Float64Array; w: Float64Array; maxX: number } {
  const map = new Map<string, number>();
  const rows: Rfm[] = [];
  const weights: number[] = [];
  for (const d of data) {
    const k = `${d.x}|${d.tx}|${d.T}`;
    const i = map.get(k);
    if (i === undefined) {
      map.set(k, rows.length);
      rows.push(d);
      weights.push(d.w ?? 1);
    } else weights[i]! += d.w ?? 1;
  }
  return {
    x: Int32Array.from(rows, (r) => r.x), tx: Float64Array.from(rows, (r) => r.tx), T: Float64Array.from(rows, (r) => r.T),
    w: Float64Array.from(weights), maxX: rows.reduce((m, r) => Math.max(m, r.x), 0),
  };
}

/** Σ log-likelihood of the summaries under `p` (FHL 2005, eq. 6, in log space). */
export function bgnbdLogLikelihood(p: BgNbdParams, data: readonly WeightedRfm[]): number {
  return foldedLogLikelihood(p, fold(data));
}

function foldedLogLikelihood(p: BgNbdParams, d: ReturnType<typeof fold>): number {
  const { r, alpha, a, b } = p;
  if (!(r > 0 && alpha > 0 && a > 0 && b > 0)) return -Infinity;
  // Per purchase count: the terms that do not depend on t_x and T.
  const head = new Float64Array(d.maxX + 1);
  const alive = new Float64Array(d.maxX + 1);
  const dead = new Float64Array(d.maxX + 1);
  const base = betaln(a, b);
  for (let x = 0; x <= d.maxX; x++) {
    head[x] = gammaln(r + x) - gammaln(r) + r * Math.log(alpha);
    alive[x] = betaln(a, b + x) - base;
    dead[x] = x > 0 ? betaln(a + 1, b + x - 1) - base : -Infinity;
  }
  let ll = 0;
  for (let i = 0; i < d.w.length; i++) {
    const x = d.x[i]!;
    const lT = Math.log(alpha + d.T[i]!);
    let l = alive[x]! - (r + x) * lT;
    // log(e^l1 + e^l2) = l1 + log1p(e^(l2 − l1)), and l2 − l1 needs one log, not two.
    if (x > 0) l += Math.log1p(Math.exp(dead[x]! - alive[x]! - (r + x) * (Math.log(alpha + d.tx[i]!) - lT)));
    ll += d.w[i]! * (head[x]! + l);
  }
  return ll;
}

/** Maximum-likelihood fit on log parameters (so they stay positive), with standard errors. */
export function fitBgNbd(data: readonly WeightedRfm[]): BgNbdFit {
  if (data.length === 0) throw new Error('fitBgNbd needs customers');
  const d = fold(data);
  const customers = d.w.reduce((s, w) => s + w, 0);
  const meanT = data.reduce((s, c) => s + c.T * (c.w ?? 1), 0) / customers;
  const meanX = data.reduce((s, c) => s + c.x * (c.w ?? 1), 0) / customers;
  // Start at a purchase rate that matches the average (r = 1) and a dropout probability of ½.
  const start = [0, Math.log(Math.max(1e-6, meanT / Math.max(meanX, 0.1))), 0, 0];
  const nll = (v: number[]) => -foldedLogLikelihood(toParams(v.map(Math.exp)), d);
  // A large base is first fitted on an evenly spread subsample of its distinct summaries; the whole
  // base then only needs the Newton steps from there (the simplex search was 2/3 of the evaluations,
  // each a pass over it).
  let opt;
  if (d.w.length > SUBSAMPLE_ROWS) {
    const every = Math.ceil(data.length / SUBSAMPLE_ROWS);
    const rough = fitBgNbd(data.filter((_, i) => i % every === 0)).params;
    opt = minimize(nll, [rough.r, rough.alpha, rough.a, rough.b].map(Math.log), { simplex: false });
  } else {
    opt = minimize(nll, start);
  }
  const params = toParams(opt.x.map(Math.exp));
  const se = opt.covariance
    ? toParams(NAMES.map((_, i) => Math.exp(opt.x[i]!) * Math.sqrt(Math.max(0, opt.covariance![i]![i]!))))
    : null;
  return { params, se, logCovariance: opt.covariance, logLikelihood: -opt.value, customers, iterations: opt.iterations };
}

/** log of the odds term of P(alive): a/(b+x−1) · ((α+T)/(α+t_x))^(r+x), or −∞ for x = 0. */
function logDeadOdds(p: BgNbdParams, c: Rfm): number {
  if (c.x === 0) return -Infinity;
  return Math.log(p.a / (p.b + c.x - 1)) + (p.r + c.x) * Math.log((p.alpha + c.T) / (p.alpha + c.tx));
}

/** P(still active at T | x, t_x, T). Always 1 for x = 0: the model lets a customer drop out only after a repeat purchase. */
export function probabilityAlive(p: BgNbdParams, c: Rfm): number {
  const lo = logDeadOdds(p, c);
  return lo === -Infinity ? 1 : 1 / (1 + Math.exp(lo));
}

/** Expected purchases in (T, T + t] given the customer's history (FHL 2005, eq. 10). */
export function expectedPurchases(p: BgNbdParams, c: Rfm, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = p;
  // ₂F₁'s third argument a + b + x − 1 must be positive for the series summed here; a fit with
  // a + b < 1 leaves one-time buyers without a figure rather than a wrong one.
  if (a + b + c.x - 1 <= 0) return NaN;
  const z = t / (alpha + c.T + t);
  const logPow = (r + c.x) * Math.log((alpha + c.T) / (alpha + c.T + t));
  // 1 − pow·₂F₁ and a − 1 share their sign for a ≠ 1; expm1 keeps the difference exact when small.
  const bracket = -Math.expm1(logPow + logHyp2f1(r + c.x, b + c.x, a + b + c.x - 1, z));
  const num = ((a + b + c.x - 1) / (a - 1)) * bracket;
  const lo = logDeadOdds(p, c);
  return lo === -Infinity ? num : num / (1 + Math.exp(lo));
}

/** Expected purchases in (0, t] of a customer just acquired (the population mean, FHL 2005 eq. 9). */
export function expectedPurchasesNew(p: BgNbdParams, t: number): number {
  if (t <= 0) return 0;
  const { r, alpha, a, b } = p;
  if (a + b - 1 <= 0) return NaN;
  const logPow = r * Math.log(alpha / (alpha + t));
  return ((a + b - 1) / (a - 1)) * -Math.expm1(logPow + logHyp2f1(r, b, a + b - 1, t / (alpha + t)));
}

/**
 * P(no purchase in (T, T + t]): dead, or alive and the Gamma(r+x, α+T) posterior rate yields no
 * purchase. The risk score that also ranks one-time buyers, for whom P(alive) says nothing.
 */
export function probabilityNoPurchase(p: BgNbdParams, c: Rfm, t: number): number {
  const alive = probabilityAlive(p, c);
  const quiet = Math.exp((p.r + c.x) * Math.log((p.alpha + c.T) / (p.alpha + c.T + t)));
  return 1 - alive * (1 - quiet);
}
