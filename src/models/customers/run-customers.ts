import { DuckDBDateValue } from '@duckdb/node-api';
import { all, type Warehouse } from '../../warehouse/warehouse.ts';
import { dayNumber, isoDay, lastCompleteDay } from '../days.ts';
import { pruneRuns, sqlTs, storedJson } from '../kpis/common.ts';
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
  /** Runs kept per tenant (older ones, a million score rows each at scale, are removed after each run). */
  keepRuns: number;
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
  return `WITH main AS (${mainCurrencySql(tenant)})
    SELECT o.tenant_id, o.customer_id, CAST(o.created_at AS DATE) AS d, (sum(o.total) FILTER (WHERE o.currency = m.currency))::DOUBLE AS v
    FROM orders o JOIN main m USING (tenant_id)
    WHERE o.customer_id IS NOT NULL AND o.status IN (${PURCHASE_STATUSES.map((s) => `'${s}'`).join(', ')})
      AND CAST(o.created_at AS DATE) <= ${through}${only.replace('tenant_id', 'o.tenant_id')}
    GROUP BY ALL`;
}

/** Each tenant's main currency, the one most of its orders are in (one tenant's with `tenant`): what its spend and CLV are in. */
function mainCurrencySql(tenant?: '$tenant'): string {
  return `SELECT tenant_id, arg_max(currency, n) AS currency
    FROM (SELECT tenant_id, currency, count(*) AS n FROM orders ${tenant ? `WHERE tenant_id = ${tenant} ` : ''}GROUP BY ALL) GROUP BY ALL`;
}

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
/** Scores appended per write: large enough to amortise an appender, small enough to keep memory flat. */
const APPEND_ROWS = 50_000;
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
  const calibration = summarySql(purchasesSql(`DATE '${isoDay(cutoff)}'`, '$tenant'), `DATE '${isoDay(cutoff)}'`);
  const data = await foldedSummaries(wh, calibration, tenant);
  const customers = data.reduce((s, d) => s + d.w, 0);
  if (customers < MIN_CUSTOMERS || !data.some((d) => d.x > 0)) return null;
  const fit = tryFit('holdout BG/NBD', errors, () => fitBgNbd(data));
  if (!fit) return null;
  const x: number[] = [];
  const predicted: number[] = [];
  const risk: number[] = [];
  const actual: number[] = [];
  const later = `SELECT tenant_id, customer_id, count(*) AS later FROM (${purchasesSql(`DATE '${isoDay(lastDay)}'`, '$tenant')})
    WHERE d > DATE '${isoDay(cutoff)}' GROUP BY ALL`;
  for await (const chunk of wh.stream<{ x: number; tx: number; T: number; later: number }>(`
    SELECT s.x::INTEGER AS x, s.tx, s.T, coalesce(h.later, 0)::INTEGER AS later
    FROM (${calibration}) s LEFT JOIN (${later}) h USING (tenant_id, customer_id)`, { tenant })) {
    for (const r of chunk) {
      x.push(r.x);
      predicted.push(expectedPurchases(fit.params, r, days));
      risk.push(probabilityNoPurchase(fit.params, r, days));
      actual.push(r.later);
    }
  }
  return {
    cutoff: isoDay(cutoff), days, customers: x.length,
    predicted: predicted.reduce((s, v) => s + v, 0), actual: actual.reduce((s, v) => s + v, 0),
    by_frequency: byFrequency(x, predicted, actual),
    auc_no_purchase: auc(risk, actual.map((a) => a === 0)),
    params: fit.params,
  };
}

/** A tenant's summaries grouped by (x, t_x, T) with their counts: what the BG/NBD likelihood needs. */
async function foldedSummaries(wh: Warehouse, summary: string, tenant: string): Promise<(Rfm & { w: number })[]> {
  const rows = await wh.query<{ x: number; tx: number; T: number; w: number }>(
    `SELECT x::INTEGER AS x, tx, T, count(*)::INTEGER AS w FROM (${summary}) GROUP BY ALL`, { tenant });
  return rows.map((r) => ({ x: r.x, tx: r.tx, T: r.T, w: r.w }));
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

/** The model's figures of one (x, t_x, T): every customer with that summary shares them. */
export type ModelFigures = { pAlive: number; exp30: number; exp90: number; exp365: number; pNoPurchase: number; discounted: number };

/**
 * Scores of customers of one tenant under its model (the model parts null when it could not be
 * fitted). `cache` carries the figures per distinct summary across the chunks of one tenant.
 */
export function scoreCustomers(rows: SummaryRow[], model: TenantModel, opts: CustomerJobOptions, cache = new Map<string, ModelFigures>()): CustomerScore[] {
  const bg = model.bgnbd?.params;
  const gg = model.gammaGamma?.params;
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
/**
 * Fits and scores every tenant's customers, one run per tenant. The fits read grouped summaries and
 * the scores stream through in chunks, so memory does not grow with the customer base; each chunk is
 * appended on its own and the run row, which makes the run visible, is written last.
 */
export async function runCustomers(wh: Warehouse, opts: CustomerJobOptions): Promise<{ runs: number; customers: number; asOf: string | null }> {
  const state = await lastCompleteDay(wh);
  if (!state) return { runs: 0, customers: 0, asOf: null };
  const { lastDay } = state;
  const cutoff = `DATE '${isoDay(lastDay)}'`;
  // Scores of a run that died before its run row: never visible, removed now.
  await wh.withWriter((c) => c.run(`DELETE FROM customer_scores WHERE run_id NOT IN (SELECT run_id FROM customer_model_runs)`));
  const tenants = (await wh.query<{ tenant_id: string }>(`
    SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM orders UNION ALL SELECT tenant_id FROM customers) ORDER BY 1`)).map((t) => t.tenant_id);
  const currencies = new Map((await wh.query<{ tenant_id: string; currency: string }>(mainCurrencySql())).map((r) => [r.tenant_id, r.currency]));
  const computedAt = sqlTs(opts.now?.() ?? new Date());
  let scored = 0;
  for (const tenant of tenants) {
    const summary = summarySql(purchasesSql(cutoff, '$tenant'), cutoff);
    const errors: string[] = [];
    const folded = await foldedSummaries(wh, summary, tenant);
    const customers = folded.reduce((s, d) => s + d.w, 0);
    const bgnbd = customers >= MIN_CUSTOMERS && folded.some((d) => d.x > 0) ? tryFit('BG/NBD', errors, () => fitBgNbd(folded)) : null;
    const repeat = await wh.query<{ x: number; m: number }>(
      `SELECT x::INTEGER AS x, monetary AS m FROM (${summary}) WHERE x > 0 AND monetary > 0`, { tenant });
    const gammaGamma = repeat.length >= MIN_CUSTOMERS ? tryFit('Gamma-Gamma', errors, () => fitGammaGamma(repeat)) : null;
    const [gapRow] = await wh.query<{ q: number[] | null }>(`
      SELECT quantile_cont(gap, [${QUANTILES.join(', ')}]) AS q FROM (
        SELECT date_diff('day', lag(d) OVER (PARTITION BY customer_id ORDER BY d), d) AS gap FROM (${purchasesSql(cutoff, '$tenant')})
      ) WHERE gap IS NOT NULL`, { tenant });
    const gaps = { quantiles: (gapRow?.q ?? []).map(Number) };
    const model: TenantModel = { bgnbd, gammaGamma, gaps, holdout: await holdoutReport(wh, tenant, lastDay, opts.holdoutDays, errors) };
    const [{ id } = { id: '0' }] = await wh.query<{ id: string }>(`SELECT nextval('customer_model_runs_seq')::VARCHAR AS id`);
    const runId = BigInt(id);
    let written = 0;
    const figures = new Map<string, ModelFigures>();
    // DuckDB hands over 2,048 rows at a time; appending every one of those cost an appender each.
    let pending: CustomerScore[] = [];
    for await (const chunk of wh.stream<SummaryRow>(summary, { tenant })) {
      pending.push(...scoreCustomers(chunk, model, opts, figures));
      if (pending.length >= APPEND_ROWS) {
        await appendScores(wh, runId, pending);
        written += pending.length;
        pending = [];
      }
    }
    await appendScores(wh, runId, pending);
    written += pending.length;
    for await (const chunk of wh.stream<{ customer_id: string }>(`
      SELECT c.customer_id FROM customers c ANTI JOIN (${purchasesSql(cutoff, '$tenant')}) p USING (customer_id)
      WHERE c.tenant_id = $tenant`, { tenant })) {
      await appendNoOrders(wh, runId, chunk.map((c) => c.customer_id));
      written += chunk.length;
    }
    await wh.transaction(async (conn) => {
      await conn.run(`
      INSERT INTO customer_model_runs (run_id, tenant_id, computed_at, as_of, last_day, customers, currency, bgnbd, gamma_gamma, gaps, holdout, fit_errors, settings)
      VALUES ($run, $tenant, $computed::TIMESTAMP, $asOf::TIMESTAMP, $lastDay::DATE, $customers, $currency, $bgnbd::JSON, $gg::JSON, $gaps::JSON, $holdout::JSON, $errors::JSON, $settings::JSON)`, {
      run: Number(runId), tenant, computed: computedAt, asOf: state.asOf, lastDay: isoDay(lastDay), customers: written,
      currency: currencies.get(tenant) ?? null, errors: storedJson(errors),
      bgnbd: storedJson(bgnbd), gg: storedJson(gammaGamma), gaps: storedJson(gaps), holdout: storedJson(model.holdout),
      settings: storedJson({ rules: opts.rules, clv: opts.clv, riskDays: opts.riskDays, holdoutDays: opts.holdoutDays }),
      });
      await pruneRuns(conn, 'customer_model_runs', 'customer_scores', opts.keepRuns);
    });
    scored += written;
  }
  return { runs: tenants.length, customers: scored, asOf: state.asOf };
}

/** One chunk of scores into customer_scores (column order as migration 12 declares it). */
async function appendScores(wh: Warehouse, runId: bigint, scores: CustomerScore[]): Promise<void> {
  await wh.withWriter(async (conn) => {
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
    appender.closeSync();
  });
}

/** Customers without a purchase: status NO_ORDERS_YET, every figure null. */
async function appendNoOrders(wh: Warehouse, runId: bigint, ids: string[]): Promise<void> {
  await wh.withWriter(async (conn) => {
    const appender = await conn.createAppender('customer_scores');
    for (const id of ids) {
      appender.appendBigInt(runId);
      appender.appendVarchar(id);
      appender.appendInteger(0);
      // x … monetary, then the status, then typical_gap … value_at_risk.
      for (let i = 0; i < 6; i++) appender.appendNull();
      appender.appendVarchar('NO_ORDERS_YET');
      for (let i = 0; i < 10; i++) appender.appendNull();
      appender.endRow();
    }
    appender.closeSync();
  });
}
