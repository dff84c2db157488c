/**
 * Customer lifetime value over a horizon of months: expected purchases per month (BG/NBD, time unit
 * days) × expected value per purchase (Gamma-Gamma), discounted monthly. Revenue, not margin.
 * Intervals carry the parameters' uncertainty (the fits' inverse Hessians) by the delta method.
 */
import { type BgNbdParams, expectedPurchases, type Rfm } from './bgnbd.ts';
import { expectedSpend, type GammaGammaParams } from './gamma-gamma.ts';

/** Days in a month: months are twelfths of a mean Gregorian year, never a 30-day (or 30-week) stand-in. */
export const DAYS_PER_MONTH = 365.2425 / 12;

export interface ClvSettings {
  months: number;
  /** Annual discount rate; each month is discounted by (1 + rate)^(1/12). */
  annualDiscount: number;
}

export interface ClvCustomer extends Rfm {
  /** Mean value of the repeat purchases (ignored when x = 0). */
  monetary: number;
}

/** Expected purchases in each month of the horizon, from T (days). */
export function monthlyPurchases(p: BgNbdParams, c: Rfm, months: number): number[] {
  const out: number[] = [];
  let before = 0;
  for (let m = 1; m <= months; m++) {
    const upTo = expectedPurchases(p, c, m * DAYS_PER_MONTH);
    out.push(upTo - before);
    before = upTo;
  }
  return out;
}

/** Expected purchases over the horizon, each month's discounted to today. */
export function discountedPurchases(p: BgNbdParams, c: Rfm, s: ClvSettings): number {
  const monthly = (1 + s.annualDiscount) ** (1 / 12);
  return monthlyPurchases(p, c, s.months).reduce((sum, n, i) => sum + n / monthly ** (i + 1), 0);
}

export function clv(bg: BgNbdParams, gg: GammaGammaParams, c: ClvCustomer, s: ClvSettings): number {
  return discountedPurchases(bg, c, s) * expectedSpend(gg, c.x, c.x > 0 ? c.monetary : 0);
}

export interface ClvInterval {
  value: number;
  lo: number;
  hi: number;
  level: number;
}

const Z90 = 1.6448536269514722;

/**
 * CLV with a 90% interval from the delta method on the seven log-parameters (BG/NBD's four and
 * Gamma-Gamma's three, fitted apart so their covariances are independent blocks), taken on the log
 * scale so the interval stays positive. Null covariances give a point with lo = hi.
 */
export function clvInterval(
  bg: { params: BgNbdParams; logCovariance: number[][] | null },
  gg: { params: GammaGammaParams; logCovariance: number[][] | null },
  c: ClvCustomer,
  s: ClvSettings,
): ClvInterval {
  const value = clv(bg.params, gg.params, c, s);
  if (!bg.logCovariance || !gg.logCovariance || !(value > 0)) return { value, lo: value, hi: value, level: 0.9 };
  const base = [bg.params.r, bg.params.alpha, bg.params.a, bg.params.b, gg.params.p, gg.params.q, gg.params.v].map(Math.log);
  const logClv = (v: number[]) => {
    const e = v.map(Math.exp);
    return Math.log(clv({ r: e[0]!, alpha: e[1]!, a: e[2]!, b: e[3]! }, { p: e[4]!, q: e[5]!, v: e[6]! }, c, s));
  };
  const h = 1e-4;
  const grad = base.map((_, i) => {
    const up = base.map((v, j) => (j === i ? v + h : v));
    const down = base.map((v, j) => (j === i ? v - h : v));
    return (logClv(up) - logClv(down)) / (2 * h);
  });
  let variance = 0;
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) variance += grad[i]! * grad[j]! * bg.logCovariance[i]![j]!;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) variance += grad[4 + i]! * grad[4 + j]! * gg.logCovariance[i]![j]!;
  const sd = Math.sqrt(Math.max(0, variance));
  return { value, lo: value * Math.exp(-Z90 * sd), hi: value * Math.exp(Z90 * sd), level: 0.9 };
}
