import { ingestAll, type IngestContext } from '../ingest/run.ts';
import { reconcileAll } from '../ingest/reconcile.ts';
import { refreshRollups } from '../models/kpis/rollups.ts';
import type { JobFn } from './runner.ts';

/**
 * The jobs pricecast runs. `ingest` pulls every entity incrementally then refreshes the rollups of the
 * days that moved; `reconcile` (daily) finds deletes and changes the cursors cannot see; `rollups`
 * rebuilds every rollup from the facts.
 */
export function defineJobs(ctx: IngestContext): Record<string, JobFn> {
  return {
    ingest: async ({ jobRunId }) => {
      const summary = await ingestAll(ctx, { jobRunId });
      const rollups = await refreshRollups(ctx.warehouse);
      return {
        rowsIn: summary.rowsIn,
        rowsOut: summary.rowsOut,
        rejected: summary.rejected,
        detail: { entities: summary.entities.map(({ entity, rowsIn, rowsOut, rejected, since, ms }) => ({ entity, rowsIn, rowsOut, rejected, since, ms })), rollups },
      };
    },
    reconcile: async ({ jobRunId }) => {
      const results = await reconcileAll(ctx, { jobRunId });
      const rollups = await refreshRollups(ctx.warehouse);
      // Once a day, whatever the WAL holds (see DUCKDB_CHECKPOINT_THRESHOLD).
      await ctx.warehouse.checkpoint();
      return {
        rowsIn: results.reduce((s, r) => s + r.sourceRows, 0),
        rowsOut: results.reduce((s, r) => s + (r.reloaded?.rowsOut ?? 0) + r.deleted, 0),
        rejected: results.reduce((s, r) => s + (r.reloaded?.rejected ?? 0), 0),
        detail: { entities: results, rollups },
      };
    },
    rollups: async () => {
      const rollups = await refreshRollups(ctx.warehouse, { full: true });
      return { detail: rollups };
    },
  };
}
