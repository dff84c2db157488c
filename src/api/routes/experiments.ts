import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { METRICS } from '../../models/experiments/analyze.ts';
import { getExperiment, listExperiments } from '../../models/experiments/get-experiments.ts';
import { jobFreshness } from '../../models/kpis/common.ts';
import type { Warehouse } from '../../warehouse/warehouse.ts';
import type { AppEnv } from '../context.ts';
import { csvResponse, wantsCsv } from '../csv.ts';
import { ApiError } from '../errors.ts';
import { csvFormat, jsonOrCsv, readTenant, tenantParam } from '../params.ts';

/** Results are stale when the experiments job's last run failed or none succeeded in this long. */
const STALE_HOURS = 3;

const interval = z.object({ lo: z.number(), hi: z.number() });
const run = z.object({ run_id: z.number().int(), computed_at: z.string(), as_of: z.string().nullable() }).nullable();
const freshness = {
  run,
  stale: z.boolean().openapi({ description: `True when the last experiments job failed or none succeeded in ${STALE_HOURS} hours.` }),
};
const srm = z.object({
  p_value: z.number().nullable(), flagged: z.boolean(),
  skipped: z.string().nullable().openapi({ description: 'Why the check was not evaluated (too few units)' }),
}).openapi({ description: "Sample-ratio mismatch: Pearson χ² of the arms' sizes against the configured split, flagged at p < 0.001. Read it first." });
const header = {
  experiment_id: z.string(), name: z.string().nullable(), status: z.string().nullable(), metric: z.string(),
  started_at: z.string().nullable(), last_unit_at: z.string().nullable(), units: z.number().int(),
  multi_arm_units: z.number().int().openapi({ description: 'Units seen in more than one arm; left out of every arm' }),
  srm,
  primary_metric: z.enum(METRICS),
  verdict_basis: z.enum(['fixed_horizon', 'sequential']).openapi({ description: 'A running experiment is judged on its anytime-valid results' }),
};
const summary = z.object({
  ...header,
  arms: z.array(z.object({
    variant: z.string(), control: z.boolean(), units: z.number().int(), value: z.number().nullable(),
    lift: z.number().nullable().openapi({ description: 'Relative lift of the primary metric over the control' }),
    ci: interval.nullable(), p_value: z.number().nullable().openapi({ description: 'Adjusted for several arms; anytime-valid while running' }),
    chance_to_win: z.number().nullable(), verdict: z.string().nullable(),
  })),
}).openapi('ExperimentSummary');
const comparison = z.object({
  relative: z.object({ estimate: z.number(), se: z.number(), ci: interval, p_value: z.number(), p_value_adjusted: z.number(), df: z.number() }),
  absolute: z.object({ estimate: z.number(), se: z.number(), ci: interval, p_value: z.number() }),
  sequential: z.object({ ci: interval, p_value: z.number(), p_value_adjusted: z.number(), tuning: z.number() }),
  bayesian: z.object({
    chance_to_win: z.number(), mean: z.number(), sd: z.number(), ci: interval,
    risk: z.object({ control: z.number(), treatment: z.number() }), chance_to_win_exact: z.number().nullable(),
  }),
}).nullable();
const arm = z.object({
  variant: z.string(), control: z.boolean(), units: z.number().int(), weight: z.number(), conversions: z.number().int(),
  metrics: z.record(z.string(), z.object({ mean: z.number(), sd: z.number() }).nullable()),
  comparisons: z.record(z.string(), comparison).nullable(),
  probability_best: z.record(z.string(), z.number()),
  power: z.object({
    mde_relative: z.number().nullable(), units_per_arm: z.number().nullable(), more_units_per_arm: z.number().nullable(),
    target: z.number(), power: z.number(),
  }).nullable(),
  verdict: z.string().nullable(),
});
const detail = z.object({
  ...header,
  winsor_cap: z.number().nullable().openapi({ description: 'Revenue cap of the winsorised metric (a percentile of the non-zero values)' }),
  alpha: z.number(), correction: z.enum(['holm', 'bh']),
  probability_best: z.object({ seed: z.number().int(), draws: z.number().int() }),
  arms: z.array(arm),
}).openapi('ExperimentDetail');


export function registerExperimentRoutes(app: OpenAPIHono<AppEnv>, deps: { warehouse: Warehouse; now: () => Date }): void {
  const wh = deps.warehouse;
  const stale = async (): Promise<boolean> => (await jobFreshness(wh, 'experiments', deps.now(), STALE_HOURS * 3_600_000)).stale;

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/experiments', tags: ['Experiments'], security: [{ bearerAuth: [] }],
      summary: 'A/B tests and their verdicts',
      description: 'Every experiment of the latest experiments run, newest first: the sample-ratio check, then per arm the primary '
        + 'metric, its relative lift over the control with an interval and p-value, the chance to win and a one-line verdict. '
        + 'CSV: one line per experiment and arm.',
      request: { query: z.object({ status: z.string().max(40).optional(), tenant: tenantParam, format: csvFormat }) },
      responses: jsonOrCsv(z.object({ tenant: z.string(), ...freshness, items: z.array(summary) }).openapi('Experiments'), 'Experiments'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
      const [list, isStale] = await Promise.all([listExperiments(wh, tenantId, q.status?.toLowerCase()), stale()]);
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = ['experiment_id', 'name', 'status', 'metric', 'srm_p_value', 'srm_flagged', 'variant', 'control', 'units', 'value',
          'lift', 'ci_lo', 'ci_hi', 'p_value', 'chance_to_win', 'verdict'];
        const rows = list.items.flatMap((e) => e.arms.map((a) => ({
          experiment_id: e.experiment_id, name: e.name, status: e.status, metric: e.primary_metric, srm_p_value: e.srm.p_value,
          srm_flagged: e.srm.flagged, variant: a.variant, control: a.control, units: a.units, value: a.value, lift: a.lift,
          ci_lo: a.ci?.lo ?? null, ci_hi: a.ci?.hi ?? null, p_value: a.p_value, chance_to_win: a.chance_to_win, verdict: a.verdict,
        })));
        return csvResponse(c, 'experiments', columns, rows) as never;
      }
      return c.json({ tenant: tenantId, run: list.run, stale: isStale, items: list.items }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get', path: '/v1/experiments/{id}', tags: ['Experiments'], security: [{ bearerAuth: [] }],
      summary: 'One A/B test in full',
      description: 'Per arm and metric (conversion rate, revenue per unit, winsorised revenue per unit): absolute and relative '
        + 'effects with Welch intervals and p-values (adjusted for several arms), anytime-valid confidence sequences, the Bayesian '
        + 'view (chance to win, credible interval, expected loss; exact Beta-Binomial chance for conversion), the probability '
        + 'of being best, power and the verdict. CSV: one line per arm and metric.',
      request: { params: z.object({ id: z.string().min(1).max(200) }), query: z.object({ tenant: tenantParam, format: csvFormat }) },
      responses: jsonOrCsv(z.object({ tenant: z.string(), ...freshness, experiment: detail }).openapi('ExperimentResponse'), 'Experiment'),
    }),
    async (c) => {
      const q = c.req.valid('query');
      const tenantId = readTenant(c, q.tenant);
      const [found, isStale] = await Promise.all([getExperiment(wh, tenantId, c.req.valid('param').id), stale()]);
      if (!found) throw new ApiError('not_found', 'No such experiment in the latest experiments run.');
      const e = found.experiment;
      if (wantsCsv(q.format, c.req.header('accept'))) {
        const columns = ['variant', 'control', 'units', 'metric', 'mean', 'sd', 'relative_lift', 'ci_lo', 'ci_hi', 'p_value', 'p_value_adjusted',
          'absolute_diff', 'abs_ci_lo', 'abs_ci_hi', 'seq_ci_lo', 'seq_ci_hi', 'seq_p_value', 'chance_to_win', 'chance_to_win_exact',
          'risk_control', 'risk_treatment', 'probability_best', 'verdict'];
        const rows = e.arms.flatMap((a) => METRICS.filter((m) => a.metrics[m]).map((m) => {
          const k = a.comparisons?.[m];
          return {
            variant: a.variant, control: a.control, units: a.units, metric: m, mean: a.metrics[m]!.mean, sd: a.metrics[m]!.sd,
            relative_lift: k?.relative.estimate, ci_lo: k?.relative.ci.lo, ci_hi: k?.relative.ci.hi, p_value: k?.relative.p_value,
            p_value_adjusted: k?.relative.p_value_adjusted, absolute_diff: k?.absolute.estimate, abs_ci_lo: k?.absolute.ci.lo,
            abs_ci_hi: k?.absolute.ci.hi, seq_ci_lo: k?.sequential.ci.lo, seq_ci_hi: k?.sequential.ci.hi, seq_p_value: k?.sequential.p_value,
            chance_to_win: k?.bayesian.chance_to_win, chance_to_win_exact: k?.bayesian.chance_to_win_exact,
            risk_control: k?.bayesian.risk.control, risk_treatment: k?.bayesian.risk.treatment,
            probability_best: a.probability_best[m], verdict: m === e.primary_metric ? a.verdict : null,
          };
        }));
        return csvResponse(c, `experiment-${e.experiment_id}`, columns, rows) as never;
      }
      return c.json({ tenant: tenantId, run: found.run, stale: isStale, experiment: e }, 200);
    },
  );
}
