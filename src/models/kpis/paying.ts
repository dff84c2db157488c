import type { DuckDBConnection } from '@duckdb/node-api';
import { all, dropScratch } from '../../warehouse/warehouse.ts';
import { STILL_COUNTS } from './summing.ts';

/**
 * Exact distinct paying customers without count(DISTINCT) at request time.
 *
 * kpi_paying_15m has one row per (customer, 15-minute bucket with a succeeded/refunded payment) and
 * the customer's previous and next such bucket. The customers paying in [a, b) are exactly the rows in
 * [a, b) whose `prev` is before `a` or null (a customer's first row in the range), so the count is a
 * filtered count, and `prev IS NULL` marks a customer's first payment (new customers).
 *
 * A filtered count still reads every row in the range. kpi_paying_days keeps that count per UTC day
 * d for every cut-off day p ≤ d: n(p, d) = rows on day d with prev before midnight of p (or null). A
 * year's interior then costs one slice of the table (p fixed, ≤ 366 rows), and only the partial days
 * at the edges are counted from kpi_paying_15m (see payingCustomersSql).
 */

/** When a (customer, bucket) pair of kpi_customer_15m, its rows grouped, has a paid payment. */
const STILL_PAID = STILL_COUNTS.kpi_customer_15m;

/** Builds every paying table from kpi_customer_15m (itself already rebuilt). */
export async function rebuildPayingAll(conn: DuckDBConnection): Promise<void> {
  for (const t of ['kpi_paying_15m', 'kpi_paying_days', 'kpi_paying_lo', 'kpi_new_customers_15m']) await conn.run(`DELETE FROM ${t}`);
  // Sorted by bucket so a range query prunes row groups by their min/max.
  await conn.run(`INSERT INTO kpi_paying_15m (${PAY.join(', ')})
    SELECT tenant_id, bucket, lag(bucket) OVER w, lead(bucket) OVER w, cfp
    FROM (SELECT tenant_id, bucket, cfp FROM kpi_customer_15m WHERE cfp IS NOT NULL GROUP BY ALL HAVING ${STILL_PAID})
    WINDOW w AS (PARTITION BY tenant_id, cfp ORDER BY bucket)
    ORDER BY tenant_id, bucket`);
  await conn.run(`INSERT INTO kpi_paying_lo SELECT tenant_id, min(bucket)::DATE FROM kpi_paying_15m GROUP BY ALL`);
  await conn.run(`INSERT INTO kpi_paying_days ${daysSelect('TRUE')} ORDER BY tenant_id, p, d`);
  await conn.run(`INSERT INTO kpi_new_customers_15m
    SELECT tenant_id, bucket, count(*) FROM kpi_paying_15m WHERE prev IS NULL GROUP BY ALL ORDER BY ALL`);
}

/**
 * n(p, d) for the days matching `dayFilter` (SQL over alias k: tenant_id, d): per day, the rows are
 * counted by the day of their prev, then a running sum over p turns "prev on day p − 1" into "prev
 * before p". lo is the tenant's first paying day, so no prev is earlier and n(lo, d) counts the nulls.
 * `bucketFilter` (over kpi_paying_15m's columns) narrows the scan by bucket, so zone maps skip row groups.
 */
function daysSelect(dayFilter: string, bucketFilter = 'TRUE'): string {
  return `
    WITH k AS (
      SELECT tenant_id, bucket::DATE AS d, prev::DATE AS q FROM kpi_paying_15m WHERE ${bucketFilter}),
    m AS (
      SELECT tenant_id, d, q, count(*) AS c FROM k WHERE ${dayFilter} GROUP BY ALL),
    grid AS (
      SELECT x.tenant_id, x.d, unnest(generate_series(lo.lo, x.d, INTERVAL 1 DAY))::DATE AS p
      FROM (SELECT DISTINCT tenant_id, d FROM m) x JOIN kpi_paying_lo lo ON lo.tenant_id = x.tenant_id)
    SELECT g.tenant_id, g.p, g.d,
      coalesce(nul.c, 0) + coalesce(sum(m.c) OVER (PARTITION BY g.tenant_id, g.d ORDER BY g.p ROWS UNBOUNDED PRECEDING), 0) AS n
    FROM grid g
    LEFT JOIN m ON m.tenant_id = g.tenant_id AND m.d = g.d AND m.q = g.p - 1
    LEFT JOIN m nul ON nul.tenant_id = g.tenant_id AND nul.d = g.d AND nul.q IS NULL`;
}

/** kpi_paying_15m's columns; a customer is known by cfp, md5_number(customer_id) (see migration 6). */
const PAY = ['tenant_id', 'bucket', 'prev', 'next', 'cfp'];
const samePair = (a: string, b: string) => `${a}.tenant_id = ${b}.tenant_id AND ${a}.cfp = ${b}.cfp AND ${a}.bucket = ${b}.bucket`;

/**
 * After some (customer, bucket) pairs of kpi_customer_15m may have appeared or gone (`_kpi_touched`:
 * tenant_id, cfp, bucket — the pairs whose count of paid payments moved): recomputes the
 * kpi_paying_15m rows of those customers, writes only the rows that differ, and refreshes the day
 * counts and new-customer counts of the days those rows are on.
 *
 * Their customers' other pairs did not change, so the new pair set is the old rows minus the touched
 * pairs plus the touched pairs kpi_customer_15m still has (looked up by bucket range, which its
 * zone maps prune): kpi_paying_15m is scanned once, for the touched customers' rows, and rows go
 * by rowid. The day tables are rescanned only over the days that moved.
 */
export async function refreshPaying(conn: DuckDBConnection): Promise<void> {
  try {
    await refreshPayingRows(conn);
  } finally {
    await dropScratch(conn, ['_kpi_pay_old', '_kpi_pay_new', '_kpi_pay_diff', '_kpi_pay_days']);
  }
}

async function refreshPayingRows(conn: DuckDBConnection): Promise<void> {
  const [range] = await all<{ n: string; lo: string | null; hi: string | null }>(conn,
    'SELECT count(*) AS n, min(bucket)::VARCHAR AS lo, max(bucket)::VARCHAR AS hi FROM _kpi_touched');
  if (Number(range?.n ?? 0) === 0) return;
  const customers = `SEMI JOIN (SELECT DISTINCT tenant_id, cfp FROM _kpi_touched) t ON t.tenant_id = k.tenant_id AND t.cfp = k.cfp`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_pay_old AS SELECT k.rowid AS _rid, ${PAY.map((c) => `k.${c}`).join(', ')} FROM kpi_paying_15m k ${customers}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_pay_new AS
    SELECT tenant_id, bucket, lag(bucket) OVER w AS prev, lead(bucket) OVER w AS next, cfp FROM (
      SELECT o.tenant_id, o.bucket, o.cfp FROM _kpi_pay_old o ANTI JOIN _kpi_touched p ON ${samePair('p', 'o')}
      UNION ALL
      SELECT k.tenant_id, k.bucket, k.cfp FROM kpi_customer_15m k SEMI JOIN _kpi_touched p ON ${samePair('p', 'k')}
      WHERE k.bucket BETWEEN $lo::TIMESTAMP AND $hi::TIMESTAMP GROUP BY ALL HAVING ${STILL_PAID})
    WINDOW w AS (PARTITION BY tenant_id, cfp ORDER BY bucket)`, { lo: range!.lo, hi: range!.hi });
  // One outer join of the old and new rows of those customers gives every row that differs: the
  // old version goes (by rowid), the new one comes, and the day counts and new-customer counts,
  // which depend on (bucket, prev) only, move on the days of pairs that came, went or changed prev.
  // A row whose `next` alone changed (a customer's last payment before a new one) moves neither.
  await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_pay_diff AS SELECT * EXCLUDE (next_moved) FROM (
    SELECT o._rid, coalesce(n.tenant_id, o.tenant_id) AS tenant_id, coalesce(n.bucket, o.bucket) AS bucket,
      n.prev, n.next, n.cfp, n.bucket IS NOT NULL AS came,
      o.bucket IS NULL OR n.bucket IS NULL OR o.prev IS DISTINCT FROM n.prev AS day_moved,
      o.next IS DISTINCT FROM n.next AS next_moved
    FROM _kpi_pay_old o FULL JOIN _kpi_pay_new n ON ${samePair('n', 'o')})
    WHERE day_moved OR next_moved`);
  await conn.run(`DELETE FROM kpi_paying_15m k USING _kpi_pay_diff g WHERE k.rowid = g._rid`);
  await conn.run(`INSERT INTO kpi_paying_15m (${PAY.join(', ')}) SELECT ${PAY.join(', ')} FROM _kpi_pay_diff WHERE came ORDER BY tenant_id, bucket`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_pay_days AS SELECT DISTINCT tenant_id, bucket::DATE AS d FROM _kpi_pay_diff WHERE day_moved`);
  const [days] = await all<{ n: string; lo: string | null; hi: string | null }>(conn,
    `SELECT count(*) AS n, min(d)::VARCHAR AS lo, (max(d) + 1)::VARCHAR AS hi FROM _kpi_pay_days`);
  // A tenant's first paying day lo moved (a payment before it, or its first payments gone): the
  // cumulative counts of every day start there, so they are all rebuilt. Only a row that differs on
  // or before lo can move it, so the table's minimum is read only then.
  const [near] = await all<{ any: boolean }>(conn, `
    SELECT EXISTS (SELECT 1 FROM _kpi_pay_diff g LEFT JOIN kpi_paying_lo lo ON lo.tenant_id = g.tenant_id
      WHERE lo.lo IS NULL OR g.bucket::DATE <= lo.lo) AS any`);
  const [lo] = near?.any ? await all<{ n: string }>(conn, `
    SELECT count(*) AS n FROM (SELECT tenant_id, min(bucket)::DATE AS lo FROM kpi_paying_15m GROUP BY ALL) a
    FULL JOIN kpi_paying_lo lo ON lo.tenant_id = a.tenant_id
    WHERE a.lo IS DISTINCT FROM lo.lo`) : [];
  const loMoved = Number(lo?.n ?? 0) > 0;
  if (loMoved) {
    await conn.run(`DELETE FROM kpi_paying_lo`);
    await conn.run(`INSERT INTO kpi_paying_lo SELECT tenant_id, min(bucket)::DATE FROM kpi_paying_15m GROUP BY ALL`);
    await conn.run(`DELETE FROM kpi_paying_days`);
    await conn.run(`INSERT INTO kpi_paying_days ${daysSelect('TRUE')} ORDER BY tenant_id, p, d`);
  }
  if (Number(days?.n ?? 0) > 0) {
    // Literal bounds (not a subquery) so scans of kpi_paying_15m, sorted by bucket, skip row groups.
    const inRange = `bucket >= TIMESTAMP '${days!.lo}' AND bucket < TIMESTAMP '${days!.hi}'`;
    if (!loMoved) {
      const inDays = `EXISTS (SELECT 1 FROM _kpi_pay_days a WHERE a.tenant_id = k.tenant_id AND a.d = k.d)`;
      await conn.run(`DELETE FROM kpi_paying_days k WHERE ${inDays}`);
      await conn.run(`INSERT INTO kpi_paying_days ${daysSelect(inDays, inRange)} ORDER BY tenant_id, p, d`);
    }
    await conn.run(`DELETE FROM kpi_new_customers_15m k
      WHERE EXISTS (SELECT 1 FROM _kpi_pay_days a WHERE a.tenant_id = k.tenant_id AND a.d = k.bucket::DATE)`);
    await conn.run(`INSERT INTO kpi_new_customers_15m
      SELECT k.tenant_id, k.bucket, count(*) FROM kpi_paying_15m k
      WHERE ${inRange} AND k.prev IS NULL AND EXISTS (SELECT 1 FROM _kpi_pay_days a WHERE a.tenant_id = k.tenant_id AND a.d = k.bucket::DATE)
      GROUP BY ALL ORDER BY ALL`);
  }
}

const DAY_MS = 86_400_000;

/** Day edges of a range for payingCustomersSql, as named parameters suffixed with `i`. */
export function payingParams(from: Date, to: Date, i: number): Record<string, string> {
  const ts = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
  const f = from.getTime();
  const t = to.getTime();
  const floorDay = Math.floor(f / DAY_MS) * DAY_MS;
  let a = Math.ceil(f / DAY_MS) * DAY_MS;
  let b = Math.floor(t / DAY_MS) * DAY_MS;
  // No whole UTC day inside: everything is counted from the 15-minute rows.
  if (a >= b) a = b = t;
  return { [`pa${i}`]: ts(a), [`pb${i}`]: ts(b), [`pp${i}`]: ts(floorDay) };
}

/**
 * Distinct paying customers in [$from_i, $to_i) (the caller names the range parameters), exact:
 * - the partial days at either edge, [from, A) and [B, to): rows whose prev is before `from`;
 * - the whole days [A, B): rows with prev before midnight of from's day P, from kpi_paying_days
 *   (p clamped to the tenant's first paying day, where the count is the same) …
 * - … plus the rows in [A, B) whose prev lies in [P, from): each is the `next` of a row in [P, from).
 */
export function payingCustomersSql(from: string, to: string, i: number): string {
  const A = `$pa${i}::TIMESTAMP`;
  const B = `$pb${i}::TIMESTAMP`;
  const P = `$pp${i}::TIMESTAMP`;
  return `(
    (SELECT count(*) FROM kpi_paying_15m WHERE tenant_id = $tenant AND bucket >= ${from} AND bucket < ${A} AND (prev IS NULL OR prev < ${from}))
  + (SELECT count(*) FROM kpi_paying_15m WHERE tenant_id = $tenant AND bucket >= ${B} AND bucket < ${to} AND (prev IS NULL OR prev < ${from}))
  + (SELECT coalesce(sum(n), 0) FROM kpi_paying_days WHERE tenant_id = $tenant AND d >= ${A}::DATE AND d < ${B}::DATE
       AND p = (SELECT greatest(${P}::DATE, max(lo)) FROM kpi_paying_lo WHERE tenant_id = $tenant))
  + (SELECT count(*) FROM kpi_paying_15m WHERE tenant_id = $tenant AND bucket >= ${P} AND bucket < ${from} AND next >= ${A} AND next < ${B}))`;
}
