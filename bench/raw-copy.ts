import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * The baseline of every ingest figure: `COPY (profile SELECT) TO STDOUT` of each entity's rows, one
 * after another, into a sink that only counts bytes.
 */
export async function rawCopy(pool: pg.Pool, entities: { spec: { entity: string }; sql: string }[]): Promise<{ ms: number; bytes: number; msByEntity: Record<string, number> }> {
  const t0 = performance.now();
  let bytes = 0;
  const msByEntity: Record<string, number> = {};
  for (const { spec, sql } of entities) {
    const t = performance.now();
    const c = await pool.connect();
    try {
      await c.query(`SET TimeZone = 'UTC'`);
      const sink = new Writable({ write(chunk: Buffer, _e, cb) { bytes += chunk.length; cb(); } });
      await pipeline(c.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT csv, HEADER true)`)), sink);
    } finally {
      c.release();
    }
    msByEntity[spec.entity] = performance.now() - t;
  }
  return { ms: performance.now() - t0, bytes, msByEntity };
}
