/**
 * `npm run bench` — prints figures and ratios, asserts nothing. BENCH_ORDERS sets the size (default
 * 1,000,000). Every figure is compared with a baseline measured in the same run on the same machine:
 *   1. full ingest vs a raw `COPY (profile SELECT) TO STDOUT` of the same rows (throughput ratio, peak RSS)
 *   2. an incremental run after changing 1% of the payments vs the full load (cost ratio; median of
 *      three), in a fresh process and in one that already ran an ingest (the service's steady state);
 *      then the same after changing 1% of every table's rows
 *   3. /v1/kpis/summary and /v1/kpis/timeseries over HTTP vs the same aggregate run in PostgreSQL
 *   4. the models (bench/models.ts)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { generateApiKey } from '../src/api-keys.ts';
import { createApp } from '../src/api/app.ts';
import { KpiCache } from '../src/models/kpis/cache.ts';
import { COMPACT_SHARE } from '../src/models/kpis/rollups.ts';
import { serve } from '../src/api/server.ts';
import { bytesOf, loadConfig } from '../src/config.ts';
import { configuredProfile } from '../src/ingest/profile.ts';
import { startEmbeddedPostgres } from '../src/source/embedded-postgres.ts';
import { createSourceSchema } from '../src/source/schema.ts';
import { generatePricingPlatform } from '../src/synth/pricing-platform.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';
import { benchModels } from './models.ts';
import { flushWrites } from './flush.ts';
import { changeEveryTable, changePayments } from './source-changes.ts';
import { rawCopy } from './raw-copy.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 300);
const INCREMENTAL_ROUNDS = Number(process.env.BENCH_INCREMENTAL_ROUNDS ?? 3);
/**
 * `1`: index the cursor expressions of the big source tables first, as a user may (seed 004 has none,
 * so by default every incremental pull scans them whole).
 */
const CURSOR_INDEXES = process.env.BENCH_CURSOR_INDEXES === '1';
/** `0`: leave out the models (section 4). */
const MODELS = process.env.BENCH_MODELS !== '0';

/** The cursor expressions of pricing-platform's profile SQL on its large tables. */
const CURSOR_INDEX_DDL = [
  'CREATE INDEX bench_users_cursor ON users ((coalesce(updated_at, created_at)))',
  'CREATE INDEX bench_orders_cursor ON orders (created_at)',
  'CREATE INDEX bench_payments_cursor ON payments ((greatest(created_at, completed_at, failed_at)))',
  'CREATE INDEX bench_subscriptions_cursor ON subscriptions ((greatest(created_at, cancelled_at, current_period_start)))',
];
/**
 * A pool for the bench's own queries. pg-pool's end() returns before its connections have closed, so
 * stopping the server right after can reach one still open; its "terminating connection" error then
 * lands on the pool, which must have a listener or the process dies after printing every figure.
 */
function benchPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  return pool;
}
const fmt = (n: number, d = 1) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function timeMany(n: number, fn: () => Promise<unknown>, warmup = Math.min(10, n)): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

function runChild(mode: string, env: Record<string, string>): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/ingest-child.ts', mode], {
    env: { ...process.env, ...env, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

const work = mkdtempSync(join(tmpdir(), 'pricecast-bench-'));
const server = await startEmbeddedPostgres();
try {
  await server.createDatabase('shop');
  const url = server.url('shop');
  let pool = benchPool(url);
  await createSourceSchema(pool, 'pricing-platform');
  const tGen = performance.now();
  const client = await pool.connect();
  await generatePricingPlatform(client, { orders: ORDERS, seed: 7, end: new Date('2026-11-01T00:00:00Z') });
  client.release();
  if (CURSOR_INDEXES) for (const ddl of CURSOR_INDEX_DDL) await pool.query(ddl);
  await pool.query('VACUUM ANALYZE');
  console.log(`generated ${ORDERS.toLocaleString()} orders in ${fmt((performance.now() - tGen) / 1000)} s${CURSOR_INDEXES ? ' (cursor columns indexed: BENCH_CURSOR_INDEXES=1)' : ''}`);

  const env = { SOURCE_DATABASE_URL: url, DUCKDB_PATH: join(work, 'bench.duckdb') };
  const config = loadConfig(env);

  // 1. Raw COPY of exactly the rows the profile selects, into a sink that only counts bytes.
  const profile = configuredProfile(config);
  flushWrites();
  const { ms: copyMs, bytes, msByEntity: copyMsByEntity } = await rawCopy(pool, profile.entities);
  type EntityTiming = { entity: string; rows: number; ms: number; stageMs: number; mergeMs: number; commitMs: number };
  flushWrites();
  const full = runChild('full', env) as { rowsIn: number; ingestMs: number; rollupMs: number; totalMs: number; maxRssMb: number; entities: EntityTiming[] };
  console.log('\n## Full ingest');
  console.log(`raw COPY of the profile's rows: ${fmt(copyMs / 1000, 2)} s (${fmt(bytes / 1e6)} MB)`);
  console.log(`pricecast full ingest:          ${fmt(full.ingestMs / 1000, 2)} s for ${full.rowsIn.toLocaleString()} rows = ${fmt(full.rowsIn / (full.ingestMs / 1000), 0)} rows/s (+ rollups ${fmt(full.rollupMs / 1000, 2)} s)`);
  console.log(`throughput vs raw COPY:         ${fmt((100 * copyMs) / full.ingestMs, 0)}% (target ≥ 50%)`);
  console.log(`peak RSS of the ingest process: ${fmt(full.maxRssMb, 0)} MiB (target < 1024)`);
  console.log('entity            rows   raw COPY s   ours s  (pull+stage / checks+merge / commit)');
  for (const e of full.entities) {
    console.log(`${e.entity.padEnd(17)}${String(e.rows).padStart(9)}  ${fmt((copyMsByEntity[e.entity] ?? 0) / 1000, 2).padStart(9)}  ${fmt(e.ms / 1000, 2).padStart(7)}  (${fmt(e.stageMs / 1000, 2)} / ${fmt(e.mergeMs / 1000, 2)} / ${fmt(e.commitMs / 1000, 2)})`);
  }

  // 2. Change 1% of the payments (refunds, which move their cursor) and add 1% new ones, then ingest
  // incrementally. Three rounds, each from the state the full load left (source database and
  // warehouse file restored), and the median reported: one run of about a second moves by ±20% with
  // whatever else this machine is doing, and a round after another would also re-read its rows.
  await pool.end();
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  await admin.query('CREATE DATABASE shop_after_full TEMPLATE shop');
  const warehouseAfterFull = join(work, 'after-full.duckdb');
  copyFileSync(env.DUCKDB_PATH, warehouseAfterFull);
  type Incremental = { rowsIn: number; totalMs: number; ingestMs: number; rollupMs: number; walBytes: number; checkpointMs: number; compactMs: number };
  const restore = async () => {
    await admin.query('DROP DATABASE shop');
    await admin.query('CREATE DATABASE shop TEMPLATE shop_after_full');
    rmSync(`${env.DUCKDB_PATH}.wal`, { force: true });
    copyFileSync(warehouseAfterFull, env.DUCKDB_PATH);
  };
  /** Fresh-process rounds, each from the restored state after `change` (which returns the rows it changed). */
  const freshRounds = async (change: (source: pg.Pool) => Promise<number>) => {
    const runs: (Incremental & { changed: number })[] = [];
    for (let round = 0; round < INCREMENTAL_ROUNDS; round++) {
      if (round > 0) await restore();
      const source = benchPool(url);
      const changed = await change(source);
      await source.end();
      flushWrites();
      runs.push({ ...(runChild('incremental', env) as Incremental), changed });
    }
    return runs;
  };
  const rounds = await freshRounds((source) => changePayments(source, 0.01));
  // The same in a process that has already run an ingest (of 0.01% of the payments), as the service's
  // every-5-minutes job does: DuckDB's buffers and the source pool are warm. The child makes both
  // changes itself, so the restore between rounds is the same.
  const warmRounds = async (childEnv: Record<string, string>) => {
    const runs: Incremental[] = [];
    for (let round = 0; round < INCREMENTAL_ROUNDS; round++) {
      await restore();
      runs.push(runChild('incremental-warm', childEnv) as Incremental);
    }
    return runs;
  };
  const warm = await warmRounds(env);
  // 1% of the rows of every table the profile reads, not of the payments alone.
  await restore();
  const broad = await freshRounds((source) => changeEveryTable(source, 0.01));
  const broadWarm = await warmRounds({ ...env, BENCH_CHANGE: 'every' });
  await admin.query('DROP DATABASE shop_after_full');
  await admin.end();
  rmSync(warehouseAfterFull);
  pool = benchPool(url);
  const median = <R extends Incremental>(runs: R[]) => [...runs].sort((x, y) => x.totalMs - y.totalMs)[Math.floor(runs.length / 2)]!;
  const share = (ms: number) => `${fmt((100 * ms) / full.totalMs, 1)}%`;
  /** "0.45 s (ingest …, rollups …) = 4.6% of the full load; rounds …" for the median of `runs`. */
  const summary = (runs: Incremental[]) => {
    const m = median(runs);
    return `${fmt(m.totalMs / 1000, 2)} s (ingest ${fmt(m.ingestMs / 1000, 2)} s, rollups ${fmt(m.rollupMs / 1000, 2)} s) = ${share(m.totalMs)} of the full load; rounds ${runs.map((r) => share(r.totalMs)).join(', ')}`;
  };
  const inc = median(rounds);
  console.log(`\n## Incremental run after changing 1% of payments (median of ${rounds.length} rounds, each from the state after the full load)`);
  console.log(`rounds:      ${rounds.map((r) => `${fmt(r.totalMs / 1000, 2)} s`).join(', ')}`);
  console.log(`incremental: ${fmt(inc.totalMs / 1000, 2)} s (${inc.rowsIn.toLocaleString()} rows re-read; ingest ${fmt(inc.ingestMs / 1000, 2)} s, rollups ${fmt(inc.rollupMs / 1000, 2)} s)`);
  console.log(`full load:   ${fmt(full.totalMs / 1000, 2)} s`);
  console.log(`cost ratio:  ${share(inc.totalMs)} of the full load (target ≤ 5%); rounds ${rounds.map((r) => share(r.totalMs)).join(', ')}`);
  console.log(`in a warm process (after an ingest of 0.01%, as the service runs it): ${summary(warm)}`);
  // The run's WAL is written into the file by a later checkpoint; charge each run its share of one.
  const threshold = bytesOf(config.DUCKDB_CHECKPOINT_THRESHOLD);
  const runsPerCheckpoint = Math.max(1, Math.floor(threshold / Math.max(1, inc.walBytes)));
  const amortised = inc.totalMs + inc.checkpointMs / runsPerCheckpoint;
  if (inc.walBytes === 0) {
    // A commit too big for the WAL checkpoints at once: the run already paid for its checkpoint.
    console.log('checkpoint:  inside the run (it left nothing in the WAL)');
  } else {
    console.log(`checkpoint:  ${fmt(inc.checkpointMs / 1000, 2)} s for the ${fmt(inc.walBytes / 1e6)} MB of WAL the run left; at ${config.DUCKDB_CHECKPOINT_THRESHOLD} one per ~${runsPerCheckpoint} such runs`);
    console.log(`with its share of the checkpoint: ${fmt(amortised / 1000, 2)} s = ${share(amortised)} of the full load; with a whole one: ${share(inc.totalMs + inc.checkpointMs)}`);
  }
  console.log(`compaction:  ${fmt(inc.compactMs / 1000, 2)} s to merge the rows the run appended to the summing rollups, with its checkpoint (daily, or once they pass ${fmt(100 * COMPACT_SHARE, 0)}% of a table; not in the run)`);
  const b = median(broad);
  console.log(`after changing 1% of every table's rows instead (${b.changed.toLocaleString()} rows changed, ${b.rowsIn.toLocaleString()} re-read), in a fresh process: ${summary(broad)}`);
  console.log(`  in a warm process (after an ingest of 0.01% of every table): ${summary(broadWarm)}`);

  // 3. KPI endpoints over HTTP vs the same aggregate in PostgreSQL. The PostgreSQL summary computes
  // a subset of the endpoint's metrics (no new customers, MRR, churn or previous period), so its
  // ratio is a lower bound.
  const { key, entry } = generateApiKey(config.TENANT_ID);
  const apiConfig = loadConfig({ ...env, API_KEYS: entry });
  const warehouse = await Warehouse.fromConfig(apiConfig);
  const cache = new KpiCache();
  const app = createApp({ config: apiConfig, warehouse, logger: pino({ level: 'silent' }), registry: new Registry(), cache });
  const http = await serve(app, { host: '127.0.0.1', port: 0 });
  const headers = { authorization: `Bearer ${key}` };
  const from = '2025-11-01T00:00:00Z';
  const to = '2026-11-01T00:00:00Z';
  const get = (path: string) => async () => {
    const res = await fetch(`${http.url}${path}`, { headers });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const summaryPath = `/v1/kpis/summary?from=${from}&to=${to}&compare=previous_period`;
  const seriesPath = `/v1/kpis/timeseries?metric=revenue_net&granularity=day&from=${from}&to=${to}&tz=America/New_York`;
  const pgRuns = Math.max(5, Math.round(REQUESTS / 20));
  const pgSummary = await timeMany(pgRuns, () => pool.query(`
    SELECT upper(currency), sum(amount) FILTER (WHERE status IN ('completed','refunded')) AS gross,
           sum(amount) FILTER (WHERE status = 'refunded') AS refunds,
           count(*) FILTER (WHERE status IN ('completed','refunded'))::float / nullif(count(*) FILTER (WHERE status IN ('completed','refunded','failed')), 0) AS success,
           count(DISTINCT user_id) FILTER (WHERE status IN ('completed','refunded')) AS payers,
           (SELECT count(*) FROM orders WHERE created_at >= $1 AND created_at < $2 AND status IN ('completed','refunded')) AS orders,
           (SELECT sum(count) FROM page_views WHERE timestamp >= $1 AND timestamp < $2) AS views
    FROM payments WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`, [from, to]), 1);
  const pgSeries = await timeMany(pgRuns, () => pool.query(`
    SELECT date_trunc('day', (created_at AT TIME ZONE 'UTC') AT TIME ZONE 'America/New_York') AS d,
           sum(amount) FILTER (WHERE status = 'completed') AS net
    FROM payments WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1`, [from, to]), 1);
  console.log(`\n## KPI API over HTTP (${REQUESTS} sequential requests, one-year range) vs the same aggregate in PostgreSQL`);
  console.log(`PostgreSQL: summary p50 ${fmt(pgSummary.p50, 1)} ms, p99 ${fmt(pgSummary.p99, 1)} ms | timeseries p50 ${fmt(pgSeries.p50, 1)} ms, p99 ${fmt(pgSeries.p99, 1)} ms`);
  // Cache off first: every request computes from the rollups. Then on: what a polling dashboard sees.
  for (const enabled of [false, true]) {
    cache.enabled = enabled;
    cache.invalidate();
    const summary = await timeMany(REQUESTS, get(summaryPath));
    const series = await timeMany(REQUESTS, get(seriesPath));
    console.log(`cache ${enabled ? 'on ' : 'off'}: summary p50 ${fmt(summary.p50, 2)} ms, p99 ${fmt(summary.p99, 2)} ms (${fmt(pgSummary.p50 / summary.p50, 0)}x PostgreSQL at p50, ${fmt(pgSummary.p99 / summary.p99, 0)}x at p99) | timeseries p50 ${fmt(series.p50, 2)} ms, p99 ${fmt(series.p99, 2)} ms (${fmt(pgSeries.p50 / series.p50, 0)}x, ${fmt(pgSeries.p99 / series.p99, 0)}x)`);
  }
  await http.close(1000);
  await warehouse.close();
  await pool.end();
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
if (MODELS) await benchModels();
