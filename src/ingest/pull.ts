import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * Wraps a profile SELECT so only rows at or after `since` come back; `keyFilter` restricts to listed
 * keys (reconciliation re-pulls).
 */
export function pullQuery(sql: string, opts: { since?: string | null; keyFilter?: string } = {}): string {
  const where: string[] = [];
  if (opts.since) where.push(`q._cursor_ts >= '${opts.since}'::timestamp`);
  if (opts.keyFilter) where.push(opts.keyFilter);
  return `SELECT q.* FROM (\n${sql}\n) q${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/**
 * Streams `COPY (query) TO STDOUT` as CSV with a header into `file`. Measured against cursor batches
 * into the DuckDB Appender, COPY → file → read_csv is the faster full-load path (see bench/).
 * The session is pinned to UTC/ISO so timestamps arrive exactly as stored.
 */
export async function copyToFile(pool: pg.Pool, query: string, file: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3`);
    const stream = client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT csv, HEADER true)`));
    await pipeline(stream, createWriteStream(file));
  } finally {
    client.release();
  }
}
