/**
 * `npm run bench:tenants` — ingest and every model for many tenants on one machine (profile
 * b2b-distribution, tenant = distributor). BENCH_TENANT_COUNTS (default "10,100") tenants of
 * BENCH_TENANT_ORDERS (default 10,000) orders each; for each count: the full ingest against a raw
 * `COPY (profile SELECT) TO STDOUT` of the same rows, the rollups and each model job, and the cost
 * per tenant, so the growth with tenants reads as a ratio of two runs in the same command. Prints
 * figures, asserts nothing. (The generator is slow — about 60 s per 100k orders, mostly the message
 * threads — and is timed apart.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { capabilities, jobApplies } from '../src/ingest/capabilities.ts';
import { configuredProfile } from '../src/ingest/profile.ts';
import { ingestAll } from '../src/ingest/run.ts';
import { defineJobs } from '../src/jobs/definitions.ts';
import { startEmbeddedPostgres } from '../src/source/embedded-postgres.ts';
import { createSourceSchema } from '../src/source/schema.ts';
import { generateB2bDistribution } from '../src/synth/b2b-distribution.ts';
import { Warehouse } from '../src/warehouse/warehouse.ts';
import { rawCopy } from './raw-copy.ts';

const COUNTS = (process.env.BENCH_TENANT_COUNTS ?? '10,100').split(',').map(Number);
const PER_TENANT = Number(process.env.BENCH_TENANT_ORDERS ?? 10_000);
const s = (ms: number) => (ms / 1000).toFixed(1);

interface Row { tenants: number; orders: number; copy: number; stages: Record<string, number>; total: number; rssMb: number }

export async function benchTenants(): Promise<void> {
  console.log(`\n## Tenants (b2b-distribution, ${PER_TENANT.toLocaleString()} orders per tenant)`);
  const server = await startEmbeddedPostgres();
  const work = mkdtempSync(join(tmpdir(), 'pricecast-tenants-'));
  const rows: Row[] = [];
  try {
    for (const n of COUNTS) {
      const dbName = `b2b_${n}`;
      await server.createDatabase(dbName);
      const url = server.url(dbName);
      const pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC' });
      await createSourceSchema(pool, 'b2b-distribution');
      const client = await pool.connect();
      const tGen = performance.now();
      const truth = await generateB2bDistribution(client, { seed: 3, tenants: n, orders: n * PER_TENANT, days: 365, end: new Date('2026-11-01T00:00:00Z') });
      client.release();
      await pool.query('VACUUM ANALYZE');
      console.log(`${n} tenants: generated ${truth.orders.toLocaleString()} orders in ${s(performance.now() - tGen)} s`);

      const config = loadConfig({ PROFILE: 'b2b-distribution', SOURCE_DATABASE_URL: url, DUCKDB_PATH: join(work, `w${n}.duckdb`), LOG_LEVEL: 'warn' });
      const copy = (await rawCopy(pool, configuredProfile(config).entities)).ms;
      const warehouse = await Warehouse.fromConfig(config);
      const ctx = { config, warehouse, source: pool };
      const jobs = defineJobs(ctx);
      const stages: Record<string, number> = {};
      let peak = process.memoryUsage().rss;
      const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
      const time = async (name: string, fn: () => Promise<unknown>) => {
        const t = performance.now();
        await fn();
        stages[name] = performance.now() - t;
      };
      await time('ingest', () => ingestAll(ctx, { mode: 'full' }));
      await time('rollups', () => jobs.rollups!({ jobRunId: null } as never));
      const caps = capabilities(configuredProfile(config));
      for (const job of ['forecast', 'pricing', 'experiments', 'customers'].filter((j) => jobApplies(caps, j))) {
        await time(job, () => jobs[job]!({ jobRunId: null } as never));
      }
      clearInterval(sample);
      const total = Object.values(stages).reduce((a, b) => a + b, 0);
      rows.push({ tenants: n, orders: truth.orders, copy, stages, total, rssMb: peak / 2 ** 20 });
      await warehouse.close();
      await pool.end();
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
  // Jobs of analyses the profile lacks (pricing, experiments here) are not run, as the scheduler skips them.
  const stageNames = Object.keys(rows[0]?.stages ?? {});
  console.log(`\n| tenants | orders | raw COPY s | ${stageNames.map((n) => `${n} s`).join(' | ')} | total s | ms per tenant | ingest vs COPY | peak RSS MiB |`);
  console.log(`|${'---|'.repeat(stageNames.length + 7)}`);
  for (const r of rows) {
    console.log(`| ${r.tenants} | ${r.orders.toLocaleString()} | ${s(r.copy)} | ${stageNames.map((n) => s(r.stages[n]!)).join(' | ')} | ${s(r.total)} | `
      + `${(r.total / r.tenants).toFixed(0)} | ${(r.copy / r.stages.ingest! * 100).toFixed(0)}% | ${r.rssMb.toFixed(0)} |`);
  }
  if (rows.length >= 2) {
    const [a, b] = [rows[0]!, rows.at(-1)!];
    console.log(`\n${b.tenants / a.tenants}x the tenants (and orders) cost ${(b.total / a.total).toFixed(2)}x the time: ` +
      Object.keys(a.stages).map((k) => `${k} ${(b.stages[k]! / a.stages[k]!).toFixed(2)}x`).join(', '));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchTenants();
