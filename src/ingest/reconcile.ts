import type { Warehouse } from '../warehouse/warehouse.ts';
import type { EntitySpec } from './entities.ts';
import { rm } from 'node:fs/promises';
import { deleteGone, type BatchResult } from './load-batch.ts';
import { sqlString as q } from './merge-sql.ts';
import { copyToFile, pullQuery, queryColumns } from './pull.ts';
import { fingerprintFromHexSql, rowHashSql } from './row-hash.ts';
import { profileOf, pullAndLoad, scratchFile, sourceName, type IngestContext } from './run.ts';

export interface ReconcileResult {
  entity: string;
  sourceRows: number;
  deleted: number;
  changed: number;
  reloaded: BatchResult | null;
}

/** Above this many changed keys, one full re-pull is cheaper than key lists. */
const KEY_LIST_LIMIT = 20_000;
const KEY_CHUNK = 2_000;


/**
 * The daily key reconciliation. Cursors cannot see deletes, nor updates at sources without an
 * updated_at (seed 004's orders): compare every source key and row hash with the warehouse, delete
 * what the source no longer has, and re-pull rows whose hash changed.
 */
export async function reconcileAll(ctx: IngestContext, opts: { jobRunId?: number | null; entities?: string[] } = {}): Promise<ReconcileResult[]> {
  const profile = profileOf(ctx);
  const out: ReconcileResult[] = [];
  for (const { spec, sql } of profile.entities) {
    if (opts.entities && !opts.entities.includes(spec.entity)) continue;
    out.push(await reconcileEntity(ctx, spec, sql, opts.jobRunId ?? null));
  }
  return out;
}

async function reconcileEntity(ctx: IngestContext, spec: EntitySpec, sql: string, jobRunId: number | null): Promise<ReconcileResult> {
  const keyCols = ['tenant_id', ...spec.key];
  const file = scratchFile(ctx, `${spec.entity}-keys`);
  const source = sourceName(ctx);
  try {
    const hash = rowHashSql(await queryColumns(ctx.source, sql), 'q', 'postgres');
    await copyToFile(ctx.source, `SELECT ${keyCols.map((k) => `q.${k}`).join(', ')}, ${hash} AS _hash FROM (\n${sql}\n) q`, file);
    const join = keyCols.map((k) => `t.${k} = k.${k}`).join(' AND ');
    const own = spec.ownRows ? ` AND t.${spec.ownRows}` : '';
    const columns = `{${[...keyCols, '_hash'].map((c) => `'${c}': 'VARCHAR'`).join(', ')}}`;
    const { deleted, changedKeys, sourceRows } = await ctx.warehouse.transaction(async (conn) => {
      await conn.run(`CREATE OR REPLACE TEMP TABLE src_keys AS SELECT * REPLACE (${fingerprintFromHexSql('_hash')} AS _hash)
        FROM read_csv(${q(file)}, header = true, auto_detect = false, columns = ${columns})`);
      // Tenants this source speaks for: those it returned rows for, plus the configured one.
      await conn.run(`CREATE OR REPLACE TEMP TABLE gone AS SELECT t.* FROM ${spec.table} t
        WHERE (t.tenant_id IN (SELECT DISTINCT tenant_id FROM src_keys) OR t.tenant_id = ${q(ctx.config.TENANT_ID)})${own}
        AND NOT EXISTS (SELECT 1 FROM src_keys k WHERE ${join})`);
      // The rollups lose what the deleted rows counted, in the same transaction as the delete.
      const n = await deleteGone(conn, spec);
      const changed = await conn.runAndReadAll(`SELECT ${keyCols.map((k) => `k.${k}`).join(', ')} FROM src_keys k
        WHERE NOT EXISTS (SELECT 1 FROM ${spec.table} t WHERE ${join} AND t._hash = k._hash) LIMIT ${KEY_LIST_LIMIT + 1}`);
      const total = await conn.runAndReadAll(`SELECT count(*) AS n FROM src_keys`);
      await conn.run(`UPDATE ingest_state SET reconciled_at = now()::TIMESTAMP WHERE source = $source AND entity = $entity`, { source, entity: spec.entity });
      await conn.run('DROP TABLE IF EXISTS src_keys; DROP TABLE IF EXISTS gone;');
      return {
        deleted: n,
        changedKeys: changed.getRowsJson() as string[][],
        sourceRows: Number((total.getRowObjectsJson()[0] as { n: string }).n),
      };
    });
    let reloaded: BatchResult | null = null;
    if (changedKeys.length > KEY_LIST_LIMIT) {
      reloaded = await pullAndLoad(ctx, spec, sql, pullQuery(sql), { jobRunId });
    } else {
      for (let i = 0; i < changedKeys.length; i += KEY_CHUNK) {
        const chunk = changedKeys.slice(i, i + KEY_CHUNK);
        const keyFilter = `(${keyCols.map((k) => `q.${k}`).join(', ')}) IN (VALUES ${chunk.map((row) => `(${row.map(q).join(', ')})`).join(', ')})`;
        const r = await pullAndLoad(ctx, spec, sql, pullQuery(sql, { keyFilter }), { jobRunId });
        reloaded = reloaded
          ? { rowsIn: reloaded.rowsIn + r.rowsIn, rowsOut: reloaded.rowsOut + r.rowsOut, rejected: reloaded.rejected + r.rejected, watermark: r.watermark }
          : r;
      }
    }
    return { entity: spec.entity, sourceRows, deleted, changed: changedKeys.length, reloaded };
  } finally {
    await rm(file, { force: true });
  }
}
