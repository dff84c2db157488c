import type { ColumnKind, ColumnSpec, EntitySpec } from './entities.ts';
import { keyHashSql, rowHashSql } from './row-hash.ts';

/**
 * Pure SQL builders for loading one batch (a CSV of source rows, all text) into a canonical table.
 * Every check is SQL over the whole batch: a bad row gets a reason and is set aside, never a throw.
 */

const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
/** A SQL string literal (the same in DuckDB and PostgreSQL). */
export const sqlString = (value: string): string => `'${value.replaceAll("'", "''")}'`;
const lit = sqlString;

const TYPE: Record<ColumnKind, string> = {
  text: 'VARCHAR', int: 'INTEGER', count: 'INTEGER', money: 'DECIMAL(18,2)', number: 'DOUBLE',
  timestamp: 'TIMESTAMP', bool: 'BOOLEAN', currency: 'VARCHAR', json: 'JSON',
};

/** Typed value of a raw text column. */
export function typedExpr(col: ColumnSpec, present: boolean): string {
  if (!present) return `NULL::${TYPE[col.kind]}`;
  const s = `s.${ident(col.name)}`;
  switch (col.kind) {
    case 'text': return s;
    case 'currency': return `upper(trim(${s}))`;
    case 'json': return `CASE WHEN json_valid(${s}) THEN ${s}::JSON END`;
    default: return `TRY_CAST(${s} AS ${TYPE[col.kind]})`;
  }
}

/**
 * True of a raw value that is NULL, empty or all whitespace as trim() sees it. A value starting with a
 * visible ASCII character cannot be blank, so most rows skip the trim (which copied every value: 0.4 s
 * per 1M rows).
 */
const blank = (s: string): string => `(${s} IS NULL OR ${s} = '' OR (NOT (ascii(${s}) BETWEEN 33 AND 126) AND trim(${s}) = ''))`;

/** Reason a raw value is unusable, or NULL. */
export function checkExpr(col: ColumnSpec, present: boolean, isKey: boolean, currencies: readonly string[] = []): string | null {
  const name = col.name;
  if (!present) return col.required ? lit(`missing ${isKey ? 'key ' : ''}${name}`) : null;
  const s = `s.${ident(name)}`;
  const show = `left(${s}, 60)`;
  const checks: string[] = [];
  if (col.required) checks.push(`WHEN ${blank(s)} THEN ${lit(`missing ${isKey ? 'key ' : ''}${name}`)}`);
  const typed = typedExpr(col, true);
  switch (col.kind) {
    case 'int':
    case 'count':
      checks.push(`WHEN ${s} IS NOT NULL AND ${typed} IS NULL THEN ${lit(`unparsable integer ${name}: `)} || ${show}`);
      if (col.kind === 'count') checks.push(`WHEN ${typed} < 0 THEN ${lit(`negative ${name}: `)} || ${show}`);
      break;
    case 'money':
      checks.push(`WHEN ${s} IS NOT NULL AND ${typed} IS NULL THEN ${lit(`unparsable number ${name}: `)} || ${show}`);
      checks.push(`WHEN ${typed} < 0 THEN ${lit(`negative ${name}: `)} || ${show}`);
      break;
    case 'number':
      checks.push(`WHEN ${s} IS NOT NULL AND (${typed} IS NULL OR NOT isfinite(${typed})) THEN ${lit(`unparsable number ${name}: `)} || ${show}`);
      break;
    case 'timestamp':
      checks.push(`WHEN ${s} IS NOT NULL AND (${typed} IS NULL OR NOT isfinite(${typed})) THEN ${lit(`unparsable timestamp ${name}: `)} || ${show}`);
      break;
    case 'bool':
      checks.push(`WHEN ${s} IS NOT NULL AND ${typed} IS NULL THEN ${lit(`unparsable boolean ${name}: `)} || ${show}`);
      break;
    case 'currency':
      checks.push(`WHEN ${s} IS NOT NULL AND NOT list_contains([${currencies.map(lit).join(',')}], ${typed}) THEN ${lit(`unknown currency (${name}): `)} || ${show}`);
      break;
    case 'json':
      checks.push(`WHEN ${s} IS NOT NULL AND NOT json_valid(${s}) THEN ${lit(`invalid json ${name}`)}`);
      break;
    case 'text':
      break;
  }
  if (col.values) {
    checks.push(`WHEN ${s} IS NOT NULL AND ${s} NOT IN (${col.values.map(lit).join(', ')}) THEN ${lit(`unknown ${name}: `)} || ${show}`);
  }
  return checks.length ? `CASE ${checks.join(' ')} END` : null;
}

export interface BatchSql {
  /** Reads the CSV into the staging table: typed columns, `_cursor_ts`, `_reason`, `_payload` (raw row, rejects only). */
  stage: string;
  reject: (source: string, jobRunId: number | null) => string;
  /**
   * Finds the current versions of the batch's keys (one scan of the table's `_key`): rowid, key, hash
   * and delta columns, in `_old`. A fingerprint collision may add a row of another key, which
   * dropUnchanged.old removes before anything is written.
   */
  findOld: string;
  /**
   * Drops from the staging table the rows identical (same hash) to the current version, then from
   * `_old` the versions nothing replaces any more: a lookback re-read writes nothing. Needs one
   * version per key in the staging table (dropOlderVersions first when it holds duplicates).
   */
  dropUnchanged: { staged: string; old: string };
  /** Records the versions about to be replaced (sign −1); null when the entity keeps no deltas. */
  deltaOld: string | null;
  deleteOld: string;
  /** Count of keys the batch holds more than once (0 skips dropOlderVersions). */
  duplicateKeys: string;
  insert: string;
  /** Records the versions inserted (sign +1), from the staged rows `insert` (or the swap) takes. */
  deltaNew: string | null;
  /** Swap path: removes the rejects (already recorded) from the staging table. */
  dropRejected: string;
  /** Removes all but the newest valid version of each key from the staging table. */
  dropOlderVersions: string;
  /** Swap path: turns the staging table into the canonical table, constraints and defaults included. */
  swap: (columns: readonly CatalogColumn[]) => string[];
  /**
   * Replaces the entity's entries in ingest_recent: the batch's rows (valid or not) whose cursor is
   * inside the lookback window of the watermark after this batch, plus the earlier entries still in it.
   * `floor` is where that window starts, from recentFloorSql (null: the batch has no cursor and no
   * watermark, so nothing is inside it).
   */
  recordRecent: (source: string, floor: string | null) => { any: string; prune: string; insert: string };
}

/** A canonical table's column as DuckDB's catalog describes it. */
export interface CatalogColumn {
  column_name: string;
  is_nullable: boolean;
  column_default: string | null;
}

/** Staging for a batch that merges into a table: a temp table, copied in by key. */
export const TEMP_STAGE = 'typed';
/** The versions a merged batch replaces. */
export const OLD = '_old';

/** Staging for a batch into an empty table: a real table that replaces it at the end (no second copy). */
export const swapStageName = (spec: EntitySpec): string => `_stage_${spec.table}`;

/** Columns staging adds after the canonical ones; the swap drops them. */
const STAGE_EXTRA = ['_cursor_ts', '_reason', '_payload'] as const;

/**
 * DuckDB's CSV reader fills a whole buffer before it parses one, and a pipe holds 64 KiB: with the
 * default 32 MB buffer PostgreSQL stalls while DuckDB parses and DuckDB idles while PostgreSQL
 * writes. 1 MB buffers, with 8 MB queued on the Node side (pull.ts), let the two overlap; measured
 * on 1M payments, the pull+stage took 4.2-4.8 s instead of 7.0 s (raw COPY alone: 3.2-3.6 s).
 */
export const CSV_BUFFER_BYTES = 1 << 20;

/**
 * A batch (or a delete) of more than this share of its table, and more than DELTA_MIN_ROWS rows, is
 * not copied into the deltas: the entity is marked in `delta_overflow` and the refresh rebuilds its
 * rollups from the facts, which then costs about what folding that many deltas would.
 */
export const DELTA_MAX_SHARE = 0.2;
export const DELTA_MIN_ROWS = 10_000;

/**
 * INSERT of signed delta rows for `spec` from `from`, a FROM clause whose rows (alias t) have the
 * delta's columns, less the rows the rollups do not count (spec.deltaExclude, whose columns `from`
 * then needs too) unless `exclude` is false; null when the entity keeps no deltas.
 */
export function deltaInsertSql(spec: EntitySpec, sign: 1 | -1, from: string, exclude = true): string | null {
  if (!spec.delta) return null;
  const cols = spec.delta.columns.map(ident);
  const join = exclude && spec.deltaExclude ? `\n${spec.deltaExclude.join}` : '';
  return `INSERT INTO ${ident(spec.delta.table)} (tenant_id, sign, ${cols.join(', ')})
SELECT t.tenant_id, ${sign}, ${cols.map((c) => `t.${c}`).join(', ')} FROM ${from}${join}`;
}

/** Marks an entity's deltas as overflowed (idempotent). */
export function deltaOverflowSql(spec: EntitySpec): string {
  return `INSERT INTO delta_overflow SELECT ${lit(spec.entity)} WHERE NOT EXISTS (SELECT 1 FROM delta_overflow WHERE entity = ${lit(spec.entity)})`;
}

/** Records that an entity's facts changed since the last rollup refresh (idempotent). */
export function markChangedSql(spec: EntitySpec): string {
  return `INSERT INTO changed_entities SELECT ${lit(spec.entity)} WHERE NOT EXISTS (SELECT 1 FROM changed_entities WHERE entity = ${lit(spec.entity)})`;
}

/**
 * Where an entity's lookback window starts once a batch whose newest cursor is `$batch_max` commits:
 * the later of that cursor and the stored watermark, less the lookback. Parameters: $source,
 * $entity, $batch_max; returns one row, `floor` (VARCHAR, null when neither is known).
 */
export function recentFloorSql(lookbackMinutes: number): string {
  return `SELECT (greatest($batch_max::TIMESTAMP, (SELECT watermark_ts FROM ingest_state WHERE source = $source AND entity = $entity))
    - INTERVAL ${Math.trunc(lookbackMinutes)} MINUTE)::VARCHAR AS floor`;
}

/**
 * A row's key as text, as rejected_rows and ingest_recent keep it: tenant_id and the key columns
 * joined by '|'. The same expression in PostgreSQL (`dialect` 'postgres', over the profile's output)
 * names the same row.
 */
export function keyTextSql(spec: EntitySpec, alias: string, dialect: 'postgres' | 'duckdb' = 'duckdb'): string {
  const a = alias ? `${alias}.` : '';
  const text = dialect === 'postgres' ? 'text' : 'VARCHAR';
  return `concat_ws('|', ${['tenant_id', ...spec.key].map((k) => `${a}${ident(k)}::${text}`).join(', ')})`;
}

/** Canonical columns of an entity's table, in order. */
export function tableColumns(spec: EntitySpec): string[] {
  return ['tenant_id', ...spec.columns.map((c) => c.name), '_hash', '_key'];
}

/**
 * `currencies`: the ISO 4217 codes money may be in (the warehouse's `currencies` table).
 * `staged`: where the batch is staged: TEMP_STAGE, or swapStageName(spec) for a load into an empty table.
 * `exclude`: whether the deltas apply spec.deltaExclude (false while its `possible` query says it
 * can leave nothing out).
 */
export function buildBatchSql(
  spec: EntitySpec, header: string[], csvPath: string, currencies: readonly string[],
  opts: { staged?: string; exclude?: boolean } = {},
): BatchSql {
  const { staged = TEMP_STAGE, exclude = true } = opts;
  const present = new Set(header);
  const keyCols = ['tenant_id', ...spec.key];
  for (const needed of ['tenant_id', '_cursor_ts']) {
    if (!present.has(needed)) throw new Error(`profile SQL for ${spec.entity} must return a ${needed} column`);
  }
  const tenantCheck = `CASE WHEN ${blank('s.tenant_id')} THEN 'missing key tenant_id' END`;
  const checks = [tenantCheck, ...spec.columns.map((c) => checkExpr(c, present.has(c.name), spec.key.includes(c.name), currencies))].filter(
    (x): x is string => x !== null,
  );
  const columnsStruct = `{${header.map((h) => `${lit(h)}: 'VARCHAR'`).join(', ')}}`;
  // The payload is built a level up: a reference to the alias _reason in the same SELECT copies the
  // whole check expression, which doubled its planning (20 ms of every batch) and its per-row cost.
  const select = `SELECT x.* EXCLUDE (_raw), ${keyHashSql(keyCols, 'x')} AS _key,
  CASE WHEN x._reason IS NOT NULL THEN to_json(x._raw) END AS _payload FROM (
SELECT s.tenant_id AS tenant_id,
  ${spec.columns.map((c) => `${typedExpr(c, present.has(c.name))} AS ${ident(c.name)}`).join(',\n  ')},
  TRY_CAST(s._cursor_ts AS TIMESTAMP) AS _cursor_ts,
  ${rowHashSql(header, 's', 'duckdb')} AS _hash,
  nullif(concat_ws('; ', ${checks.join(', ')}), '') AS _reason,
  s AS _raw
FROM read_csv(${lit(csvPath)}, header = true, auto_detect = false, columns = ${columnsStruct},
  delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, buffer_size = ${CSV_BUFFER_BYTES}) s) x`;
  const keyList = keyCols.map(ident).join(', ');
  const cols = tableColumns(spec).map(ident).join(', ');
  const stage = staged === TEMP_STAGE
    ? `CREATE OR REPLACE TEMP TABLE ${TEMP_STAGE} AS\n${select}`
    // Canonical columns first, in the table's order, so dropping the extras leaves exactly its shape.
    : `CREATE TABLE ${ident(staged)} AS SELECT ${cols}, ${STAGE_EXTRA.map(ident).join(', ')} FROM (\n${select}\n)`;
  const from = ident(staged);
  const join = keyCols.map((k) => `t.${ident(k)} = g.${ident(k)}`).join(' AND ');
  const excluded = exclude ? spec.deltaExclude : undefined;
  const excluding = excluded !== undefined;
  const oldCols = [...keyCols, '_hash', ...(spec.delta?.columns ?? []), ...(excluded?.columns ?? [])].filter((c, i, all) => all.indexOf(c) === i).map((c) => `t.${ident(c)}`).join(', ');
  const newest = `row_number() OVER (PARTITION BY ${keyList} ORDER BY _cursor_ts DESC NULLS LAST)`;
  return {
    stage,
    // The lookback re-reads a rejected row on every run: record each distinct version once.
    reject: (source, jobRunId) => `INSERT INTO rejected_rows (source, entity, tenant_id, key, reason, payload, row_hash, job_run_id, rejected_at)
SELECT ${lit(source)}, ${lit(spec.entity)}, tenant_id, ${keyTextSql(spec, '')}, _reason, _payload, _hash::VARCHAR, ${jobRunId ?? 'NULL'}, now()::TIMESTAMP
FROM ${from} x WHERE _reason IS NOT NULL AND NOT EXISTS (
  SELECT 1 FROM rejected_rows r WHERE r.source = ${lit(source)} AND r.entity = ${lit(spec.entity)} AND r.row_hash = x._hash::VARCHAR)`,
    // The table is scanned once, here, for its key fingerprints only; the candidates' other columns are
    // fetched by rowid (the join prunes row groups by rowid range), and the delete goes by rowid too.
    findOld: `CREATE OR REPLACE TEMP TABLE ${OLD} AS SELECT t.rowid AS _rid, ${oldCols} FROM ${ident(spec.table)} t
SEMI JOIN (SELECT t.rowid AS _rid FROM ${ident(spec.table)} t SEMI JOIN ${from} g ON t._key = g._key AND g._reason IS NULL) k ON t.rowid = k._rid`,
    dropUnchanged: {
      staged: `DELETE FROM ${from} g WHERE g._reason IS NULL AND EXISTS (SELECT 1 FROM ${OLD} t WHERE ${join} AND t._hash = g._hash)`,
      old: `DELETE FROM ${OLD} t WHERE NOT EXISTS (SELECT 1 FROM ${from} g WHERE ${join} AND g._reason IS NULL)`,
    },
    deltaOld: deltaInsertSql(spec, -1, `${OLD} t`, excluding),
    deleteOld: `DELETE FROM ${ident(spec.table)} t USING ${OLD} o WHERE t.rowid = o._rid`,
    // Keys seen more than once in the batch (a lookback re-read, or a profile join that repeats a row).
    // A hash aggregate answers this far cheaper than a window over the whole batch (which spills at 10M
    // rows), and one over the key fingerprint (tenant included) cheaper than one over the key strings
    // (1M payments: 0.19 s instead of 0.31). A fingerprint collision only sends the batch through
    // dropOlderVersions, which goes by the key itself and then deletes nothing.
    duplicateKeys: `SELECT count(*) FROM (SELECT 1 FROM ${from} WHERE _reason IS NULL GROUP BY _key HAVING count(*) > 1)`,
    // Straight from the staged rows: no second copy of the batch.
    insert: `INSERT INTO ${ident(spec.table)} (${cols}) SELECT ${cols} FROM ${from} WHERE _reason IS NULL`,
    deltaNew: deltaInsertSql(spec, 1, `(SELECT * FROM ${from} WHERE _reason IS NULL) t`, excluding),
    dropRejected: `DELETE FROM ${from} WHERE _reason IS NOT NULL`,
    dropOlderVersions: `DELETE FROM ${from} WHERE rowid IN (SELECT rowid FROM ${from} WHERE _reason IS NULL QUALIFY ${newest} > 1)`,
    recordRecent: (source, floorTs) => {
      // A literal, not a subquery over the staged rows: on a table written in the same transaction
      // DuckDB only skips rows by a constant filter; with the subquery it read every key to keep 239
      // of 10M rows (10M orders: 2.3-3.8 s instead of 0.17).
      const floor = floorTs === null ? 'NULL::TIMESTAMP' : `TIMESTAMP ${lit(floorTs)}`;
      const mine = `source = ${lit(source)} AND entity = ${lit(spec.entity)}`;
      return {
        any: `SELECT EXISTS (SELECT 1 FROM ingest_recent WHERE ${mine}) AS any`,
        // Older versions of the batch's keys go too: a row changed and changed back must not match a stale entry.
        prune: `DELETE FROM ingest_recent WHERE ${mine} AND (cursor_ts < ${floor} OR key IN (SELECT ${keyTextSql(spec, '')} FROM ${from}))`,
        insert: `INSERT INTO ingest_recent SELECT ${lit(source)}, ${lit(spec.entity)}, ${keyTextSql(spec, '')}, _hash, _cursor_ts FROM ${from} WHERE _cursor_ts >= ${floor}`,
      };
    },
    swap: (columns) => [
      ...STAGE_EXTRA.map((c) => `ALTER TABLE ${from} DROP COLUMN ${ident(c)}`),
      // CREATE TABLE AS keeps types, not constraints: carry over the canonical table's.
      ...columns.filter((c) => !c.is_nullable).map((c) => `ALTER TABLE ${from} ALTER COLUMN ${ident(c.column_name)} SET NOT NULL`),
      ...columns.filter((c) => c.column_default !== null).map((c) => `ALTER TABLE ${from} ALTER COLUMN ${ident(c.column_name)} SET DEFAULT ${c.column_default}`),
      `DROP TABLE ${ident(spec.table)}`,
      `ALTER TABLE ${from} RENAME TO ${ident(spec.table)}`,
    ],
  };
}
