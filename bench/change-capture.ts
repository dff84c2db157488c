/**
 * `npm run bench:cdc` — would reading the changes out of PostgreSQL's write-ahead log (logical decoding
 * through a replication slot, as Debezium or Airbyte's CDC mode do) make an incremental pull cheaper
 * than the cursor scans the ingest runs? Prints figures, asserts nothing. BENCH_ORDERS sets the size.
 *
 * After changing 1% of every table's rows (as `npm run bench` does), each round measures, from the
 * same state:
 *   - the cursor pulls: every entity's profile SELECT after its watermark minus the lookback, two at a
 *     time, each into a file (the ingest's pull, without its seen filter);
 *   - change capture: the changes since a slot made before the change, decoded by `pgoutput`, the
 *     changed rows' keys read out (bench/pgoutput-keys.ts), and every entity's profile SELECT
 *     restricted to its changed keys (an index lookup), two at a time, each into a file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { configuredProfile } from '../src/ingest/profile.ts';
import { copyToFile, pullQuery } from '../src/ingest/pull.ts';
import { sinceFor } from '../src/ingest/run.ts';
import { startEmbeddedPostgres } from '../src/source/embedded-postgres.ts';
import { createSourceSchema } from '../src/source/schema.ts';
import { generatePricingPlatform } from '../src/synth/pricing-platform.ts';
import { flushWrites } from './flush.ts';
import { ChangeKeys } from './pgoutput-keys.ts';
import { changeEveryTable } from './source-changes.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_INCREMENTAL_ROUNDS ?? 3);
/** Per entity of pricing-platform: the source tables whose changed keys select its rows, and the expression each key matches. */
const KEYS: Record<string, [table: string, expr: string][]> = {
  customers: [['users', 'u.id']],
  products: [['products', 'p.id']],
  orders: [['orders', 'o.id']],
  payments: [['payments', 'p.id']],
  subscriptions: [['subscriptions', 's.id'], ['subscription_plans', 'sp.id']],
  page_views: [['page_views', 'v.id']],
  product_events: [['product_metrics', 'm.id']],
  experiments: [['ab_tests', 't.id']],
  experiment_units: [['ab_test_results', 'r.id']],
};
const TABLES = [...new Set(Object.values(KEYS).flatMap((ks) => ks.map(([t]) => t)))];

const fmt = (ms: number) => `${Math.round(ms)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(tmpdir(), 'pricecast-bench-'));
const server = await startEmbeddedPostgres({ settings: { wal_level: 'logical' } });
const admin = new pg.Client({ connectionString: server.url('postgres') });
try {
  await server.createDatabase('shop_before');
  let pool = new pg.Pool({ connectionString: server.url('shop_before'), max: 2 });
  await createSourceSchema(pool, 'pricing-platform');
  const client = await pool.connect();
  await generatePricingPlatform(client, { orders: ORDERS, seed: 7, end: new Date('2026-11-01T00:00:00Z') });
  client.release();
  await pool.query('VACUUM ANALYZE');
  await pool.query(`CREATE PUBLICATION pricecast FOR TABLE ${TABLES.join(', ')}`);
  const config = loadConfig({ SOURCE_DATABASE_URL: server.url('shop'), DUCKDB_PATH: join(work, 'unused.duckdb') });
  const profile = configuredProfile(config);
  // Where a full load would have left each watermark.
  const since: Record<string, string | null> = {};
  for (const { spec, sql } of profile.entities) {
    const { rows } = await pool.query<{ wm: string | null }>(`SELECT to_char(max(q._cursor_ts), 'YYYY-MM-DD HH24:MI:SS.US') AS wm FROM (${sql}) q`);
    since[spec.entity] = sinceFor(rows[0]?.wm ?? null, config.LOOKBACK_MINUTES);
  }
  await pool.end();
  await admin.connect();

  const files: string[] = [];
  // The ingest's own pull into a file, session settings included.
  const copyOut = (query: string) => {
    const path = join(work, `${files.length}.csv`);
    files.push(path);
    return copyToFile(pool, query, path);
  };
  const twoAtATime = async (queries: string[]) => {
    let next = 0;
    await Promise.all([0, 1].map(async () => {
      while (next < queries.length) await copyOut(queries[next++]!);
    }));
  };
  const cursorPulls = () => twoAtATime(profile.entities.map(({ spec, sql }) => pullQuery(sql, { since: since[spec.entity] })));
  const capture = async () => {
    const t0 = performance.now();
    const { rows: [{ lsn } = { lsn: '' }] } = await pool.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const { rows } = await pool.query<[Buffer]>({
      text: `SELECT data FROM pg_logical_slot_peek_binary_changes('pricecast', $1::pg_lsn, NULL, 'proto_version', '1', 'publication_names', 'pricecast')`,
      values: [lsn], rowMode: 'array',
    });
    const t1 = performance.now();
    const keys = new ChangeKeys();
    for (const [data] of rows) keys.add(data);
    const t2 = performance.now();
    const queries: string[] = [];
    for (const { spec, sql } of profile.entities) {
      const match = KEYS[spec.entity]!.flatMap(([table, expr]) => {
        const changed = [...(keys.tables.get(`public.${table}`) ?? [])];
        return changed.length ? [`${expr} = ANY(${pg.escapeLiteral(`{${changed.join(',')}}`)})`] : [];
      });
      if (match.length) queries.push(`SELECT * FROM (${sql} WHERE ${match.join(' OR ')}) q`);
    }
    await twoAtATime(queries);
    const keyed = [...keys.tables.values()].reduce((n, t) => n + t.size, 0);
    return { keyed, messages: rows.length, decodeMs: t1 - t0, keysMs: t2 - t1, pullMs: performance.now() - t2, totalMs: performance.now() - t0 };
  };

  const cursor: number[] = [];
  const captured: Awaited<ReturnType<typeof capture>>[] = [];
  let changed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    await admin.query('DROP DATABASE IF EXISTS shop');
    await admin.query('CREATE DATABASE shop TEMPLATE shop_before');
    pool = new pg.Pool({ connectionString: server.url('shop'), max: 2 });
    await pool.query(`SELECT pg_create_logical_replication_slot('pricecast', 'pgoutput')`);
    changed = await changeEveryTable(pool, 0.01);
    flushWrites();
    // Alternate which goes first, so neither always finds the other's pages cached.
    for (const which of round % 2 ? ['capture', 'cursor'] : ['cursor', 'capture']) {
      if (which === 'cursor') {
        const t = performance.now();
        await cursorPulls();
        cursor.push(performance.now() - t);
      } else {
        captured.push(await capture());
      }
    }
    // The decoded keys must be exactly the rows the change touched, or the comparison means nothing.
    if (captured.at(-1)!.keyed !== changed) throw new Error(`decoded ${captured.at(-1)!.keyed} changed keys, but ${changed} rows changed`);
    await pool.query(`SELECT pg_drop_replication_slot('pricecast')`);
    await pool.end();
    for (const path of files.splice(0)) rmSync(path, { force: true });
  }
  const c = median(cursor);
  const x = median(captured.map((r) => r.totalMs));
  const byTotal = captured.find((r) => r.totalMs === x)!;
  console.log(`## Change capture vs cursor pulls, ${ORDERS.toLocaleString()} orders, 1% of every table changed (${changed.toLocaleString()} rows), medians of ${ROUNDS}`);
  console.log(`cursor pulls (every entity, two at a time): ${fmt(c)}  (rounds ${cursor.map(fmt).join(', ')})`);
  console.log(`change capture: ${fmt(x)} = ${(x / c).toFixed(2)}x the cursor pulls  (rounds ${captured.map((r) => fmt(r.totalMs)).join(', ')})`);
  console.log(`  that round: decode ${byTotal.messages.toLocaleString()} messages ${fmt(byTotal.decodeMs)}, read their keys ${fmt(byTotal.keysMs)}, pull the changed rows by key ${fmt(byTotal.pullMs)}`);
} finally {
  await admin.end().catch(() => undefined);
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
