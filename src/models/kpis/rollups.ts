import type { DuckDBConnection } from '@duckdb/node-api';
import { all, dropScratch, type Warehouse } from '../../warehouse/warehouse.ts';
import { SUBSCRIPTION_DAYS_SQL } from '../../warehouse/migrations.ts';
import { rebuildPayingAll, refreshPaying } from './paying.ts';
import { COUNTED_PAYMENTS, COUNTED_SUBSCRIPTIONS } from '../../ingest/stripe/dedupe.ts';

/**
 * KPI rollups: 15-minute UTC buckets per tenant (and currency / product / customer where a metric
 * needs it). Every rollup column is a count or a sum, so a change of the facts is a signed change of
 * the rollups: the ingest writes, in the same transaction as the facts, a narrow copy of each replaced
 * or deleted version with sign −1 and of each inserted version with sign +1 (delta_<entity>, see
 * migration 3). A refresh sums the deltas per rollup row, adds them to the rollups, drops the rows
 * whose facts are all gone, recomputes the paying-customer tables of the customers whose buckets
 * changed, and deletes the deltas it folded in. The work follows the change, not the history: a random
 * 1% change spread over every day costs about 1% of a rebuild.
 *
 * An entity whose deltas are a large share of its facts (or that the ingest marked in delta_overflow,
 * e.g. after a first or full load) gets its rollups rebuilt from the facts instead.
 *
 * The two rollups as long as the payments themselves (per customer, per product) are summing tables:
 * a refresh appends its signed sums as new rows instead of updating the rows they belong to, and
 * readers sum the rows of a key, as they do over buckets anyway. A MERGE there had to scan the whole
 * table for a change spread over the history, and updating 50k scattered rows made the commit and the
 * next checkpoint rewrite nearly every row group (10M orders, 1% of payments changed: the refresh took
 * 2.1-2.3 s with its checkpoint, appending 0.8 s plus a 0.4 s checkpoint). Compaction merges each key's
 * rows back into one: daily (`compact`, from the reconcile job) and whenever the appended rows pass
 * COMPACT_SHARE of the table.
 */

type Entity = 'payments' | 'orders' | 'page_views' | 'product_events';

/**
 * The fact table, its delta table and its timestamp column, per entity the rollups read; `counted`,
 * the facts a rebuild counts when not all of them (the deltas leave out the same rows).
 */
const FACTS: Record<Entity, { facts: string; deltas: string; ts: string; daysTable: string; counted?: string }> = {
  payments: { facts: 'payments', deltas: 'delta_payments', ts: 'created_at', daysTable: 'kpi_payments_15m', counted: COUNTED_PAYMENTS },
  orders: { facts: 'orders', deltas: 'delta_orders', ts: 'created_at', daysTable: 'kpi_orders_15m' },
  page_views: { facts: 'page_views', deltas: 'delta_page_views', ts: 'ts', daysTable: 'kpi_page_views_15m' },
  product_events: { facts: 'product_events', deltas: 'delta_product_events', ts: 'ts', daysTable: 'kpi_product_events_15m' },
};
const ENTITIES = Object.keys(FACTS) as Entity[];

/**
 * An aggregate over rows of alias f. `w` is null over the facts (each row counts once) and the sign
 * column over the deltas (a row counts +1 or −1), so the same definition serves the rebuild and the
 * delta; both coalesce to 0 so a sum over no rows adds nothing.
 */
type Agg = (w: string | null) => string;
const filt = (where?: string) => (where ? ` FILTER (WHERE ${where})` : '');
const count = (where?: string): Agg => (w) => (w === null ? `count(*)${filt(where)}` : `coalesce(sum(${w})${filt(where)}, 0)`);
const total = (expr: string, where?: string): Agg => (w) => `coalesce(sum(${w === null ? expr : `${w} * ${expr}`})${filt(where)}, 0)`;

/** One fact rollup: rows keyed by (tenant_id, bucket, ...dims), every value a count or a sum. */
interface FactRollup {
  table: string;
  entity: Entity;
  /** Group columns after tenant_id and bucket; they may be NULL (matched with IS NOT DISTINCT FROM). */
  dims: string[];
  /** Value columns in table order. */
  values: [name: string, agg: Agg][];
  /** Which facts (alias f) the rollup counts. */
  where?: string;
  /** True of a row with no facts left: its counts are all 0. */
  empty: string;
  /** Columns computed from a grouped row (after the values in the table), and the columns that
   * identify a row instead of the dims when folding deltas in. */
  derived?: [name: string, expr: string][];
  match?: string[];
  /** A summing table: deltas are appended, not merged (see the top of this file). */
  append?: true;
}

const PAID = `f.status IN ('succeeded', 'refunded')`;

const ROLLUPS: FactRollup[] = [
  {
    table: 'kpi_payments_15m', entity: 'payments', dims: ['currency'],
    values: [
      ['succeeded', count(`f.status = 'succeeded'`)], ['refunded', count(`f.status = 'refunded'`)],
      ['failed', count(`f.status = 'failed'`)], ['pending', count(`f.status = 'pending'`)],
      ['gross', total('f.amount', PAID)], ['refunds', total('f.refunded_amount', PAID)],
    ],
    empty: 'succeeded = 0 AND refunded = 0 AND failed = 0 AND pending = 0',
  },
  {
    table: 'kpi_orders_15m', entity: 'orders', dims: ['currency'],
    values: [['orders', count()], ['order_value', total('f.total')]],
    where: `f.status IN ('paid', 'fulfilled', 'refunded')`,
    empty: 'orders = 0',
  },
  {
    table: 'kpi_page_views_15m', entity: 'page_views', dims: [],
    values: [['views', total('f.views')], ['rows', count()]],
    empty: 'rows = 0',
  },
  {
    table: 'kpi_product_events_15m', entity: 'product_events', dims: ['product_id'],
    values: [['views', total('f.views')], ['cart_adds', total('f.cart_adds')], ['sales', total('f.sales')], ['rows', count()]],
    empty: 'rows = 0',
  },
  {
    table: 'kpi_product_payments_15m', entity: 'payments', dims: ['product_id', 'currency'],
    values: [['units', count()], ['gross', total('f.amount')], ['refunds', total('f.refunded_amount')]],
    where: `${PAID} AND f.product_id IS NOT NULL`,
    empty: 'units = 0',
    append: true,
  },
  // Before the paying tables: they are derived from this one.
  {
    table: 'kpi_customer_15m', entity: 'payments', dims: ['customer_id', 'currency'],
    values: [['payments', count()], ['gross', total('f.amount')], ['refunds', total('f.refunded_amount')]],
    where: PAID,
    empty: 'payments = 0',
    // Matched by the customer's fingerprint: a join on the id's string over a table as long as the
    // payments cost twice as much (10M orders: MERGE 0.6-0.7 s instead of 0.35).
    derived: [['cfp', 'md5_number(customer_id)']],
    match: ['cfp', 'currency'],
    append: true,
  },
];

/** SELECT of a rollup's rows (tenant_id, bucket, ...dims, ...values) from `from` (alias f). */
function rollupSelect(r: FactRollup, from: string, w: string | null): string {
  const ts = FACTS[r.entity].ts;
  const grouped = `SELECT f.tenant_id, time_bucket(INTERVAL 15 MINUTE, f.${ts}) AS bucket, ${r.dims.map((d) => `f.${d}`).join(', ')}${r.dims.length ? ', ' : ''}
      ${r.values.map(([name, agg]) => `${agg(w)} AS ${name}`).join(', ')}
    FROM ${from} f ${r.where ? `WHERE ${r.where}` : ''} GROUP BY ALL`;
  return withDerived(r, grouped);
}

const withDerived = (r: FactRollup, select: string) =>
  r.derived ? `SELECT *, ${r.derived.map(([name, expr]) => `${expr} AS ${name}`).join(', ')} FROM (${select})` : select;

const columnsOf = (r: FactRollup) => ['tenant_id', 'bucket', ...r.dims, ...r.values.map(([n]) => n), ...(r.derived ?? []).map(([n]) => n)];
/** With tenant_id and bucket, the columns that identify a rollup row (folding deltas in, compacting). */
const matchDims = (r: FactRollup) => r.match ?? r.dims;
const matchOf = (r: FactRollup, a: string, b: string) =>
  [`${a}.tenant_id = ${b}.tenant_id`, `${a}.bucket = ${b}.bucket`, ...matchDims(r).map((d) => `${a}.${d} IS NOT DISTINCT FROM ${b}.${d}`)].join(' AND ');

/**
 * Above this share of an entity's facts, folding its deltas (each rollup row touched is found by a
 * join, then updated) costs about what rebuilding its rollups from the facts does.
 */
const FULL_REBUILD_SHARE = 0.2;
/** At or below this many delta rows the deltas are always folded in (a small table's rebuild is cheap either way). */
const FOLD_MIN_ROWS = 10_000;
/**
 * A summing rollup is compacted in the refresh once the rows appended since its last compaction pass
 * this share of the rest (and FOLD_MIN_ROWS): readers then never scan more than that share extra.
 */
export const COMPACT_SHARE = 0.25;

export interface RefreshOptions {
  /** Rebuild everything from the facts (also done automatically when no refresh ever ran). */
  full?: boolean;
  /** Also compact every summing rollup that has appended rows (the daily reconcile does). */
  compact?: boolean;
  /** Clock for `computed_at` (tests). */
  now?: () => Date;
}

export interface RefreshResult {
  /** (tenant, UTC day) pairs recomputed or adjusted. */
  days: number;
  /** Summing rollups compacted by this refresh. */
  compacted: string[];
  computedAt: string;
}

/**
 * Brings every rollup up to date with the facts: folds in the deltas the ingest recorded since the
 * last refresh (or rebuilds an entity's rollups from its facts when that is cheaper, when `full`, or
 * when the rollups were never computed), deletes the deltas, and records `computed_at` and `as_of`,
 * all in one writer transaction: readers see either the old rollups or the new ones, never a mix.
 */
export async function refreshRollups(wh: Warehouse, opts: RefreshOptions = {}): Promise<RefreshResult> {
  const computedAt = (opts.now?.() ?? new Date()).toISOString();
  return wh.transaction(async (conn) => {
    const state = await all<{ n: string }>(conn, 'SELECT count(*) AS n FROM kpi_rollup_state');
    const everything = opts.full === true || Number(state[0]?.n ?? 0) === 0;
    const plan = await planRefresh(conn, everything);
    const fullRefresh = ENTITIES.every((e) => plan[e] === 'rebuild');
    await conn.run('CREATE OR REPLACE TEMP TABLE _kpi_days (tenant_id VARCHAR, day DATE)');
    try {
      for (const e of ENTITIES) {
        const { deltas, ts } = FACTS[e];
        if (plan[e] === 'fold') {
          await conn.run(`INSERT INTO _kpi_days SELECT DISTINCT tenant_id, CAST(${ts} AS DATE) FROM ${deltas}`);
          await foldDeltas(conn, e);
        } else if (plan[e] === 'rebuild') {
          await rebuildEntity(conn, e);
          await conn.run(`INSERT INTO _kpi_days SELECT DISTINCT tenant_id, CAST(bucket AS DATE) FROM ${FACTS[e].daysTable}`);
        }
        if (plan[e] !== 'none') await conn.run(`DELETE FROM ${deltas}`);
      }
      await conn.run('DELETE FROM delta_overflow');
      // Only a fold appends: a table whose entity was not folded is as the last check left it.
      const compacted = await compactDue(conn, opts.compact === true ? 'all' : ENTITIES.filter((e) => plan[e] === 'fold'));
      const [subs] = await all<{ changed: boolean }>(conn, `SELECT EXISTS (SELECT 1 FROM changed_entities WHERE entity = 'subscriptions') AS changed`);
      // Rewriting every event row when nothing changed also pushed DuckDB into a checkpoint at COMMIT.
      if (everything || subs?.changed) await rebuildSubscriptionEvents(conn);
      await conn.run('DELETE FROM changed_entities');
      const [d] = await all<{ n: string }>(conn, 'SELECT count(*) AS n FROM (SELECT DISTINCT tenant_id, day FROM _kpi_days)');
      const days = Number(d?.n ?? 0);
      await conn.run(`DELETE FROM kpi_rollup_state`);
      await conn.run(
        `INSERT INTO kpi_rollup_state
         SELECT 1, $computed::TIMESTAMP, (SELECT max(watermark_ts) FROM ingest_state), $days, $full`,
        { computed: computedAt.replace('T', ' ').replace('Z', ''), days, full: fullRefresh },
      );
      return { days, compacted, computedAt };
    } finally {
      await dropScratch(conn, ['_kpi_days']);
    }
  });
}

type Step = 'none' | 'fold' | 'rebuild';

/** Per entity: nothing to do, fold the deltas in, or rebuild from the facts. */
async function planRefresh(conn: DuckDBConnection, everything: boolean): Promise<Record<Entity, Step>> {
  const [r] = await all<Record<string, string | boolean>>(conn, `SELECT
    ${ENTITIES.map((e) => `(SELECT count(*) FROM ${FACTS[e].deltas}) AS "d_${e}", (SELECT count(*) FROM ${FACTS[e].facts}) AS "f_${e}",
      EXISTS (SELECT 1 FROM delta_overflow WHERE entity = '${e}') AS "o_${e}"`).join(',\n    ')}`);
  const plan = {} as Record<Entity, Step>;
  for (const e of ENTITIES) {
    const deltas = Number(r?.[`d_${e}`] ?? 0);
    const facts = Number(r?.[`f_${e}`] ?? 0);
    if (everything || r?.[`o_${e}`] === true || (deltas > FOLD_MIN_ROWS && deltas > FULL_REBUILD_SHARE * facts)) plan[e] = 'rebuild';
    else plan[e] = deltas > 0 ? 'fold' : 'none';
  }
  return plan;
}

async function rebuildEntity(conn: DuckDBConnection, e: Entity): Promise<void> {
  for (const r of ROLLUPS.filter((x) => x.entity === e)) {
    await conn.run(`DELETE FROM ${r.table}`);
    // Sorted by (tenant, bucket): range queries then skip row groups by their min/max bucket.
    await conn.run(`INSERT INTO ${r.table} (${columnsOf(r).join(', ')}) ${rollupSelect(r, FACTS[e].counted ?? FACTS[e].facts, null)} ORDER BY 1, 2`);
  }
  if (e === 'payments') await rebuildPayingAll(conn);
}

/**
 * Compacts the summing rollups of `entities` whose appended rows passed COMPACT_SHARE (or, for
 * 'all', every one that has any), and returns their names: each key with an appended row gets its rows replaced by
 * their sum, or by nothing when they cancel out. Only those keys are read and rewritten, so this
 * costs about one MERGE of the appended rows, and the paying tables, which read kpi_customer_15m by
 * its sums, stand.
 */
async function compactDue(conn: DuckDBConnection, entities: Entity[] | 'all'): Promise<string[]> {
  const everyAppended = entities === 'all';
  const done: string[] = [];
  for (const r of ROLLUPS.filter((x) => x.append && (everyAppended || entities.includes(x.entity)))) {
    const [a] = await all<{ appended: string; n: string }>(conn,
      `SELECT count(*) FILTER (WHERE appended) AS appended, count(*) AS n FROM ${r.table}`);
    const appended = Number(a?.appended ?? 0);
    const due = everyAppended ? appended > 0 : appended > FOLD_MIN_ROWS && appended > COMPACT_SHARE * (Number(a?.n ?? 0) - appended);
    if (!due) continue;
    const keys = ['tenant_id', 'bucket', ...r.dims];
    const sameKey = matchOf(r, 't', 'k');
    try {
      await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_keys AS SELECT DISTINCT ${['tenant_id', 'bucket', ...matchDims(r)].join(', ')} FROM ${r.table} WHERE appended`);
      await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_sums AS ${withDerived(r, `SELECT * FROM (
        SELECT ${keys.map((k) => `t.${k}`).join(', ')}, ${r.values.map(([name]) => `sum(t.${name}) AS ${name}`).join(', ')}
        FROM ${r.table} t SEMI JOIN _kpi_keys k ON ${sameKey} GROUP BY ALL) WHERE NOT (${r.empty})`)}`);
      await conn.run(`DELETE FROM ${r.table} t USING _kpi_keys k WHERE ${sameKey}`);
      const cols = columnsOf(r).join(', ');
      await conn.run(`INSERT INTO ${r.table} (${cols}) SELECT ${cols} FROM _kpi_sums ORDER BY tenant_id, bucket`);
    } finally {
      await dropScratch(conn, ['_kpi_keys', '_kpi_sums']);
    }
    done.push(r.table);
  }
  return done;
}

/**
 * Adds the signed sums of an entity's deltas to its rollups in one MERGE per table: rows whose key is
 * new are inserted, the others updated in place (their order, and so the zone maps, stay), and rows
 * left with no facts are deleted. A summing rollup gets the sums appended instead. For payments, the
 * (customer, bucket) pairs whose count of paid payments moved (the only way a pair starts or stops
 * paying) then get their customers' paying rows recomputed.
 */
async function foldDeltas(conn: DuckDBConnection, e: Entity): Promise<void> {
  try {
    if (e === 'payments') await conn.run('CREATE OR REPLACE TEMP TABLE _kpi_touched (tenant_id VARCHAR, cfp UHUGEINT, bucket TIMESTAMP)');
    for (const r of ROLLUPS.filter((x) => x.entity === e)) {
      const cols = columnsOf(r);
      const values = r.values.map(([n]) => n);
      const sum = (v: string) => `t.${v} + d.${v}`;
      // Sums per rollup row; a version replaced by an identical one (a lookback re-read) cancels out.
      await conn.run(`CREATE OR REPLACE TEMP TABLE _kpi_d AS SELECT * FROM (${rollupSelect(r, FACTS[e].deltas, 'f.sign')})
        WHERE NOT (${values.map((v) => `${v} = 0`).join(' AND ')})`);
      if (r.append) {
        await conn.run(`INSERT INTO ${r.table} (${cols.join(', ')}, appended) SELECT ${cols.join(', ')}, true FROM _kpi_d`);
      } else {
        const emptyAfter = r.empty.replace(/\b(\w+) = 0/g, (_, v: string) => `${sum(v)} = 0`);
        await conn.run(`MERGE INTO ${r.table} t USING _kpi_d d ON ${matchOf(r, 't', 'd')}
          WHEN MATCHED AND ${emptyAfter} THEN DELETE
          WHEN MATCHED THEN UPDATE SET ${values.map((v) => `${v} = ${sum(v)}`).join(', ')}
          WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${cols.map((c) => `d.${c}`).join(', ')})`);
      }
      if (r.table === 'kpi_customer_15m') {
        await conn.run(`INSERT INTO _kpi_touched SELECT DISTINCT tenant_id, cfp, bucket FROM _kpi_d WHERE customer_id IS NOT NULL AND payments <> 0`);
      }
    }
    if (e === 'payments') await refreshPaying(conn);
  } finally {
    await dropScratch(conn, ['_kpi_d', '_kpi_touched']);
  }
}

/**
 * Subscriptions as signed events. A subscription counts toward MRR at t when started_at <= t, it is
 * not cancelled by t (cancelled_at null or > t) and its status is not trialing/paused: +amount at
 * started_at, −amount at cancelled_at, so MRR(t) = Σ mrr_delta over ts <= t. One that was cancelled
 * before (or when) it started is never active and emits no MRR events. Every cancellation also counts
 * once in `cancels` at cancelled_at (the churn numerator). A database subscription Stripe also holds
 * counts once, as Stripe's (COUNTED_SUBSCRIPTIONS).
 */
async function rebuildSubscriptionEvents(conn: DuckDBConnection): Promise<void> {
  await conn.run('DELETE FROM kpi_subscription_events');
  await conn.run(`
    INSERT INTO kpi_subscription_events
    WITH counted AS MATERIALIZED ${COUNTED_SUBSCRIPTIONS},
    eligible AS (
      SELECT tenant_id, started_at, cancelled_at, currency, coalesce(monthly_amount, 0) AS amount
      FROM counted
      WHERE started_at IS NOT NULL AND status NOT IN ('trialing', 'paused', 'incomplete')
        AND (cancelled_at IS NULL OR cancelled_at > started_at)),
    ev AS (
      SELECT tenant_id, started_at AS ts, currency, amount AS mrr_delta, 1 AS active_delta, 0 AS cancels FROM eligible
      UNION ALL
      SELECT tenant_id, cancelled_at, currency, -amount, -1, 0 FROM eligible WHERE cancelled_at IS NOT NULL
      UNION ALL
      SELECT tenant_id, cancelled_at, currency, 0, 0, 1 FROM counted WHERE cancelled_at IS NOT NULL)
    SELECT tenant_id, ts, currency, sum(mrr_delta), sum(active_delta), sum(cancels) FROM ev GROUP BY ALL ORDER BY 1, 2`);
  await conn.run('DELETE FROM kpi_subscription_days');
  await conn.run(SUBSCRIPTION_DAYS_SQL);
}
