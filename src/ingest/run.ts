import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Warehouse } from '../warehouse/warehouse.ts';
import { getWatermark, loadBatch, removeFile, type BatchHooks, type BatchResult } from './load-batch.ts';
import { loadProfile, type Profile } from './profile.ts';
import { copyToFile, pullQuery } from './pull.ts';

export interface IngestContext {
  config: Pick<Config, 'PROFILE' | 'TENANT_ID' | 'DEFAULT_CURRENCY' | 'LOOKBACK_MINUTES' | 'DUCKDB_PATH'>;
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
  return `postgres:${ctx.config.PROFILE}`;
}

export function profileOf(ctx: IngestContext): Profile {
  return loadProfile(ctx.config.PROFILE, { tenantId: ctx.config.TENANT_ID, currency: ctx.config.DEFAULT_CURRENCY });
}

/** Scratch directory for COPY files, beside the DuckDB file (same disk, cleaned per batch). */
export function scratchFile(ctx: IngestContext, tag: string): string {
  const base = ctx.config.DUCKDB_PATH === ':memory:' ? join(process.cwd(), 'data') : dirname(ctx.config.DUCKDB_PATH);
  const dir = join(base, 'tmp');
  mkdirSync(dir, { recursive: true });
  return join(dir, `${tag}-${process.pid}-${randomBytes(4).toString('hex')}.csv`);
}

/** `watermark − lookback`, so rows that committed late with an older timestamp are read again. */
export function sinceFor(watermark: string | null, lookbackMinutes: number): string | null {
  if (!watermark) return null;
  const t = Date.parse(`${watermark.replace(' ', 'T')}Z`);
  if (Number.isNaN(t)) throw new Error(`unreadable watermark ${watermark}`);
  return new Date(t - lookbackMinutes * 60_000).toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * Pulls every entity of the profile from PostgreSQL into the warehouse, one entity per transaction,
 * dimensions before facts. Each entity's batch and watermark commit together.
 */
export async function ingestAll(ctx: IngestContext, opts: IngestOptions = {}): Promise<IngestSummary> {
  const profile = profileOf(ctx);
  const source = sourceName(ctx);
  const todo = profile.entities.filter(({ spec }) => !opts.entities || opts.entities.includes(spec.entity));

  // PostgreSQL streams the next entity while DuckDB loads the current one: on two cores the pull and
  // the load overlap instead of adding up. Commits still happen one entity at a time, in order.
  const pull = async (i: number) => {
    const { spec, sql } = todo[i]!;
    const started = Date.now();
    const wm = opts.mode === 'full' ? null : await getWatermark(ctx.warehouse, source, spec.entity);
    const since = sinceFor(wm, ctx.config.LOOKBACK_MINUTES);
    const file = scratchFile(ctx, spec.entity);
    try {
      await copyToFile(ctx.source, pullQuery(sql, { since }), file);
    } catch (err) {
      await removeFile(file);
      throw err;
    }
    return { spec, since, file, started };
  };

  const results: EntityResult[] = [];
  let next = todo.length ? pull(0) : null;
  try {
    for (let i = 0; i < todo.length; i++) {
      const pulled = await next!;
      next = i + 1 < todo.length ? pull(i + 1) : null;
      // Keep a failed prefetch from surfacing as an unhandled rejection while this batch loads.
      next?.catch(() => undefined);
      try {
        const result = await loadBatch(ctx.warehouse, { source, spec: pulled.spec, file: pulled.file, jobRunId: opts.jobRunId ?? null, hooks: opts.hooks });
        const entry = { entity: pulled.spec.entity, since: pulled.since, ms: Date.now() - pulled.started, ...result };
        results.push(entry);
        ctx.logger?.debug({ ...entry }, 'ingested entity');
        await opts.hooks?.afterBatch?.(pulled.spec.entity, result);
      } finally {
        await removeFile(pulled.file);
      }
    }
  } finally {
    // On failure, let a prefetch in flight finish and remove its file.
    if (next) await next.then((p) => removeFile(p.file)).catch(() => undefined);
  }
  return {
    entities: results,
    rowsIn: results.reduce((s, r) => s + r.rowsIn, 0),
    rowsOut: results.reduce((s, r) => s + r.rowsOut, 0),
    rejected: results.reduce((s, r) => s + r.rejected, 0),
  };
}
