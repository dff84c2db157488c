import type { Warehouse } from '../../warehouse/warehouse.ts';
import { isoFromSql } from '../kpis/common.ts';
import type { ArmResult, ExperimentResult } from './analyze.ts';

/** Reads the latest experiments run of a tenant for the API. */

export interface RunInfo {
  run_id: number;
  computed_at: string;
  as_of: string | null;
}

interface ResultRow {
  run_id: string;
  computed_at: string;
  as_of: string | null;
  experiment_id: string;
  name: string | null;
  status: string | null;
  metric: string;
  started_at: string | null;
  last_unit_at: string | null;
  units: string;
  multi_arm_units: string;
  winsor_cap: number | null;
  result: string;
}

export interface ExperimentSummary {
  experiment_id: string;
  name: string | null;
  status: string | null;
  metric: string;
  started_at: string | null;
  last_unit_at: string | null;
  units: number;
  /** Units seen in more than one arm: left out of every arm. */
  multi_arm_units: number;
  srm: { p_value: number | null; flagged: boolean; skipped: string | null };
  primary_metric: string;
  verdict_basis: 'fixed_horizon' | 'sequential';
  arms: {
    variant: string; control: boolean; units: number; value: number | null;
    lift: number | null; ci: { lo: number; hi: number } | null; p_value: number | null; chance_to_win: number | null; verdict: string | null;
  }[];
}

export interface ExperimentDetail extends Omit<ExperimentSummary, 'arms'> {
  winsor_cap: number | null;
  alpha: number;
  correction: string;
  probability_best: { seed: number; draws: number };
  arms: ArmResult[];
}

const SELECT = `
  SELECT r.run_id::VARCHAR AS run_id, r.computed_at::VARCHAR AS computed_at, r.as_of::VARCHAR AS as_of,
         e.experiment_id, e.name, e.status, e.metric, e.started_at::VARCHAR AS started_at, e.last_unit_at::VARCHAR AS last_unit_at,
         e.units::VARCHAR AS units, e.multi_arm_units::VARCHAR AS multi_arm_units, e.winsor_cap, e.result::VARCHAR AS result
  FROM experiment_results e JOIN experiment_runs r USING (run_id)
  WHERE r.run_id = (SELECT max(run_id) FROM experiment_runs WHERE tenant_id = $tenant)`;

function common(r: ResultRow, result: ExperimentResult) {
  return {
    experiment_id: r.experiment_id, name: r.name, status: r.status, metric: r.metric,
    started_at: isoFromSql(r.started_at), last_unit_at: isoFromSql(r.last_unit_at),
    units: Number(r.units), multi_arm_units: Number(r.multi_arm_units),
    srm: { p_value: result.srm.pValue, flagged: result.srm.flagged, skipped: result.srm.skipped ?? null },
    primary_metric: result.primary_metric, verdict_basis: result.verdict_basis,
  };
}

function runOf(r: ResultRow | undefined): RunInfo | null {
  return r ? { run_id: Number(r.run_id), computed_at: isoFromSql(r.computed_at)!, as_of: isoFromSql(r.as_of) } : null;
}

/** Every experiment of the latest run, newest first, with the primary metric's line per arm. */
export async function listExperiments(wh: Warehouse, tenantId: string, status?: string): Promise<{ run: RunInfo | null; items: ExperimentSummary[] }> {
  const rows = await wh.query<ResultRow>(`${SELECT} ${status ? 'AND e.status = $status' : ''} ORDER BY e.started_at DESC NULLS LAST, e.experiment_id`,
    status ? { tenant: tenantId, status } : { tenant: tenantId });
  const items = rows.map((r) => {
    const result = JSON.parse(r.result) as ExperimentResult;
    const m = result.primary_metric;
    const sequential = result.verdict_basis === 'sequential';
    return {
      ...common(r, result),
      arms: result.arms.map((a) => {
        const c = a.comparisons?.[m] ?? null;
        return {
          variant: a.variant, control: a.control, units: a.units, value: a.metrics[m]?.mean ?? null,
          lift: c?.relative.estimate ?? null,
          ci: c ? (sequential ? c.sequential.ci : c.relative.ci) : null,
          p_value: c ? (sequential ? c.sequential.p_value_adjusted : c.relative.p_value_adjusted) : null,
          chance_to_win: c?.bayesian.chance_to_win ?? null,
          verdict: a.verdict,
        };
      }),
    };
  });
  return { run: runOf(rows[0]), items };
}

/** One experiment of the latest run, every metric and view; null when the run does not have it. */
export async function getExperiment(wh: Warehouse, tenantId: string, experimentId: string): Promise<{ run: RunInfo; experiment: ExperimentDetail } | null> {
  const [r] = await wh.query<ResultRow>(`${SELECT} AND e.experiment_id = $id`, { tenant: tenantId, id: experimentId });
  if (!r) return null;
  const result = JSON.parse(r.result) as ExperimentResult;
  return {
    run: runOf(r)!,
    experiment: {
      ...common(r, result), winsor_cap: r.winsor_cap, alpha: result.alpha, correction: result.correction,
      probability_best: result.probability_best, arms: result.arms,
    },
  };
}
