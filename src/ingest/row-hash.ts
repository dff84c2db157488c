/**
 * The fingerprint of a source row: the first 8 bytes of the md5 over its columns' text forms joined
 * by the unit separator, NULL written as \N. PostgreSQL's concat() and COPY's CSV text use the same
 * type output functions (a `::text` cast does not: booleans cast to 'true' but print as 't'), so
 * DuckDB can hash the raw CSV values at load time and PostgreSQL can hash the same rows during
 * reconciliation, and the two agree without shipping whole rows. (Hashing inside the COPY cost more
 * than the COPY itself.) `_cursor_ts` is derived, not data, and stays out.
 *
 * DuckDB keeps it as a UBIGINT (md5Low64Sql): a merge reads it for every candidate row, and the
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
  return dialect === 'postgres' ? `left(md5(${text}), 16)` : md5Low64Sql(text);
}

/**
 * DuckDB: the first 8 bytes of `text`'s md5 as a UBIGINT (read little-endian), the number DuckDB's
 * md5_number_upper gives. That one is a macro that goes through a 128-character bit string and a
 * substring, and cost as much as the md5 itself: 0.47 s of 0.94 s per 1M payment rows, and 0.44 s of
 * 0.64 s for their keys, on one thread. Masking md5_number's UHUGEINT gives the same bits.
 */
export function md5Low64Sql(text: string): string {
  return `(md5_number(${text}) & 18446744073709551615::UHUGEINT)::UBIGINT`;
}

/**
 * DuckDB: the UBIGINT md5Low64Sql gives for the md5 whose first 8 bytes are the hex `hex` (it
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
  return md5Low64Sql(`concat_ws(chr(31), ${parts.join(', ')})`);
}
