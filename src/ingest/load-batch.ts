import type { DuckDBConnection } from '@duckdb/node-api';
import { all, dropScratch, type Warehouse, type WriterLane } from '../warehouse/warehouse.ts';
import type { EntitySpec } from './entities.ts';
import {
  buildBatchSql, type CatalogColumn, DELTA_MAX_SHARE, DELTA_MIN_ROWS, deltaInsertSql, deltaOverflowSql, markChangedSql, OLD, recentFloorSql, swapStageName, tableColumns, TEMP_STAGE,
} from './merge-sql.ts';

export interface BatchResult {
  /** Where the time went: pull + stage (overlapped), checks and merge, commit. */
  timings?: { stageMs: number; mergeMs: number; commitMs: number };
  /** `swap`: staged in place of an empty table; `merge`: staged aside and merged by key. */
  path?: 'swap' | 'merge';
  rowsIn: number;
  /** Rows written: new or changed versions (a re-read row identical to the stored one is not written). */
  rowsOut: number;
  rejected: number;
  watermark: string | null;
}

export interface BatchHooks {
  /** Runs inside the transaction just before COMMIT (tests inject crashes here). */
  beforeCommit?: (entity: string) => void | Promise<void>;
}

/**
 * Work of the batch's own, in its transaction: `before` once the batch is staged and checked (in
 * `staged`) and nothing is written yet, `after` once the rows are written.
 */
export interface BatchAround {
  before: (conn: DuckDBConnection, staged: string) => Promise<void>;
  after: (conn: DuckDBConnection) => Promise<void>;
}

const currencyLists = new WeakMap<Warehouse, Promise<string[]>>();

/** ISO 4217 codes the warehouse accepts; seeded by migration 1 and never changed, so read once. */
function currencyCodes(wh: Warehouse): Promise<string[]> {
  let codes = currencyLists.get(wh);
  if (!codes) {
    codes = wh.query<{ code: string }>('SELECT code FROM currencies ORDER BY code').then((rows) => rows.map((r) => r.code));
    currencyLists.set(wh, codes);
  }
  return codes;
}

/**
 * Where a batch's CSV comes from: `path` is read by DuckDB; `feed`, when given, is called with the
 * running read so it can write into `path` (a named pipe) at the same time.
 */
export interface BatchInput {
  header: string[];
  path: string;
  feed?: (read: (path: string) => Promise<unknown>) => Promise<unknown>;
}

/**
 * Loads one CSV batch into a canonical table in ONE writer transaction: stage and check every row,
 * set rejects aside with their reason, replace rows by key while recording the signed deltas the
 * rollups fold in (old versions −1, new versions +1), and advance the watermark. A throw anywhere
 * leaves the warehouse as it was, deltas included.
 *
 * Into an empty table (a first load) the batch is staged straight into a new table that then takes
 * the canonical one's place, so the rows are written once instead of staged and copied: on 1M
 * payments the copy alone cost as much as half the pull.
 */
export async function loadBatch(
  wh: Warehouse,
  args: {
    source: string; spec: EntitySpec; input: BatchInput; jobRunId: number | null; hooks?: BatchHooks;
    /** Record the rows inside this lookback window of the watermark in ingest_recent (incremental pulls skip them unchanged). */
    lookbackMinutes?: number;
    around?: BatchAround;
    /** The connection the batch writes on (default: the warehouse's writer). */
    writer?: WriterLane;
  },
): Promise<BatchResult> {
  const { source, spec, input, jobRunId, hooks, around } = args;
  const writer = args.writer ?? wh;
  const currencies = await currencyCodes(wh);
  try {
    const t0 = performance.now();
    let tStaged = t0;
    let tMerged = t0;
    const result = await writer.transaction(async (conn) => {
      const swapColumns = await swappable(conn, spec);
      const staged = swapColumns ? swapStageName(spec) : TEMP_STAGE;
      const sql = buildBatchSql(spec, input.header, input.path, currencies, { staged, exclude: await excludes(conn, spec) });
      if (input.feed) await input.feed(() => conn.run(sql.stage));
      else await conn.run(sql.stage);
      tStaged = performance.now();
      const [stats] = await all<{ rows_in: string; rejected: string; wm: string | null; dups: string }>(conn, `
        SELECT count(*) AS rows_in, count(_reason) AS rejected, max(_cursor_ts)::VARCHAR AS wm, (${sql.duplicateKeys}) AS dups FROM "${staged}"`);
      const rowsIn = Number(stats?.rows_in ?? 0);
      const rejected = Number(stats?.rejected ?? 0);
      if (rejected > 0) await conn.run(sql.reject(source, jobRunId));
      const older = Number(stats?.dups ?? 0) > 0 ? Number((await conn.run(sql.dropOlderVersions)).rowsChanged) : 0;
      const valid = rowsIn - rejected - older;
      await around?.before(conn, staged);
      if (args.lookbackMinutes !== undefined && rowsIn > 0) {
        const [f] = await all<{ floor: string | null }>(conn, recentFloorSql(args.lookbackMinutes), { source, entity: spec.entity, batch_max: stats?.wm ?? null });
        const recent = sql.recordRecent(source, f?.floor ?? null);
        // A first load has no entries to prune, and the prune's key list would be the whole table.
        if ((await all<{ any: boolean }>(conn, recent.any))[0]?.any) await conn.run(recent.prune);
        await conn.run(recent.insert);
      }
      let rowsOut = 0;
      if (swapColumns) {
        if (rejected > 0) await conn.run(sql.dropRejected);
        if ((await keepDeltas(conn, spec, valid)) && sql.deltaNew) await conn.run(sql.deltaNew);
        for (const statement of sql.swap(swapColumns)) await conn.run(statement);
        rowsOut = valid;
      } else if (valid > 0) {
        await conn.run(sql.findOld);
        const changed = valid - Number((await conn.run(sql.dropUnchanged.staged)).rowsChanged);
        // A lookback re-read of rows the warehouse already has, as they are: nothing to write.
        if (changed > 0) {
          await conn.run(sql.dropUnchanged.old);
          const deltas = await keepDeltas(conn, spec, changed);
          if (deltas && sql.deltaOld) await conn.run(sql.deltaOld);
          await conn.run(sql.deleteOld);
          rowsOut = Number((await conn.run(sql.insert)).rowsChanged);
          if (deltas && sql.deltaNew) await conn.run(sql.deltaNew);
        }
      }
      if (rowsOut > 0) await conn.run(markChangedSql(spec));
      await around?.after(conn);
      await advanceWatermark(conn, source, spec.entity, stats?.wm ?? null);
      await hooks?.beforeCommit?.(spec.entity);
      tMerged = performance.now();
      return { path: swapColumns ? 'swap' as const : 'merge' as const, rowsIn, rowsOut, rejected, watermark: stats?.wm ?? null };
    });
    const ms = (a: number, b: number) => Math.round(b - a);
    return { ...result, timings: { stageMs: ms(t0, tStaged), mergeMs: ms(tStaged, tMerged), commitMs: ms(tMerged, performance.now()) } };
  } finally {
    await writer.withWriter((conn) => dropScratch(conn, [TEMP_STAGE, OLD]));
  }
}

/**
 * The canonical table's columns when a batch may replace the table outright: it holds no rows (of
 * any tenant), has no index to rebuild, and its columns are exactly the entity's, in order. Else null.
 */
async function swappable(conn: DuckDBConnection, spec: EntitySpec): Promise<CatalogColumn[] | null> {
  if ((await all(conn, `SELECT 1 FROM "${spec.table}" LIMIT 1`)).length > 0) return null;
  const [indexes] = await all<{ n: string }>(conn, `SELECT count(*) AS n FROM duckdb_indexes() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $t`, { t: spec.table });
  if (Number(indexes?.n ?? 0) > 0) return null;
  const columns = await all<CatalogColumn>(conn, `
    SELECT column_name, is_nullable, column_default FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $t ORDER BY column_index`, { t: spec.table });
  const expected = tableColumns(spec);
  const same = columns.length === expected.length && columns.every((c, i) => c.column_name === expected[i]);
  return same ? columns : null;
}

/** Whether the entity's delta exclusion can leave out anything now (EntitySpec.deltaExclude). */
async function excludes(conn: DuckDBConnection, spec: EntitySpec): Promise<boolean> {
  if (!spec.deltaExclude) return false;
  const [r] = await all<{ any: boolean }>(conn, spec.deltaExclude.possible);
  return r?.any === true;
}

/**
 * Whether this change of `rows` rows of `spec` is recorded row by row in its delta table. A change
 * too big to be worth copying (a first or full load), or one to an entity already overflowed since
 * the last refresh, marks the entity in `delta_overflow` instead: its rollups are rebuilt from the facts.
 */
export async function keepDeltas(conn: DuckDBConnection, spec: EntitySpec, rows: number): Promise<boolean> {
  if (!spec.delta || rows === 0) return false;
  const [r] = await all<{ overflowed: boolean; n: string }>(conn, `
    SELECT EXISTS (SELECT 1 FROM delta_overflow WHERE entity = $entity) AS overflowed, (SELECT count(*) FROM "${spec.table}") AS n`,
    { entity: spec.entity });
  if (r?.overflowed) return false;
  if (rows <= DELTA_MIN_ROWS || rows <= DELTA_MAX_SHARE * Number(r?.n ?? 0)) return true;
  await conn.run(deltaOverflowSql(spec));
  return false;
}

/**
 * Deletes from the entity's table the rows listed in temp table `gone` (canonical rows, at least
 * the key columns), recording the −1 deltas of what they counted first. Returns how many went.
 */
export async function deleteGone(conn: DuckDBConnection, spec: EntitySpec): Promise<number> {
  const [r] = await all<{ n: string }>(conn, `SELECT count(*) AS n FROM gone`);
  const n = Number(r?.n ?? 0);
  if (n === 0) return 0;
  const join = ['tenant_id', ...spec.key].map((k) => `t."${k}" = k."${k}"`).join(' AND ');
  const delta = deltaInsertSql(spec, -1, `"${spec.table}" t SEMI JOIN gone k ON ${join}`);
  if (delta && (await keepDeltas(conn, spec, n))) await conn.run(delta);
  await conn.run(`DELETE FROM "${spec.table}" t USING gone k WHERE ${join}`);
  await conn.run(markChangedSql(spec));
  return n;
}

/** Moves an entity's watermark forward to `wm` (never back; null leaves it). */
export async function advanceWatermark(conn: DuckDBConnection, source: string, entity: string, wm: string | null): Promise<void> {
  await conn.run(
    `INSERT INTO ingest_state (source, entity, watermark_ts, updated_at)
     VALUES ($source, $entity, $wm::TIMESTAMP, now()::TIMESTAMP)
     ON CONFLICT (source, entity) DO UPDATE SET
       watermark_ts = CASE WHEN excluded.watermark_ts IS NULL THEN ingest_state.watermark_ts
                           ELSE greatest(coalesce(ingest_state.watermark_ts, excluded.watermark_ts), excluded.watermark_ts) END,
       updated_at = excluded.updated_at`,
    { source, entity, wm },
  );
}

export async function getWatermark(wh: Warehouse, source: string, entity: string): Promise<string | null> {
  const rows = await wh.query<{ wm: string | null }>(
    `SELECT watermark_ts::VARCHAR AS wm FROM ingest_state WHERE source = $source AND entity = $entity`,
    { source, entity },
  );
  return rows[0]?.wm ?? null;
}
