import type { DuckDBConnection } from '@duckdb/node-api';
import type { Warehouse } from '../../warehouse/warehouse.ts';

/** A tenant and a half-open UTC range [from, to) already aligned to the 15-minute rollup grid. */
export interface KpiRange {
  tenantId: string;
  from: Date;
  to: Date;
}

/** Date → DuckDB TIMESTAMP text (UTC wall time), for named parameters cast with ::TIMESTAMP. */
export function sqlTs(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

/** JSON for a warehouse JSON column: NaN and ±Infinity (which JSON cannot hold) become null. */
export function storedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));
}

/** DuckDB TIMESTAMP text ("2024-03-10 08:00:00") holding UTC → ISO-8601 with Z. */
export function isoFromSql(ts: string | null | undefined): string | null {
  if (ts == null) return null;
  return new Date(`${ts.replace(' ', 'T')}Z`).toISOString();
}

/** Named parameters every KPI query takes. */
export function rangeParams(r: KpiRange): { tenant: string; from: string; to: string } {
  return { tenant: r.tenantId, from: sqlTs(r.from), to: sqlTs(r.to) };
}

/** Rows → numbers: counts come back as BIGINT strings; null stays 0 for sums over nothing. */
export function num(v: unknown): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : Number(v);
}

/** Ratio a/b as a number, null when b is 0 (a rate over nothing is undefined, not 0). */
export function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

export interface Freshness {
  /** Greatest ingest watermark the rollups saw (ISO), null before any ingest. */
  as_of: string | null;
  /** When the rollups were last computed (ISO), null before the first refresh. */
  computed_at: string | null;
  /** True when no ingest ever succeeded, the last finished ingest failed, or the last success is older than the limit. */
  stale: boolean;
}

/** Columns `last_status` (of the last finished run) and `last_ok` (its last success) of a job, for a SELECT list. */
export function jobLogSql(job: 'ingest' | 'forecast' | 'experiments' | 'customers'): string {
  return `(SELECT status FROM job_runs WHERE job = '${job}' AND finished_at IS NOT NULL AND status IN ('succeeded', 'failed')
        ORDER BY finished_at DESC, id DESC LIMIT 1) AS last_status,
      (SELECT max(finished_at) FROM job_runs WHERE job = '${job}' AND status = 'succeeded') AS last_ok`;
}

/**
 * Removes all but the newest `keep` runs of each tenant from a model's run table and its rows table
 * (both keyed by run_id): hourly or daily runs would otherwise grow without end.
 */
export async function pruneRuns(conn: DuckDBConnection, runs: string, rows: string, keep: number): Promise<void> {
  const old = `SELECT run_id FROM (SELECT run_id, row_number() OVER (PARTITION BY tenant_id ORDER BY run_id DESC) AS k FROM ${runs}) WHERE k > ${Math.max(1, Math.trunc(keep))}`;
  await conn.run(`DELETE FROM ${rows} WHERE run_id IN (${old})`);
  await conn.run(`DELETE FROM ${runs} WHERE run_id IN (${old})`);
}

/** A model job's freshness: when it last succeeded, and whether that is stale by jobStale. */
export async function jobFreshness(wh: Warehouse, job: 'forecast' | 'experiments' | 'customers', now: Date, limitMs: number): Promise<{ computed_at: string | null; stale: boolean }> {
  const [r] = await wh.query<{ last_ok: string | null; last_status: string | null }>(`SELECT ${jobLogSql(job)}`);
  return { computed_at: isoFromSql(r?.last_ok), stale: jobStale(r, now, limitMs) };
}

/** Stale: the job never succeeded, its last finished run failed, or its last success is older than `limitMs`. */
export function jobStale(log: { last_status: string | null; last_ok: string | null } | undefined, now: Date, limitMs: number): boolean {
  const lastOk = isoFromSql(log?.last_ok);
  return !lastOk || log?.last_status === 'failed' || now.getTime() - Date.parse(lastOk) > limitMs;
}

/**
 * Freshness of every KPI response: rollup state plus the ingest job log. `staleAfterMinutes` is
 * Config.STALE_AFTER_MINUTES.
 */
export async function getFreshness(wh: Warehouse, now: Date, staleAfterMinutes: number): Promise<Freshness> {
  const rows = await wh.query<{ as_of: string | null; computed_at: string | null; last_status: string | null; last_ok: string | null }>(`
    SELECT
      (SELECT as_of FROM kpi_rollup_state WHERE id = 1) AS as_of,
      (SELECT computed_at FROM kpi_rollup_state WHERE id = 1) AS computed_at,
      ${jobLogSql('ingest')}`);
  const r = rows[0];
  return { as_of: isoFromSql(r?.as_of), computed_at: isoFromSql(r?.computed_at), stale: jobStale(r, now, staleAfterMinutes * 60_000) };
}

/**
 * DuckDB refuses named parameters a statement does not use, so queries share one parameter object
 * and this passes each statement only the names it mentions.
 */
export function db(wh: Warehouse): { query<T>(sql: string, params?: Record<string, string | number | boolean>): Promise<T[]> } {
  return {
    query<T>(sql: string, params?: Record<string, string | number | boolean>) {
      if (!params) return wh.query<T>(sql);
      const used = new Set([...sql.matchAll(/\$([A-Za-z_]\w*)/g)].map((m) => m[1]!));
      return wh.query<T>(sql, Object.fromEntries(Object.entries(params).filter(([k]) => used.has(k))));
    },
  };
}
