import type { Context } from 'hono';
import type { AppEnv } from './context.ts';

/**
 * CSV (RFC 4180) for list-shaped responses: comma separated, CRLF line ends, a header row, fields
 * quoted when they hold a comma, quote, CR or LF, quotes doubled. null/undefined → empty field.
 * A text cell that a spreadsheet would run as a formula (starts with = + - @ or a tab/CR) and is
 * not a number gets a leading apostrophe, so an exported product name cannot run code.
 */
export function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'string') {
    s = /^[=+\-@\t\r]/.test(v) && !/^[+-]?\d+(\.\d+)?$/.test(v) ? `'${v}` : v;
  } else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') {
    s = String(v);
  } else {
    s = JSON.stringify(v);
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Parses CSV produced by toCsv (and RFC 4180 generally): rows of fields. Used by tests and tools. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; }
    else if (ch === '\n') { row.push(field); rows.push(row); row = []; field = ''; }
    else field += ch;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** True when the client asked for CSV: `format=csv`, or no format and an Accept that prefers text/csv over JSON. */
export function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  if (!accept) return false;
  const types = accept.split(',').map((p) => p.split(';')[0]!.trim().toLowerCase());
  const csv = types.indexOf('text/csv');
  const json = types.indexOf('application/json');
  return csv >= 0 && (json < 0 || csv < json);
}

/** A CSV download: RFC 4180 body, `name`.csv as the file name, varying on Accept (JSON is the default). */
export function csvResponse(c: Context<AppEnv>, name: string, columns: readonly string[], rows: Record<string, unknown>[]): Response {
  return c.body(toCsv(columns, rows), 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="${name}.csv"`,
    vary: 'Accept',
  });
}
