import { execFileSync } from 'node:child_process';
import { constants, openSync, closeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

/**
 * Wraps a profile SELECT so only rows at or after `since` come back; `keyFilter` restricts to listed
 * keys (reconciliation re-pulls); `exclude` is a predicate over `q` leaving rows out (see seenFilter).
 */
export function pullQuery(sql: string, opts: { since?: string | null; keyFilter?: string; exclude?: string } = {}): string {
  const where: string[] = [];
  if (opts.since) {
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?$/.test(opts.since)) throw new Error(`bad cursor timestamp ${opts.since}`);
    where.push(`q._cursor_ts >= '${opts.since}'::timestamp`);
  }
  if (opts.keyFilter) where.push(opts.keyFilter);
  if (opts.exclude) where.push(opts.exclude);
  return `SELECT q.* FROM (\n${sql}\n) q${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
}

/** Column names a query returns, without running it. */
export async function queryColumns(pool: pg.Pool, sql: string): Promise<string[]> {
  const { fields } = await pool.query(`SELECT * FROM (\n${sql}\n) q LIMIT 0`);
  return fields.map((f) => f.name);
}

async function copyOut(pool: pg.Pool, query: string, sink: NodeJS.WritableStream): Promise<void> {
  const client = await pool.connect();
  try {
    // Pinned to UTC/ISO so timestamps arrive exactly as stored, whatever the server's defaults.
    await client.query(`SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3`);
    await pipeline(client.query(copyTo(`COPY (${query}) TO STDOUT (FORMAT csv, HEADER true)`)), sink);
  } finally {
    client.release();
  }
}

/** `COPY (query) TO STDOUT` as CSV with a header into a file (reconciliation's key lists). */
export async function copyToFile(pool: pg.Pool, query: string, file: string): Promise<void> {
  const fh = await open(file, 'w');
  await copyOut(pool, query, fh.createWriteStream());
}

/**
 * How much of the COPY Node queues while DuckDB parses the last buffer it read from the pipe
 * (see CSV_BUFFER_BYTES): enough that PostgreSQL keeps writing meanwhile.
 */
const PIPE_QUEUE_BYTES = 8 << 20;

/**
 * Streams `COPY (query) TO STDOUT` through a named pipe that DuckDB reads while PostgreSQL writes:
 * the pull and the load overlap, and no CSV ever lands on disk. `read(path)` starts the DuckDB
 * statement reading `path`; both sides must succeed, and either failing ends the other.
 * (Measured: COPY to a file, then read_csv, kept both cores busy half the time.)
 */
export async function copyThroughPipe<T>(pool: pg.Pool, query: string, path: string, read: (path: string) => Promise<T>): Promise<T> {
  execFileSync('mkfifo', ['-m', '600', path]);
  try {
    // Opening a FIFO for writing waits for its reader; DuckDB opens it when the statement runs.
    const writer = open(path, 'w');
    const reading = read(path);
    reading.catch(() => unblockWriter(path));
    const copying = writer.then((fh) => copyOut(pool, query, fh.createWriteStream({ highWaterMark: PIPE_QUEUE_BYTES })));
    const [r, c] = await Promise.allSettled([reading, copying]);
    if (c.status === 'rejected') throw c.reason;
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  } finally {
    await rm(path, { force: true });
  }
}

/** If DuckDB failed before opening the pipe, a pending open-for-write would wait forever: open the read end once. */
function unblockWriter(path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch {
    // already gone
  }
}
