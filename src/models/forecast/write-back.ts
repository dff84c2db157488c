import type pg from 'pg';
import type { Warehouse } from '../../warehouse/warehouse.ts';

/**
 * Optional write-back (FORECAST_WRITE_BACK) of the latest daily revenue forecast into seed 004's
 * `revenue_predictions` (date, predicted_revenue, confidence, timeframe). That table has neither a
 * currency nor a tenant nor a writer column, so only the configured tenant's series in the shop's
 * currency is written, and rows are appended, never updated or deleted (rows another system wrote are
 * indistinguishable from ours): a reader takes the newest `created_at` per date. `confidence` is the
 * backtest coverage of the 80% interval (how often a day fell inside it), `timeframe` is 'daily'.
 */
export async function writeRevenuePredictions(source: pg.Pool, wh: Warehouse, q: { tenantId: string; currency: string }): Promise<number> {
  const [run] = await wh.query<{ run_id: string; coverage: string }>(`
    SELECT run_id::VARCHAR AS run_id, coverage::VARCHAR AS coverage FROM forecast_runs
    WHERE tenant_id = $t AND metric = 'revenue_net' AND currency = $c ORDER BY run_id DESC LIMIT 1`, { t: q.tenantId, c: q.currency });
  if (!run) return 0;
  const points = await wh.query<{ day: string; point: number }>(
    `SELECT strftime(day, '%Y-%m-%d') AS day, point FROM forecast_points WHERE run_id = $r::BIGINT ORDER BY h`, { r: run.run_id });
  const coverage = (JSON.parse(run.coverage) as Record<string, number | null>)['80'] ?? null;
  const confidence = coverage === null ? null : Math.min(0.99, Math.max(0, Math.round(coverage * 100) / 100));
  if (points.length === 0) return 0;
  const values = points.map((_, i) => `($${3 * i + 1}::date, $${3 * i + 2}::numeric(10,2), $${3 * i + 3}::numeric(3,2), 'daily', now() AT TIME ZONE 'UTC')`);
  await source.query(`INSERT INTO revenue_predictions (date, predicted_revenue, confidence, timeframe, created_at) VALUES ${values.join(', ')}`,
    points.flatMap((p) => [p.day, p.point.toFixed(2), confidence]));
  return points.length;
}
