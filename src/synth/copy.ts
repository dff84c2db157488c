/**
 * Streaming `COPY … FROM STDIN (FORMAT csv)` loader: rows come from a (lazy) iterable, are batched
 * into ~256 KiB chunks, and flow through `pipeline`, so backpressure from PostgreSQL pauses the
 * generator and no table is ever materialised in memory.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const CHUNK_CHARS = 256 * 1024;

/** One CSV field: null/undefined → NULL (unquoted empty); strings are quoted when they need it. */
export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (v === '' || /[",\n\r]/.test(v)) return '"' + v.replace(/"/g, '""') + '"';
  return v;
}

/** A CSV line (with trailing newline) from already-safe or raw fields. */
export function csvRow(fields: ReadonlyArray<string | number | boolean | null | undefined>): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) out += ',';
    out += csvField(fields[i]);
  }
  return out + '\n';
}

/** Integer cents → 'D.CC' for DECIMAL columns (exact: no float formatting involved). */
export function formatCents(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(Math.round(cents));
  const whole = Math.floor(abs / 100);
  const frac = abs - whole * 100;
  return (neg ? '-' : '') + whole + '.' + (frac < 10 ? '0' + frac : frac);
}

function* chunked(rows: Iterable<string>, count: { rows: number }): Generator<string> {
  let buf = '';
  for (const row of rows) {
    buf += row;
    count.rows++;
    if (buf.length >= CHUNK_CHARS) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

/**
 * COPY the rows into `table(columns)`; each row must be a complete CSV line ending in '\n'.
 * Returns the number of rows sent.
 */
export async function copyRows(
  client: pg.ClientBase,
  table: string,
  columns: readonly string[],
  rows: Iterable<string>,
): Promise<number> {
  const count = { rows: 0 };
  const sql = `COPY ${table} (${columns.map((c) => `"${c}"`).join(', ')}) FROM STDIN (FORMAT csv)`;
  const sink = client.query(copyFrom(sql));
  await pipeline(Readable.from(chunked(rows, count), { objectMode: false }), sink);
  return count.rows;
}
