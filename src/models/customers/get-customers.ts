import type { Warehouse } from '../../warehouse/warehouse.ts';
import { isoFromSql } from '../kpis/common.ts';
import type { BgNbdFit } from './bgnbd.ts';
import { clvInterval, DAYS_PER_MONTH } from './clv.ts';
import type { GammaGammaFit } from './gamma-gamma.ts';
import { STATUSES, type Status } from './rules.ts';
import type { HoldoutReport } from './run-customers.ts';

/** Reads the latest customer model run of a tenant for the API. */

interface RunRow {
  run_id: string;
  computed_at: string;
  as_of: string;
  last_day: string;
  customers: string;
  currency: string | null;
  bgnbd: string | null;
  gamma_gamma: string | null;
  gaps: string | null;
  holdout: string | null;
  fit_errors: string | null;
  settings: string;
}

export interface CustomerRun {
  run_id: number;
  computed_at: string;
  as_of: string;
  last_day: string;
  /** What spend, CLV and value at risk are in: the tenant's main currency. */
  currency: string | null;
}

interface ScoreRow {
  customer_id: string;
  orders: number;
  x: number | null;
  tx: number | null;
  T: number | null;
  first_order: string | null;
  last_order: string | null;
  monetary: number | null;
  status: Status;
  typical_gap: number | null;
  expected_next_order: string | null;
  p_alive: number | null;
  expected_30: number | null;
  expected_90: number | null;
  expected_365: number | null;
  p_no_purchase: number | null;
  spend: number | null;
  clv: number | null;
  value_at_risk: number | null;
}

export type CustomerItem = Omit<ScoreRow, 'x' | 'tx' | 'T' | 'monetary'> & { days_since_last_order: number | null };

async function latestRun(wh: Warehouse, tenantId: string): Promise<RunRow | null> {
  const [r] = await wh.query<RunRow>(`
    SELECT run_id::VARCHAR AS run_id, computed_at::VARCHAR AS computed_at, as_of::VARCHAR AS as_of, last_day::VARCHAR AS last_day,
           customers::VARCHAR AS customers, currency, bgnbd::VARCHAR AS bgnbd, gamma_gamma::VARCHAR AS gamma_gamma, gaps::VARCHAR AS gaps,
           holdout::VARCHAR AS holdout, fit_errors::VARCHAR AS fit_errors, settings::VARCHAR AS settings
    FROM customer_model_runs WHERE tenant_id = $tenant ORDER BY run_id DESC LIMIT 1`, { tenant: tenantId });
  return r ?? null;
}

const runInfo = (r: RunRow): CustomerRun => ({
  run_id: Number(r.run_id), computed_at: isoFromSql(r.computed_at)!, as_of: isoFromSql(r.as_of)!, last_day: r.last_day, currency: r.currency,
});

const SCORE_COLUMNS = `customer_id, orders, x, tx, "T", first_order::VARCHAR AS first_order, last_order::VARCHAR AS last_order, monetary, status,
  typical_gap, expected_next_order::VARCHAR AS expected_next_order, p_alive, expected_30, expected_90, expected_365, p_no_purchase, spend, clv, value_at_risk`;

function item(r: ScoreRow): CustomerItem {
  const { x: _x, tx, T, monetary: _m, ...rest } = r;
  return { ...rest, days_since_last_order: T !== null && tx !== null ? T - tx : null };
}

/** Keyset cursor over (value at risk, customer id), opaque to clients. */
export function encodeCursor(value: number, id: string): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { value: number; id: string } | null {
  try {
    const [value, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    return typeof value === 'number' && typeof id === 'string' ? { value, id } : null;
  } catch {
    return null;
  }
}

export interface AtRiskPage {
  run: CustomerRun | null;
  risk_days: number | null;
  /** Customers matching the filters, and their total value at risk. */
  total: number;
  value_at_risk: number;
  items: CustomerItem[];
  next_cursor: string | null;
}

/** Customers by expected lost value, largest first; `statuses` and `minValue` filter, `cursor` continues a page. */
export async function atRisk(
  wh: Warehouse,
  q: { tenantId: string; statuses: Status[]; minValue: number; limit: number; cursor: { value: number; id: string } | null },
): Promise<AtRiskPage> {
  const run = await latestRun(wh, q.tenantId);
  if (!run) return { run: null, risk_days: null, total: 0, value_at_risk: 0, items: [], next_cursor: null };
  // Without a value (no fitted model, or none for this customer) a customer sorts last, by id, and
  // only a minimum above 0 leaves it out.
  const key = 'coalesce(value_at_risk, -1)';
  const statuses = q.statuses.filter((st) => (STATUSES as readonly string[]).includes(st)).map((st) => `'${st}'`);
  const where = `run_id = $run AND status IN (${statuses.length ? statuses.join(', ') : 'NULL'})${q.minValue > 0 ? ' AND value_at_risk >= $min' : ''}`;
  const params: Record<string, number> = q.minValue > 0 ? { run: Number(run.run_id), min: q.minValue } : { run: Number(run.run_id) };
  const [totals] = await wh.query<{ n: string; v: number | null }>(`SELECT count(*)::VARCHAR AS n, sum(value_at_risk) AS v FROM customer_scores WHERE ${where}`, params);
  const page = await wh.query<ScoreRow & { k: number }>(`
    SELECT ${SCORE_COLUMNS}, ${key} AS k FROM customer_scores
    WHERE ${where} ${q.cursor ? `AND (${key} < $cv OR (${key} = $cv AND customer_id > $cid))` : ''}
    ORDER BY k DESC, customer_id LIMIT ${q.limit + 1}`, q.cursor ? { ...params, cv: q.cursor.value, cid: q.cursor.id } : params);
  const more = page.length > q.limit;
  const items = page.slice(0, q.limit);
  const last = items.at(-1);
  return {
    run: runInfo(run), risk_days: (JSON.parse(run.settings) as { riskDays: number }).riskDays,
    total: Number(totals?.n ?? 0), value_at_risk: totals?.v ?? 0,
    items: items.map(({ k: _k, ...r }) => item(r)),
    next_cursor: more && last ? encodeCursor(last.k, last.customer_id) : null,
  };
}

export interface CustomerDetail extends CustomerItem {
  run: CustomerRun;
  repeat_purchases: number | null;
  mean_repeat_value: number | null;
  clv_interval: { lo: number; hi: number; level: number; months: number } | null;
  history: { order_id: string; created_at: string; status: string; total: string; currency: string }[];
}

/** One customer: scores, a CLV interval from the fits' covariances, and the order history. */
export async function customerDetail(wh: Warehouse, tenantId: string, customerId: string): Promise<CustomerDetail | null> {
  const run = await latestRun(wh, tenantId);
  if (!run) return null;
  const [row] = await wh.query<ScoreRow>(`SELECT ${SCORE_COLUMNS} FROM customer_scores WHERE run_id = $run AND customer_id = $id`,
    { run: Number(run.run_id), id: customerId });
  if (!row) return null;
  const history = await wh.query<{ order_id: string; created_at: string; status: string; total: string; currency: string }>(`
    SELECT order_id, created_at::VARCHAR AS created_at, status, total::VARCHAR AS total, currency
    FROM orders WHERE tenant_id = $tenant AND customer_id = $id ORDER BY created_at, order_id`, { tenant: tenantId, id: customerId });
  const bg = run.bgnbd ? (JSON.parse(run.bgnbd) as BgNbdFit) : null;
  const gg = run.gamma_gamma ? (JSON.parse(run.gamma_gamma) as GammaGammaFit) : null;
  const settings = JSON.parse(run.settings) as { clv: { months: number; annualDiscount: number } };
  let interval: CustomerDetail['clv_interval'] = null;
  if (bg && gg && row.x !== null && row.tx !== null && row.T !== null) {
    const ci = clvInterval(bg, gg, { x: row.x, tx: row.tx, T: row.T, monetary: row.monetary ?? 0 }, settings.clv);
    interval = { lo: ci.lo, hi: ci.hi, level: ci.level, months: settings.clv.months };
  }
  return {
    run: runInfo(run), ...item(row), repeat_purchases: row.x, mean_repeat_value: row.monetary, clv_interval: interval,
    history: history.map((h) => ({ ...h, created_at: isoFromSql(h.created_at)! })),
  };
}

export interface ModelReport {
  run: CustomerRun;
  customers: number;
  time_unit: 'day';
  days_per_month: number;
  bgnbd: BgNbdFit | null;
  gamma_gamma: GammaGammaFit | null;
  settings: unknown;
  statuses: Record<string, number>;
  value_at_risk: number;
  repurchase_gap_days: { median: number; p80: number; p95: number } | null;
  holdout: HoldoutReport | null;
  /** Why a fit failed, if one did (its figures are then null). */
  fit_errors: string[];
}

/** The fitted models with their uncertainty, the rule view's store gaps and the holdout report. */
export async function modelReport(wh: Warehouse, tenantId: string): Promise<ModelReport | null> {
  const run = await latestRun(wh, tenantId);
  if (!run) return null;
  const counts = await wh.query<{ status: string; n: string; v: number | null }>(
    `SELECT status, count(*)::VARCHAR AS n, sum(value_at_risk) AS v FROM customer_scores WHERE run_id = $run GROUP BY ALL ORDER BY 1`, { run: Number(run.run_id) });
  const gaps = run.gaps ? (JSON.parse(run.gaps) as { quantiles: number[] }).quantiles : [];
  return {
    run: runInfo(run), customers: Number(run.customers), time_unit: 'day', days_per_month: DAYS_PER_MONTH,
    bgnbd: run.bgnbd ? JSON.parse(run.bgnbd) : null, gamma_gamma: run.gamma_gamma ? JSON.parse(run.gamma_gamma) : null,
    settings: JSON.parse(run.settings),
    statuses: Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])),
    value_at_risk: counts.reduce((s, c) => s + (c.v ?? 0), 0),
    repurchase_gap_days: gaps.length === 101 ? { median: gaps[50]!, p80: gaps[80]!, p95: gaps[95]! } : null,
    holdout: run.holdout ? JSON.parse(run.holdout) : null,
    fit_errors: run.fit_errors ? JSON.parse(run.fit_errors) : [],
  };
}
