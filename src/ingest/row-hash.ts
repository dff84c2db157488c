/**
 * The fingerprint of a source row: md5 over its columns' text forms joined by the unit separator,
 * NULL written as \N. PostgreSQL's concat() and COPY's CSV text use the same type output functions
 * (a `::text` cast does not: booleans cast to 'true' but print as 't'), so
 * DuckDB can hash the raw CSV values at load time and PostgreSQL can hash the same rows during
 * reconciliation, and the two agree without shipping whole rows. (Hashing inside the COPY cost more
 * than the COPY itself.) `_cursor_ts` is derived, not data, and stays out.
 */
export function rowHashSql(columns: readonly string[], alias: string, dialect: 'postgres' | 'duckdb'): string {
  const parts = columns
    .filter((c) => c !== '_cursor_ts')
    .map((c) => `${alias}."${c.replaceAll('"', '""')}"`)
    .map((col) => (dialect === 'postgres' ? `CASE WHEN ${col} IS NULL THEN '\\N' ELSE concat(${col}) END` : `coalesce(${col}, '\\N')`));
  return `md5(concat_ws(chr(31), ${parts.join(', ')}))`;
}
