/**
 * The fingerprint of a source row: the first 8 bytes of the md5 over its columns' text forms joined
 * by the unit separator, NULL written as \N. PostgreSQL's concat() and COPY's CSV text use the same
 * type output functions (a `::text` cast does not: booleans cast to 'true' but print as 't'), so
 * DuckDB can hash the raw CSV values at load time and PostgreSQL can hash the same rows during
 * reconciliation, and the two agree without shipping whole rows. (Hashing inside the COPY cost more
 * than the COPY itself.) `_cursor_ts` is derived, not data, and stays out.
 *
 * DuckDB keeps it as a UBIGINT (md5_number_upper): a merge reads it for every candidate row, and the
 * 32-character hex it replaced was most of that read (150 ms of a 10M-row table). PostgreSQL has no
 * unsigned 64-bit type, so it sends those 8 bytes as hex, which fingerprintFromHexSql turns into the
 * same number.
 */
export function rowHashSql(columns: readonly string[], alias: string, dialect: 'postgres' | 'duckdb'): string {
  const parts = columns
    .filter((c) => c !== '_cursor_ts')
    .map((c) => `${alias}."${c.replaceAll('"', '""')}"`)
    .map((col) => (dialect === 'postgres' ? `CASE WHEN ${col} IS NULL THEN '\\N' ELSE concat(${col}) END` : `coalesce(${col}, '\\N')`));
  const text = `concat_ws(chr(31), ${parts.join(', ')})`;
  return dialect === 'postgres' ? `left(md5(${text}), 16)` : `md5_number_upper(${text})`;
}

/**
 * DuckDB: the UBIGINT md5_number_upper gives for the md5 whose first 8 bytes are the hex `hex` (it
 * reads them little-endian).
 */
export function fingerprintFromHexSql(hex: string): string {
  return `('0x' || ${[15, 13, 11, 9, 7, 5, 3, 1].map((p) => `substr(${hex}, ${p}, 2)`).join(' || ')})::UBIGINT`;
}

/** The other way, in Node: the hex PostgreSQL's rowHashSql yields for a fingerprint DuckDB stored. */
export function fingerprintHex(n: string): string {
  const be = BigInt(n).toString(16).padStart(16, '0');
  return be.match(/../g)!.reverse().join('');
}

/**
 * The fingerprint of a row's key (tenant_id and the entity's key columns, typed values as text): a
 * UBIGINT the loader finds a batch's current versions by, scanning 8 bytes a row instead of the
 * key's strings (UUIDs in most sources: 0.9-1.6 s per table at 10M rows, for a handful of keys).
 * md5, not DuckDB's hash(), so stored values stay valid across DuckDB versions. A collision only
 * makes a candidate that the full key comparison then drops.
 */
export function keyHashSql(keyColumns: readonly string[], alias: string): string {
  const parts = keyColumns.map((c) => `${alias}."${c.replaceAll('"', '""')}"::VARCHAR`);
  return `md5_number_upper(concat_ws(chr(31), ${parts.join(', ')}))`;
}
