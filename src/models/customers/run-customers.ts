import { DuckDBDateValue } from '@duckdb/node-api';
import { all, type Warehouse } from '../../warehouse/warehouse.ts';
import { dayNumber, isoDay, lastCompleteDay } from '../days.ts';
import { sqlTs, storedJson } from '../kpis/common.ts';
import {
  type BgNbdFit, expectedPurchases, fitBgNbd, probabilityAlive, probabilityNoPurchase, type Rfm,
} from './bgnbd.ts';
import { type ClvSettings, discountedPurchases } from './clv.ts';
import { expectedSpend, fitGammaGamma, type GammaGammaFit } from './gamma-gamma.ts';
import { auc, byFrequency, type FrequencyGroup } from './holdout.ts';
import { classify, type RuleSettings, type StoreGaps } from './rules.ts';

/**
 * The customers job's I/O: purchase summaries from orders (one row per customer, built in DuckDB),
 * the rule view, BG/NBD and Gamma-Gamma fits per tenant, a holdout check of the model on the store's
 * own recent days, and every customer's scores, stored per run (customer_model_runs + customer_scores).
 */

export interface CustomerJobOptions {
  rules: RuleSettings;
  clv: ClvSettings;
  /** k of P(no purchase in the next k days), the risk score. */
  riskDays: number;
  /** Days held out for the model's own check. */
  holdoutDays: number;
  now?: () => Date;
}

/** Orders that count as purchases: paid or fulfilled (cancelled, pending and refunded ones do not). */
export const PURCHASE_STATUSES = ['paid', 'fulfilled'];

/**
 * Purchases per customer and UTC day through `through` (a SQL DATE), for one tenant when `tenant`
 * names a parameter: the purchase occasions the models count (several orders on one day are one).
 * Every order counts for timing; the value `v` sums only the orders in the tenant's main currency
 * (the one most of its orders are in), since amounts in different currencies do not add up.
 */
export function purchasesSql(through: string, tenant?: '$tenant'): string {
  const only = tenant ? ` AND tenant_id = ${tenant}` : '';
  return `WITH main AS (
      SELECT tenant_id, arg_max(currency, n) AS currency FROM (SELECT tenant_id, currency, count(*) AS n FROM orders WHERE true${only} GROUP BY ALL) GROUP BY ALL
    )
    SELECT o.tenant_id, o.customer_id, CAST(o.created_at AS DATE) AS d, (sum(o.total) FILTER (WHERE o.currency = m.currency))::DOUBLE AS v
    FROM orders o JOIN main m USING (tenant_id)
    WHERE o.customer_id IS NOT NULL AND o.status IN (${PURCHASE_STATUSES.map((s) => `'${s}'`).join(', ')})
      AND CAST(o.created_at AS DATE) <= ${through}${only.replace('tenant_id', 'o.tenant_id')}
    GROUP BY ALL`;
}

/** Each tenant's main currency (see purchasesSql): what its spend and CLV are in. */
const MAIN_CURRENCY_SQL = `SELECT tenant_id, arg_max(currency, n) AS currency FROM (SELECT tenant_id, currency, count(*) AS n FROM orders GROUP BY ALL) GROUP BY ALL`;

/**
 * One row per customer from `purchases` (tenant_id, customer_id, d DATE, v): purchase days n, first
 * and last, x = n − 1 repeat purchases, t_x and T in units of `unitDays` days to `cutoff` (a SQL
 * DATE), and the mean value of the repeat purchase days (the first excluded), as Fader-Hardie-Lee
 * and `lifetimes` build it.
 */
export function summarySql(purchases: string, cutoff: string, unitDays = 1): string {
  return `SELECT tenant_id, customer_id, count(*) AS n, count(*) - 1 AS x,
      date_diff('day', min(d), max(d)) / ${unitDays} AS tx, date_diff('day', min(d), ${cutoff}) / ${unitDays} AS T,
      avg(v) FILTER (WHERE d > first) AS monetary,
      strftime(min(d), '%Y-%m-%d') AS first_day, strftime(max(d), '%Y-%m-%d') AS last_day
    FROM (SELECT *, min(d) OVER (PARTITION BY tenant_id, customer_id) AS first FROM (${purchases})) GROUP BY tenant_id, customer_id`;
}

interface SummaryRow {
  tenant_id: string;
  customer_id: string;
  n: string;
  x: string;
  tx: number;
  T: number;
  monetary: number | null;
  first_day: string;
  last_day: string;
}

export interface HoldoutReport {
  cutoff: string;
  days: number;
  customers: number;
  predicted: number;
  actual: number;
  by_frequency: FrequencyGroup[];
  /** AUC of P(no purchase in the holdout days) for "made no purchase in them". */
  auc_no_purchase: number | null;
  params: BgNbdFit['params'] | null;
}

export interface TenantModel {
  bgnbd: BgNbdFit | null;
  gammaGamma: GammaGammaFit | null;
  gaps: StoreGaps;
  holdout: HoldoutReport | null;
}

const QUANTILES = Array.from({ length: 101 }, (_, i) => i / 100);
const MIN_CUSTOMERS = 20;

/** A fit, or null with the reason recorded in `errors` (served by /v1/customers/model): a failed fit never fails the job. */
function tryFit<T>(name: string, errors: string[], fit: () => T): T | null {
  try {
    return fit();
  } catch (err) {
    errors.push(`${name}: ${(err as Error).message}`);
    return null;
  }
}

const rfmOf = (r: SummaryRow): Rfm => ({ x: Number(r.x), tx: r.tx, T: r.T });

async function holdoutReport(wh: Warehouse, tenant: string, lastDay: number, days: number, errors: string[]): Promise<HoldoutReport | null> {
  const cutoff = lastDay - days;
  const rows = await wh.query<SummaryRow & { later: string }>(`
    SELECT s.*, coalesce(h.later, 0)::VARCHAR AS later FROM (${summarySql(purchasesSql(`DATE '${isoDay(cutoff)}'`, '$tenant'), `DATE '${isoDay(cutoff)}'`)}) s
    LEFT JOIN (SELECT tenant_id, customer_id, count(*) AS later FROM (${purchasesSql(`DATE '${isoDay(lastDay)}'`, '$tenant')})
               WHERE d > DATE '${isoDay(cutoff)}' GROUP BY ALL) h USING (tenant_id, customer_id)`, { tenant });
  if (rows.length < MIN_CUSTOMERS || !rows.some((r) => Number(r.x) > 0)) return null;
  const fit = tryFit('holdout BG/NBD', errors, () => fitBgNbd(rows.map(rfmOf)));
  if (!fit) return null;
  const x = rows.map((r) => Number(r.x));
  const predicted = rows.map((r) => expectedPurchases(fit.params, rfmOf(r), days));
  const actual = rows.map((r) => Number(r.later));
  return {
    cutoff: isoDay(cutoff), days, customers: rows.length,
    predicted: predicted.reduce((s, v) => s + v, 0), actual: actual.reduce((s, v) => s + v, 0),
    by_frequency: byFrequency(x, predicted, actual),
    auc_no_purchase: auc(rows.map((r) => probabilityNoPurchase(fit.params, rfmOf(r), days)), actual.map((a) => a === 0)),
    params: fit.params,
  };
}

export interface CustomerScore {
  customerId: string;
  orders: number;
  x: number;
  tx: number;
  T: number;
  firstDay: number | null;
  lastDay: number | null;
  monetary: number | null;
  status: string;
  typicalGap: number | null;
  expectedNext: number | null;
  pAlive: number | null;
  exp30: number | null;
  exp90: number | null;
  exp365: number | null;
  pNoPurchase: number | null;
  spend: number | null;
  clv: number | null;
  valueAtRisk: number | null;
}

/** Scores of every customer of one tenant under its model (the model parts null when it could not be fitted). */
export function scoreCustomers(rows: SummaryRow[], model: TenantModel, opts: CustomerJobOptions): CustomerScore[] {
  const bg = model.bgnbd?.params;
  const gg = model.gammaGamma?.params;
  // Customers with the same (x, t_x, T) share every model figure: compute each once.
  type ModelFigures = { pAlive: number; exp30: number; exp90: number; exp365: number; pNoPurchase: number; discounted: number };
  const cache = new Map<string, ModelFigures>();
  return rows.map((r) => {
    const c = rfmOf(r);
    const orders = Number(r.n);
    const rule = classify({ orders, meanGap: c.x > 0 ? c.tx / c.x : null, daysSinceLast: c.T - c.tx }, model.gaps, opts.rules);
    const first = dayNumber(r.first_day);
    const last = dayNumber(r.last_day);
    let m: ModelFigures | undefined;
    if (bg) {
      const k = `${c.x}|${c.tx}|${c.T}`;
      m = cache.get(k);
      if (!m) {
        m = {
          pAlive: probabilityAlive(bg, c), exp30: expectedPurchases(bg, c, 30), exp90: expectedPurchases(bg, c, 90),
          exp365: expectedPurchases(bg, c, 365), pNoPurchase: probabilityNoPurchase(bg, c, opts.riskDays),
          discounted: discountedPurchases(bg, c, opts.clv),
        };
        cache.set(k, m);
      }
    }
    const spend = gg ? expectedSpend(gg, c.x, c.x > 0 ? r.monetary ?? 0 : 0) : null;
    const value = m && spend !== null ? m.discounted * spend : null;
    return {
      customerId: r.customer_id, orders, x: c.x, tx: c.tx, T: c.T, firstDay: first, lastDay: last, monetary: r.monetary,
      status: rule.status, typicalGap: rule.typicalGap, expectedNext: rule.typicalGap !== null ? last + Math.round(rule.typicalGap) : null,
      pAlive: m?.pAlive ?? null, exp30: m?.exp30 ?? null, exp90: m?.exp90 ?? null, exp365: m?.exp365 ?? null, pNoPurchase: m?.pNoPurchase ?? null,
      spend, clv: value, valueAtRisk: value !== null && m ? m.pNoPurchase * value : null,
    };
  });
}

/** Fits and scores every tenant's customers and stores one run per tenant. */
export async function runCustomers(wh: Warehouse, opts: CustomerJobOptions): Promise<{ runs: number; customers: number; asOf: string | null }> {
  const state = await lastCompleteDay(wh);
  if (!state) return { runs: 0, customers: 0, asOf: null };
  const { lastDay } = state;
  const cutoff = `DATE '${isoDay(lastDay)}'`;
  const summaries = await wh.query<SummaryRow>(`${summarySql(purchasesSql(cutoff), cutoff)} ORDER BY tenant_id, customer_id`);
  const never = await wh.query<{ tenant_id: string; customer_id: string }>(`
    SELECT tenant_id, customer_id FROM customers
    ANTI JOIN (${purchasesSql(cutoff)}) p USING (tenant_id, customer_id) ORDER BY ALL`);
  const gapRows = await wh.query<{ tenant_id: string; q: number[] }>(`
    SELECT tenant_id, quantile_cont(gap, [${QUANTILES.join(', ')}]) AS q FROM (
      SELECT tenant_id, date_diff('day', lag(d) OVER (PARTITION BY tenant_id, customer_id ORDER BY d), d) AS gap FROM (${purchasesSql(cutoff)})
    ) WHERE gap IS NOT NULL GROUP BY ALL`);
  const currencies = new Map((await wh.query<{ tenant_id: string; currency: string }>(MAIN_CURRENCY_SQL)).map((r) => [r.tenant_id, r.currency]));
  const byTenant = <T extends { tenant_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) {
      if (!m.has(r.tenant_id)) m.set(r.tenant_id, []);
      m.get(r.tenant_id)!.push(r);
    }
    return m;
  };
  const summariesBy = byTenant(summaries);
  const neverBy = byTenant(never);
  const tenants = [...new Set([...summariesBy.keys(), ...neverBy.keys()])].sort();
  const computedAt = sqlTs(opts.now?.() ?? new Date());
  let scored = 0;
  for (const tenant of tenants) {
    const rows = summariesBy.get(tenant) ?? [];
    const data = rows.map(rfmOf);
    const errors: string[] = [];
    const bgnbd = data.length >= MIN_CUSTOMERS && data.some((d) => d.x > 0) ? tryFit('BG/NBD', errors, () => fitBgNbd(data)) : null;
    const repeat = rows.filter((r) => Number(r.x) > 0 && (r.monetary ?? 0) > 0).map((r) => ({ x: Number(r.x), m: r.monetary! }));
    const gammaGamma = repeat.length >= MIN_CUSTOMERS ? tryFit('Gamma-Gamma', errors, () => fitGammaGamma(repeat)) : null;
    const gaps = { quantiles: (gapRows.find((g) => g.tenant_id === tenant)?.q ?? []).map(Number) };
    const model: TenantModel = { bgnbd, gammaGamma, gaps, holdout: await holdoutReport(wh, tenant, lastDay, opts.holdoutDays, errors) };
    const scores = scoreCustomers(rows, model, opts);
    const none = neverBy.get(tenant) ?? [];
    await wh.transaction(async (conn) => {
      const [run] = await all<{ run_id: string }>(conn, `
        INSERT INTO customer_model_runs (tenant_id, computed_at, as_of, last_day, customers, currency, bgnbd, gamma_gamma, gaps, holdout, fit_errors, settings)
        VALUES ($tenant, $computed::TIMESTAMP, $asOf::TIMESTAMP, $lastDay::DATE, $customers, $currency, $bgnbd::JSON, $gg::JSON, $gaps::JSON, $holdout::JSON, $errors::JSON, $settings::JSON)
        RETURNING run_id`, {
        tenant, computed: computedAt, asOf: state.asOf, lastDay: isoDay(lastDay), customers: scores.length + none.length,
        currency: currencies.get(tenant) ?? null, errors: storedJson(errors),
        bgnbd: storedJson(bgnbd), gg: storedJson(gammaGamma), gaps: storedJson(gaps), holdout: storedJson(model.holdout),
        settings: storedJson({ rules: opts.rules, clv: opts.clv, riskDays: opts.riskDays, holdoutDays: opts.holdoutDays }),
      });
      const runId = BigInt(run!.run_id);
      const appender = await conn.createAppender('customer_scores');
      const num = (v: number | null) => (v === null || !Number.isFinite(v) ? appender.appendNull() : appender.appendDouble(v));
      const day = (v: number | null) => (v === null ? appender.appendNull() : appender.appendDate(new DuckDBDateValue(v)));
      for (const s of scores) {
        appender.appendBigInt(runId);
        appender.appendVarchar(s.customerId);
        appender.appendInteger(s.orders);
        appender.appendInteger(s.x);
        num(s.tx);
        num(s.T);
        day(s.firstDay);
        day(s.lastDay);
        num(s.monetary);
        appender.appendVarchar(s.status);
        num(s.typicalGap);
        day(s.expectedNext);
        num(s.pAlive);
        num(s.exp30);
        num(s.exp90);
        num(s.exp365);
        num(s.pNoPurchase);
        num(s.spend);
        num(s.clv);
        num(s.valueAtRisk);
        appender.endRow();
      }
      for (const n of none) {
        appender.appendBigInt(runId);
        appender.appendVarchar(n.customer_id);
        appender.appendInteger(0);
        for (let i = 0; i < 17; i++) {
          if (i === 6) appender.appendVarchar('NO_ORDERS_YET');
          else appender.appendNull();
        }
        appender.endRow();
      }
      appender.closeSync();
    });
    scored += scores.length + none.length;
  }
  return { runs: tenants.length, customers: scored, asOf: state.asOf };
}
