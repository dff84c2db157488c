import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open as openFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Warehouse, WriterLane } from '../warehouse/warehouse.ts';
import type { EntitySpec } from './entities.ts';
import { getWatermark, loadBatch, type BatchHooks, type BatchInput, type BatchResult } from './load-batch.ts';
import { configuredProfile, profileLocation, type Profile } from './profile.ts';
import { keyTextSql, sqlString } from './merge-sql.ts';
import { copyThroughPipe, copyToFile, pullQuery, queryColumns } from './pull.ts';
import { fingerprintHex, rowHashSql } from './row-hash.ts';

export interface IngestContext {
  config: Pick<Config, 'PROFILE' | 'PROFILE_DIR' | 'TENANT_ID' | 'DEFAULT_CURRENCY' | 'LOOKBACK_MINUTES' | 'DUCKDB_PATH'>;
  warehouse: Warehouse;
  source: pg.Pool;
  logger?: Logger;
}

export interface IngestOptions {
  /** `full` ignores watermarks and re-reads everything (still an idempotent upsert). */
  mode?: 'incremental' | 'full';
  /** Only these entities (default: all the profile maps). */
  entities?: string[];
  jobRunId?: number | null;
  hooks?: BatchHooks & { afterBatch?: (entity: string, result: BatchResult) => void | Promise<void> };
}

export interface EntityResult extends BatchResult {
  entity: string;
  since: string | null;
  ms: number;
}

export interface IngestSummary {
  entities: EntityResult[];
  rowsIn: number;
  rowsOut: number;
  rejected: number;
}

export function sourceName(ctx: IngestContext): string {
  return `postgres:${profileLocation(ctx.config).name}`;
}

export function profileOf(ctx: IngestContext): Profile {
  return configuredProfile(ctx.config);
}

/** Scratch path for COPY pipes and key lists, beside the DuckDB file (removed after each use). */
export function scratchFile(ctx: { config: Pick<Config, 'DUCKDB_PATH'> }, tag: string, ext = 'csv'): string {
  const base = ctx.config.DUCKDB_PATH === ':memory:' ? join(process.cwd(), 'data') : dirname(ctx.config.DUCKDB_PATH);
  const dir = join(base, 'tmp');
  mkdirSync(dir, { recursive: true });
  removeOrphans(dir);
  return join(dir, `${tag}-${process.pid}-${randomBytes(4).toString('hex')}.${ext}`);
}

const swept = new Set<string>();

/** Pipes and key lists left by a process that died mid-run (their names carry its pid). */
function removeOrphans(dir: string): void {
  if (swept.has(dir)) return;
  swept.add(dir);
  for (const name of readdirSync(dir)) {
    const pid = Number(/-(\d+)-[0-9a-f]{8}\.\w+$/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid)) rmSync(join(dir, name), { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `watermark − lookback`, so rows that committed late with an older timestamp are read again. */
export function sinceFor(watermark: string | null, lookbackMinutes: number): string | null {
  if (!watermark) return null;
  const t = Date.parse(`${watermark.replace(' ', 'T')}Z`);
  if (Number.isNaN(t)) throw new Error(`unreadable watermark ${watermark}`);
  return new Date(t - lookbackMinutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Streams one query's rows from PostgreSQL into a canonical table through a named pipe, as one
 * batch (one transaction with its watermark).
 */
export async function pullAndLoad(
  ctx: IngestContext,
  spec: EntitySpec,
  profileSql: string,
  query: string,
  opts: { jobRunId?: number | null; hooks?: BatchHooks } = {},
): Promise<BatchResult> {
  const header = await queryColumns(ctx.source, profileSql);
  const path = scratchFile(ctx, spec.entity, 'pipe');
  return loadBatch(ctx.warehouse, {
    source: sourceName(ctx),
    spec,
    input: { header, path, feed: (read) => copyThroughPipe(ctx.source, query, path, read) },
    jobRunId: opts.jobRunId ?? null,
    hooks: opts.hooks,
    lookbackMinutes: ctx.config.LOOKBACK_MINUTES,
  });
}

/** Past this many rows seen inside the lookback window, the pull re-reads them rather than list them. */
const SEEN_LIMIT = 5_000;

/**
 * A predicate leaving out of a pull the rows the warehouse already holds as they are: those
 * ingest_recent lists (key and row fingerprint, inside the lookback window) whose fingerprint the
 * source still computes. Every run re-reads the window for rows that committed late; without this,
 * each entity paid a whole batch (20-100 ms) to find them unchanged. Null when there is nothing to
 * leave out or too much to list.
 */
async function seenFilter(ctx: IngestContext, spec: EntitySpec, header: string[], since: string): Promise<string | null> {
  const seen = await ctx.warehouse.query<{ key: string; h: string }>(
    `SELECT key, row_hash::VARCHAR AS h FROM ingest_recent WHERE source = $source AND entity = $entity AND cursor_ts >= $since::TIMESTAMP LIMIT ${SEEN_LIMIT + 1}`,
    { source: sourceName(ctx), entity: spec.entity, since },
  );
  if (seen.length === 0 || seen.length > SEEN_LIMIT) return null;
  const keys = [...new Set(seen.map((r) => r.key))].map((k) => `(${sqlString(k)})`).join(', ');
  const pairs = seen.map((r) => `(${sqlString(r.key)}, ${sqlString(fingerprintHex(r.h))})`).join(', ');
  // Neither side can be NULL (concat_ws and md5 never are), so NOT IN means what it says. The key test
  // comes first and OR stops at it, so only the listed keys' rows compute the row hash: formatting
  // and hashing every column cost ~5 µs a row, 50 ms of a 1M-row table's pull that matched 10k rows.
  const key = keyTextSql(spec, 'q', 'postgres');
  return `(${key} NOT IN (VALUES ${keys}) OR (${key}, ${rowHashSql(header, 'q', 'postgres')}) NOT IN (VALUES ${pairs}))`;
}

/** True when a pulled CSV holds its header line only. */
async function headerOnly(path: string): Promise<boolean> {
  const fh = await openFile(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size > 1 << 16) return false;
    const text = (await fh.readFile('utf8')).trimEnd();
    return !text.includes('\n');
  } finally {
    await fh.close();
  }
}

/** Incremental pulls running at once: the source's scans, DuckDB's loads and Node share the cores. */
const PULLS_AT_ONCE = 2;

/**
 * Writer connections an incremental ingest loads its entities on at once. Two, as the cores here: at
 * 1M orders with 1% of every table changed, the small batches then load beside the orders and
 * payments ones, and the run took 717 ms instead of 764 (medians of 8 alternating rounds).
 */
const LOAD_LANES = 2;

/** An incremental pull already under way into a file; `input` settles when the file is complete. */
interface Prefetch {
  path: string;
  input: Promise<BatchInput>;
}

function prefetch(ctx: IngestContext, spec: EntitySpec, profileSql: string, since: string, after: Promise<unknown>): Prefetch {
  const path = scratchFile(ctx, spec.entity);
  const input = after.catch(() => undefined).then(async () => {
    const header = await queryColumns(ctx.source, profileSql);
    const exclude = await seenFilter(ctx, spec, header, since);
    await copyToFile(ctx.source, pullQuery(profileSql, { since, exclude: exclude ?? undefined }), path);
    return { header, path };
  });
  // Awaited later (or never, if an earlier entity fails): a failure must not go unhandled meanwhile.
  input.catch(() => undefined);
  return { path, input };
}

/**
 * Pulls every entity of the profile from PostgreSQL into the warehouse, one entity per transaction,
 * taken in the profile's order. Each entity's batch and watermark commit together.
 *
 * Incremental pulls (an entity with a watermark) run ahead of the loads, each into a file, two at a
 * time: PostgreSQL scans the next entities while DuckDB loads the ones that landed, on LOAD_LANES
 * writer connections (no entity's batch reads another's table, so their order does not matter).
 * The source's cursor columns are rarely indexed, so those scans, not the few changed rows, are most
 * of an incremental run. A first or full load streams through a pipe instead, one entity at a time:
 * it may be the whole table, which should never land on disk.
 */
export async function ingestAll(ctx: IngestContext, opts: IngestOptions = {}): Promise<IngestSummary> {
  const profile = profileOf(ctx);
  const source = sourceName(ctx);
  const plans: { spec: EntitySpec; sql: string; since: string | null; pulled?: Prefetch }[] = [];
  for (const { spec, sql } of profile.entities) {
    if (opts.entities && !opts.entities.includes(spec.entity)) continue;
    const wm = opts.mode === 'full' ? null : await getWatermark(ctx.warehouse, source, spec.entity);
    plans.push({ spec, sql, since: sinceFor(wm, ctx.config.LOOKBACK_MINUTES) });
  }
  // PULLS_AT_ONCE chains, each pull starting when the one before it in its chain has landed: the
  // first entities land early (DuckDB starts loading) instead of all sharing the cores until late.
  const chains: Promise<unknown>[] = Array.from({ length: PULLS_AT_ONCE }, () => Promise.resolve());
  for (const [i, plan] of plans.entries()) {
    if (plan.since === null) continue;
    plan.pulled = prefetch(ctx, plan.spec, plan.sql, plan.since, chains[i % PULLS_AT_ONCE]!);
    chains[i % PULLS_AT_ONCE] = plan.pulled.input;
  }
  const results: EntityResult[] = [];
  const batch = { jobRunId: opts.jobRunId ?? null, hooks: opts.hooks, lookbackMinutes: ctx.config.LOOKBACK_MINUTES };
  const loadOne = async (plan: (typeof plans)[number], writer?: WriterLane): Promise<EntityResult> => {
    const { spec, sql, since, pulled } = plan;
    const started = Date.now();
    const input = pulled && (await pulled.input);
    // Nothing new or changed at the source: no batch, and the watermark stays where it is.
    const result = input && (await headerOnly(input.path))
      ? { rowsIn: 0, rowsOut: 0, rejected: 0, watermark: null }
      : input
        ? await loadBatch(ctx.warehouse, { source, spec, input, writer, ...batch })
        : await pullAndLoad(ctx, spec, sql, pullQuery(sql), batch);
    const entry = { entity: spec.entity, since, ms: Date.now() - started, ...result };
    ctx.logger?.debug({ ...entry }, 'ingested entity');
    await opts.hooks?.afterBatch?.(spec.entity, result);
    return entry;
  };
  try {
    if (plans.length > 1 && plans.every((p) => p.pulled)) {
      // Every entity incremental: the lanes take the entities in order, each loading on its own writer
      // connection, so the small batches load beside the large ones instead of after them.
      const done: EntityResult[] = [];
      await ctx.warehouse.withLanes(LOAD_LANES, async (lanes) => {
        let next = 0;
        let failed = false;
        const settled = await Promise.allSettled(lanes.map(async (lane) => {
          while (!failed && next < plans.length) {
            const i = next++;
            try {
              done[i] = await loadOne(plans[i]!, lane);
            } catch (err) {
              failed = true;
              throw err;
            }
          }
        }));
        const error = settled.find((l) => l.status === 'rejected');
        if (error) throw error.reason;
      });
      results.push(...done);
    } else {
      for (const plan of plans) results.push(await loadOne(plan));
    }
  } finally {
    await Promise.allSettled(plans.map((p) => p.pulled?.input));
    await Promise.all(plans.map((p) => p.pulled && rm(p.pulled.path, { force: true })));
  }
  return {
    entities: results,
    rowsIn: results.reduce((s, r) => s + r.rowsIn, 0),
    rowsOut: results.reduce((s, r) => s + r.rowsOut, 0),
    rejected: results.reduce((s, r) => s + r.rejected, 0),
  };
}
