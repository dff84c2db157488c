import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import {
  bgnbdLogLikelihood, type BgNbdParams, expectedPurchases, expectedPurchasesNew, fitBgNbd, probabilityAlive, probabilityNoPurchase, type Rfm,
} from '../../src/models/customers/bgnbd.ts';
import { clv, clvInterval, DAYS_PER_MONTH, monthlyPurchases } from '../../src/models/customers/clv.ts';
import { expectedSpend, fitGammaGamma } from '../../src/models/customers/gamma-gamma.ts';
import { auc, byFrequency } from '../../src/models/customers/holdout.ts';
import { logHyp2f1 } from '../../src/models/customers/hyp2f1.ts';
import { classify, gapCdf } from '../../src/models/customers/rules.ts';
import { summarySql } from '../../src/models/customers/run-customers.ts';
import { beta, exponential, gamma, Rng } from '../../src/synth/random.ts';

const reference = JSON.parse(readFileSync(new URL('../reference/customers.json', import.meta.url), 'utf8'));
/** The standard CDNOW sample and lifetimes' summary of it (test/fixtures/cdnow/README.md says where they come from). */
const cdnowPath = (name: string) => new URL(`../fixtures/cdnow/${name}`, import.meta.url);

describe('Gauss ₂F₁ against scipy.special.hyp2f1', () => {
  it('matches in log space, also where the terms first grow (large a, b) and near z = 1', () => {
    for (const h of reference.hyp2f1) expect(logHyp2f1(h.a, h.b, h.c, h.z)).toBeCloseTo(h.log, 9);
  });
});

describe('BG/NBD predictions against integrals over the latent rate and dropout (scipy dblquad)', () => {
  const p: BgNbdParams = reference.params;
  it('P(alive), expected purchases and P(no purchase) per customer', () => {
    for (const c of reference.customers) {
      const rfm = { x: c.x, tx: c.tx, T: c.T };
      expect(probabilityAlive(p, rfm)).toBeCloseTo(c.p_alive, 7);
      expect(expectedPurchases(p, rfm, c.t)).toBeCloseTo(c.expected, 7);
      expect(probabilityNoPurchase(p, rfm, c.t)).toBeCloseTo(c.p_no_purchase, 7);
    }
  });
  it('expected purchases of a new customer', () => {
    for (const u of reference.unconditional) expect(expectedPurchasesNew(p, u.t)).toBeCloseTo(u.expected, 7);
  });
});

/** CDNOW's raw transactions: customer, day (yyyymmdd), dollars. */
function cdnowRaw(): { id: string; day: string; v: number }[] {
  return readFileSync(cdnowPath('CDNOW_sample.txt'), 'utf8').trim().split('\n').map((l) => {
    const f = l.trim().split(/\s+/);
    return { id: f[1]!, day: `${f[2]!.slice(0, 4)}-${f[2]!.slice(4, 6)}-${f[2]!.slice(6, 8)}`, v: Number(f[4]) };
  });
}

/** The job's own summary SQL over CDNOW's transactions (weeks, calibration through 1997-09-30). */
async function cdnowSummary(): Promise<{ id: string; x: number; tx: number; T: number; monetary: number | null; first: string }[]> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(`CREATE TABLE tx (tenant_id VARCHAR, customer_id VARCHAR, d DATE, v DOUBLE)`);
    const rows = cdnowRaw();
    for (let i = 0; i < rows.length; i += 2000) {
      await conn.run(`INSERT INTO tx VALUES ${rows.slice(i, i + 2000).map((r) => `('cdnow', '${r.id}', DATE '${r.day}', ${r.v})`).join(', ')}`);
    }
    const purchases = `SELECT tenant_id, customer_id, d, sum(v) AS v FROM tx WHERE d <= DATE '1997-09-30' GROUP BY ALL`;
    const reader = await conn.runAndReadAll(`${summarySql(purchases, `DATE '1997-09-30'`, 7)} ORDER BY customer_id::INTEGER`);
    return (reader.getRowObjectsJson() as { customer_id: string; x: string; tx: number; T: number; monetary: number | null; first_day: string }[])
      .map((r) => ({ id: r.customer_id, x: Number(r.x), tx: r.tx, T: r.T, monetary: r.monetary, first: r.first_day }));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('CDNOW (Fader, Hardie & Lee 2005)', async () => {
  const summary = await cdnowSummary();
  const fit = fitBgNbd(summary);

  it("the job's summary SQL rebuilds lifetimes' calibration summary exactly", () => {
    const csv = readFileSync(cdnowPath('cdnow_customers_summary.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(summary).toHaveLength(csv.length);
    summary.forEach((s, i) => {
      const [id, x, recency, T] = csv[i]!;
      expect(Number(s.id)).toBe(id);
      expect(s.x).toBe(x);
      expect(Math.round(s.tx * 100) / 100).toBeCloseTo(recency!, 10);
      expect(Math.round(s.T * 100) / 100).toBeCloseTo(T!, 10);
    });
  });

  it('BG/NBD maximum likelihood reproduces the paper: r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4', () => {
    expect(fit.params.r).toBeCloseTo(0.2426, 3);
    expect(fit.params.alpha).toBeCloseTo(4.4135, 2);
    expect(fit.params.a).toBeCloseTo(0.7929, 3);
    expect(fit.params.b).toBeCloseTo(2.4258, 2);
    expect(fit.logLikelihood).toBeCloseTo(-9582.43, 1);
    expect(bgnbdLogLikelihood(fit.params, summary)).toBeCloseTo(fit.logLikelihood, 8);
    // Standard errors exist and are small next to the estimates.
    expect(fit.se!.r / fit.params.r).toBeLessThan(0.2);
  });

  it("per-customer figures: customer 1 P(alive) 0.7266, E[39 weeks] 1.2260; customer 2 0.2124, 0.2034; x = 0 → 1, 0.1948", () => {
    const [c1, c2] = summary;
    expect(probabilityAlive(fit.params, c1!)).toBeCloseTo(0.7266, 3);
    expect(expectedPurchases(fit.params, c1!, 39)).toBeCloseTo(1.226, 3);
    expect(probabilityAlive(fit.params, c2!)).toBeCloseTo(0.2124, 2);
    expect(expectedPurchases(fit.params, c2!, 39)).toBeCloseTo(0.2034, 3);
    const zero = summary.find((s) => s.x === 0 && Math.abs(s.T - 38.86) < 0.01)!;
    expect(probabilityAlive(fit.params, zero)).toBe(1);
    expect(expectedPurchases(fit.params, zero, 39)).toBeCloseTo(0.1948, 3);
  });

  it('under-forecasts cumulative repeat purchases at week 78 by about 4% (4,160.6 predicted vs 4,339 actual)', () => {
    const start = Date.parse('1997-01-01T00:00:00Z');
    const predicted = summary.reduce((s, c) => s + expectedPurchasesNew(fit.params, 78 - (Date.parse(`${c.first}T00:00:00Z`) - start) / (7 * 86_400_000)), 0);
    const days = new Map<string, Set<string>>();
    for (const r of cdnowRaw()) {
      if (!days.has(r.id)) days.set(r.id, new Set());
      days.get(r.id)!.add(r.day);
    }
    const actual = [...days.values()].reduce((s, d) => s + d.size - 1, 0);
    expect(actual).toBe(4339);
    // Within 0.2% of the published figure (the paper dates births by week, we by day).
    expect(Math.abs(predicted - 4160.6) / 4160.6).toBeLessThan(0.002);
    expect(1 - predicted / actual).toBeGreaterThan(0.035);
    expect(1 - predicted / actual).toBeLessThan(0.045);
  });

  it('Gamma-Gamma on the 946 repeat buyers: p 6.25, q 3.74, v 15.45, population mean spend 35.17', () => {
    const repeat = summary.filter((s) => s.x > 0).map((s) => ({ x: s.x, m: s.monetary! }));
    expect(repeat).toHaveLength(946);
    const gg = fitGammaGamma(repeat);
    expect(gg.params.p).toBeCloseTo(6.25, 1);
    expect(gg.params.q).toBeCloseTo(3.74, 1);
    expect(gg.params.v).toBeCloseTo(15.45, 0);
    expect(gg.populationMean).toBeCloseTo(35.17, 1);
    // The conditional spend leans from the population mean toward the customer's own.
    expect(expectedSpend(gg.params, 0, 0)).toBeCloseTo(gg.populationMean, 9);
    const e = expectedSpend(gg.params, 10, 100);
    expect(e).toBeGreaterThan(gg.populationMean);
    expect(e).toBeLessThan(100);
  });
});

/** BG/NBD customers with known parameters, in days: born uniformly over a year, observed to day 730. */
function simulateBgNbd(truth: BgNbdParams, n: number, seed: number): Rfm[] {
  const rng = new Rng(seed, 0xb9);
  return Array.from({ length: n }, () => {
    const lambda = gamma(rng, truth.r, truth.alpha);
    const p = beta(rng, truth.a, truth.b);
    const T = 730 - 365 * rng.next();
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += exponential(rng, lambda);
      if (t > T) break;
      x++;
      tx = t;
      if (rng.next() < p) break;
    }
    return { x, tx, T };
  });
}

describe('recovery of known parameters', () => {
  it('BG/NBD: every estimate within 3 standard errors of the truth (8,000 simulated customers)', () => {
    const truth = { r: 0.6, alpha: 25, a: 0.9, b: 3.5 };
    const fit = fitBgNbd(simulateBgNbd(truth, 8000, 11));
    for (const k of ['r', 'alpha', 'a', 'b'] as const) {
      expect(Math.abs(fit.params[k] - truth[k])).toBeLessThan(3 * fit.se![k]);
    }
  });

  it('Gamma-Gamma: p, q and v recovered within 3 standard errors (3,000 simulated repeat buyers)', () => {
    const truth = { p: 4, q: 5, v: 60 };
    const rng = new Rng(12, 0x99);
    const data = Array.from({ length: 3000 }, () => {
      const nu = gamma(rng, truth.q, truth.v);
      const x = 1 + Math.floor(rng.next() * 6);
      let total = 0;
      for (let i = 0; i < x; i++) total += gamma(rng, truth.p, nu);
      return { x, m: total / x };
    });
    const fit = fitGammaGamma(data);
    for (const k of ['p', 'q', 'v'] as const) expect(Math.abs(fit.params[k] - truth[k])).toBeLessThan(3 * fit.se![k]);
  });
});

describe('CLV', () => {
  const bg = { params: { r: 0.6, alpha: 25, a: 0.9, b: 3.5 }, logCovariance: [[0.01, 0, 0, 0], [0, 0.01, 0, 0], [0, 0, 0.02, 0], [0, 0, 0, 0.02]] };
  const gg = { params: { p: 4, q: 5, v: 60 }, logCovariance: [[0.01, 0, 0], [0, 0.01, 0], [0, 0, 0.01]] };
  const c = { x: 3, tx: 100, T: 200, monetary: 55 };
  const settings = { months: 12, annualDiscount: 0 };

  it('months are twelfths of a year in days, and undiscounted monthly purchases add up to the year', () => {
    expect(DAYS_PER_MONTH).toBeCloseTo(30.436875, 9);
    const monthly = monthlyPurchases(bg.params, c, 12);
    expect(monthly.reduce((s, v) => s + v, 0)).toBeCloseTo(expectedPurchases(bg.params, c, 365.2425), 10);
    expect(clv(bg.params, gg.params, c, settings)).toBeCloseTo(expectedPurchases(bg.params, c, 365.2425) * expectedSpend(gg.params, 3, 55), 9);
  });

  it('discounting lowers it; the interval brackets it and widens with the covariance', () => {
    const undiscounted = clv(bg.params, gg.params, c, settings);
    expect(clv(bg.params, gg.params, c, { months: 12, annualDiscount: 0.1 })).toBeLessThan(undiscounted);
    const ci = clvInterval(bg, gg, c, settings);
    expect(ci.lo).toBeLessThan(ci.value);
    expect(ci.hi).toBeGreaterThan(ci.value);
    const wider = clvInterval({ ...bg, logCovariance: bg.logCovariance.map((r) => r.map((v) => 4 * v)) }, gg, c, settings);
    expect(wider.hi - wider.lo).toBeGreaterThan(ci.hi - ci.lo);
  });
});

describe('rule view', () => {
  // Store gaps uniform on 0..100 days: quantile q is q·100 days; median 50.
  const gaps = { quantiles: Array.from({ length: 101 }, (_, i) => i) };
  const s = { shrinkOrders: 2, atRiskQuantile: 0.8, stoppedQuantile: 0.95 };

  it("judges the days since the last order on the customer's rhythm, shrunk toward the store's", () => {
    expect(gapCdf(gaps, 25)).toBeCloseTo(0.25, 12);
    expect(classify({ orders: 0, meanGap: null, daysSinceLast: null }, gaps, s).status).toBe('NO_ORDERS_YET');
    // One-time buyer: the store's median is the typical gap.
    expect(classify({ orders: 1, meanGap: null, daysSinceLast: 70 }, gaps, s)).toMatchObject({ status: 'ORDERING', typicalGap: 50 });
    expect(classify({ orders: 1, meanGap: null, daysSinceLast: 85 }, gaps, s).status).toBe('AT_RISK');
    expect(classify({ orders: 1, meanGap: null, daysSinceLast: 99 }, gaps, s).status).toBe('STOPPED_ORDERING');
    // A weekly buyer with 9 repeat gaps: typical (9·7 + 2·50)/11 = 14.8 days; 40 days is overdue.
    const weekly = classify({ orders: 10, meanGap: 7, daysSinceLast: 40 }, gaps, s);
    expect(weekly.typicalGap).toBeCloseTo((9 * 7 + 2 * 50) / 11, 12);
    expect(weekly.status).toBe('STOPPED_ORDERING');
    expect(classify({ orders: 10, meanGap: 7, daysSinceLast: 10 }, gaps, s).status).toBe('ORDERING');
  });
});

describe('holdout scores', () => {
  it('AUC equals the share of correctly ordered (positive, negative) pairs, ties half', () => {
    const rng = new Rng(3, 0x3);
    const score = Array.from({ length: 300 }, () => Math.round(rng.next() * 20));
    const positive = score.map((v) => rng.next() < v / 20);
    let pairs = 0;
    let wins = 0;
    for (let i = 0; i < score.length; i++) for (let j = 0; j < score.length; j++) {
      if (positive[i] && !positive[j]) {
        pairs++;
        wins += score[i]! > score[j]! ? 1 : score[i] === score[j] ? 0.5 : 0;
      }
    }
    expect(auc(score, positive)).toBeCloseTo(wins / pairs, 12);
    expect(auc([1, 2], [true, true])).toBeNull();
  });

  it('groups predicted and actual purchases by calibration frequency', () => {
    const g = byFrequency([0, 0, 1, 7, 9], [0.1, 0.2, 0.5, 3, 4], [0, 1, 0, 2, 5]);
    expect(g).toEqual([
      { x: '0', customers: 2, predicted: expect.closeTo(0.3, 12), actual: 1 },
      { x: '1', customers: 1, predicted: 0.5, actual: 0 },
      { x: '6+', customers: 2, predicted: 7, actual: 7 },
    ]);
  });
});

describe('degenerate fits give no figure rather than a wrong one', () => {
  it('Gamma-Gamma with q ≤ 1 has no mean spend for one-time buyers', () => {
    expect(expectedSpend({ p: 2, q: 0.8, v: 50 }, 0, 0)).toBeNaN();
    expect(expectedSpend({ p: 2, q: 0.8, v: 50 }, 3, 40)).toBeGreaterThan(0);
  });
  it('BG/NBD with a + b < 1 has no expected purchases for one-time buyers (₂F₁ would need c ≤ 0)', () => {
    const p = { r: 0.5, alpha: 10, a: 0.3, b: 0.5 };
    expect(expectedPurchases(p, { x: 0, tx: 0, T: 30 }, 30)).toBeNaN();
    expect(expectedPurchasesNew(p, 30)).toBeNaN();
    expect(expectedPurchases(p, { x: 2, tx: 10, T: 30 }, 30)).toBeGreaterThan(0);
  });
  it('the rule view without shrinkage falls back to the store median for a one-time buyer', () => {
    const gaps = { quantiles: Array.from({ length: 101 }, (_, i) => i) };
    expect(classify({ orders: 1, meanGap: null, daysSinceLast: 10 }, gaps, { shrinkOrders: 0, atRiskQuantile: 0.8, stoppedQuantile: 0.95 }))
      .toMatchObject({ status: 'ORDERING', typicalGap: 50 });
  });
});
