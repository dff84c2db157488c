import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Warehouse } from '../../src/warehouse/warehouse.ts';
import { loadConfig } from '../../src/config.ts';
import { generatedSource, tempDir, type SourceDb } from '../helpers/source-db.ts';

const run = promisify(execFile);

/** `pricecast <args>` in a child process with exactly `env` (nothing of this process's settings leaks in). */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['bin/pricecast.mjs', ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', ...env },
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the pricecast command', () => {
  const dir = tempDir();
  const DUCKDB_PATH = join(dir.path, 'w.duckdb');
  let db: SourceDb;
  let experiments: number;

  beforeAll(async () => {
    const generated = await generatedSource({ seed: 5, orders: 3000, products: 30, days: 120, end: new Date('2026-09-15T00:00:00Z') });
    db = generated.db;
    experiments = generated.truth.experiments.length;
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    dir.remove();
  });

  it('names a missing setting a command needs with every other problem, and exits with 2', async () => {
    const r = await cli(['serve'], { DUCKDB_PATH, PORT: 'eighty' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Invalid configuration');
    expect(r.stderr).toMatch(/PORT: /);
    expect(r.stderr).toContain('SOURCE_DATABASE_URL: required for serve');
    expect(r.stderr).not.toMatch(/\n\s+at /); // a list, not a stack trace
    const stripe = await cli(['stripe'], { DUCKDB_PATH });
    expect(stripe.code).toBe(2);
    expect(stripe.stderr).toContain('STRIPE_API_KEY: required for stripe');
  });

  it('computes the rollups and every model the profile supports from the warehouse alone', async () => {
    const ingest = await cli(['ingest'], { DUCKDB_PATH, SOURCE_DATABASE_URL: db.url });
    expect(ingest.code, ingest.stderr).toBe(0);
    // Without SOURCE_DATABASE_URL: compute reads and writes the warehouse only.
    const r = await cli(['compute'], { DUCKDB_PATH });
    expect(r.code, r.stderr).toBe(0);
    const results = JSON.parse(r.stdout) as Record<string, { rowsOut?: number }>;
    expect(Object.keys(results)).toEqual(['rollups', 'forecast', 'pricing', 'experiments', 'customers']);
    expect(results.experiments?.rowsOut).toBe(experiments);
    const products = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM products');
    expect(results.pricing?.rowsOut).toBe(Number(products.rows[0]!.n));
    // Scored: every customer, those without a purchase too.
    const users = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM users');
    expect(results.customers?.rowsOut).toBe(Number(users.rows[0]!.n));

    const wh = await Warehouse.fromConfig(loadConfig({ DUCKDB_PATH }));
    try {
      const runs = await wh.query<{ job: string; status: string }>('SELECT job, status FROM job_runs ORDER BY id');
      expect(runs).toEqual(['rollups', 'forecast', 'pricing', 'experiments', 'customers'].map((job) => ({ job, status: 'succeeded' })));
    } finally {
      await wh.close();
    }
  }, 120_000);

  it('wants the source for compute only while a write-back is on', async () => {
    const r = await cli(['compute', 'forecast'], { DUCKDB_PATH, FORECAST_WRITE_BACK: 'true' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SOURCE_DATABASE_URL: required for compute while FORECAST_WRITE_BACK is on');
    const unknown = await cli(['compute', 'ingest'], { DUCKDB_PATH });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/compute runs rollups, forecast.*not ingest/);
  });
});
