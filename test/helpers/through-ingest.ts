import { join } from 'node:path';
import { ENTITIES } from '../../src/ingest/entities.ts';
import { deleteGone, loadBatch, type BatchResult } from '../../src/ingest/load-batch.ts';
import { tableColumns } from '../../src/ingest/merge-sql.ts';
import type { Warehouse } from '../../src/warehouse/warehouse.ts';

/**
 * Changes canonical facts through the ingest's own code paths (loadBatch for new versions, the
 * reconciliation's deleteGone for deletes), so the deltas they record are the ones production writes.
 */
let seq = 0;

/**
 * Loads the rows of `select` (the entity's canonical columns in table order, `_hash` and `_key` excluded, plus
 * `_cursor_ts`) as one CSV batch, exactly as a pull from the source would arrive.
 */
export async function loadThroughIngest(wh: Warehouse, dir: string, entity: string, select: string): Promise<BatchResult> {
  const spec = ENTITIES[entity]!;
  const header = [...tableColumns(spec).filter((c) => c !== '_hash' && c !== '_key'), '_cursor_ts'];
  const path = join(dir, `${entity}-${process.pid}-${seq++}.csv`);
  await wh.withWriter((c) => c.run(`COPY (SELECT ${header.map((h) => `"${h}"`).join(', ')} FROM (${select})) TO '${path}' (HEADER, DELIMITER ',')`));
  return loadBatch(wh, { source: 'test', spec, input: { header, path }, jobRunId: null });
}

/** Deletes the entity's rows matching `where` as the reconciliation deletes rows gone at the source. */
export async function deleteThroughIngest(wh: Warehouse, entity: string, where: string): Promise<number> {
  const spec = ENTITIES[entity]!;
  return wh.transaction(async (conn) => {
    await conn.run(`CREATE OR REPLACE TEMP TABLE gone AS SELECT * FROM ${spec.table} WHERE ${where}`);
    try {
      return await deleteGone(conn, spec);
    } finally {
      await conn.run('DROP TABLE IF EXISTS gone');
    }
  });
}
